import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CaptureInfo } from '../decode/index.js';
import { ExitError } from '../errors.js';
import type { Conn } from './conn.js';
import type { ConnSink } from './tracker.js';
import { INDEX_SQL, SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import { RowWriter } from './writer.js';

/** Rows written per transaction: large enough that commits cost little, small enough to bound memory. */
const BATCH_ROWS = 4000;

/** Set on every connection to the store, the writer thread's included. */
const PRAGMAS = [
  // One writer, batch job: durability is not needed while building (a crash leaves a store to rebuild).
  'journal_mode = MEMORY',
  'synchronous = OFF',
  'cache_size = -65536', // 64 MiB of page cache: bulk inserts stay in memory until commit
  // One program writes every row in order; checking references per insert cost ~30% of load time.
  'foreign_keys = OFF',
];

/**
 * The writer thread only appends a batch (~3 MB) per transaction: a small cache holds it,
 * and the 64 MiB one would add to peak memory on top of this thread's.
 */
const WRITER_CACHE = 'cache_size = -16384';

/**
 * The connection store. Owns the database handle, the pending batch and the writer
 * thread that inserts batches (writer.ts); `flush(conn)` is the tracker's sink.
 */
export class Store implements ConnSink {
  readonly db: Database.Database;
  private readonly tempDir: string | null;
  private pending: Conn[] = [];
  /** Started at the first batch, ended by index() or close(). */
  private writer: RowWriter | null = null;
  written = 0;

  /** Open (or create) a store. Without a path it lives in a temporary directory removed by close(). */
  static open(path?: string): Store {
    if (path !== undefined) {
      if (existsSync(path) && statSync(path).isDirectory()) throw new ExitError(2, `${path}: is a directory, not a database file`);
      return new Store(new Database(path), null);
    }
    const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-'));
    return new Store(new Database(join(dir, 'store.sqlite')), dir);
  }

  /** Open an existing store for reading and re-running detectors. */
  static openExisting(path: string): Store {
    if (!existsSync(path)) throw new ExitError(2, `${path}: no such database`);
    let db: Database.Database;
    try {
      db = new Database(path, { fileMustExist: true });
      db.prepare('SELECT 1 FROM connections LIMIT 1').get();
    } catch {
      throw new ExitError(2, `${path}: not a tcpdiag database`);
    }
    return new Store(db, null);
  }

  private constructor(db: Database.Database, tempDir: string | null) {
    this.db = db;
    this.tempDir = tempDir;
    for (const p of PRAGMAS) db.pragma(p);
    const version = db.pragma('user_version', { simple: true }) as number;
    const hasTables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='connections'").pluck().get() as number;
    if (hasTables > 0 && version !== SCHEMA_VERSION) {
      throw new ExitError(2, `${db.name}: store schema version ${version}, this tcpdiag writes version ${SCHEMA_VERSION}; use a new --db file`);
    }
    db.exec(SCHEMA_SQL);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  /** Register a capture point before reading it; returns its id. */
  addCapture(path: string, name = captureName(path), grouping: CaptureGrouping = 'file'): number {
    this.settle();
    const r = this.db.prepare('INSERT INTO captures (path, name, frames, tcp_packets, grouping) VALUES (?, ?, 0, 0, ?)').run(path, name, grouping);
    return Number(r.lastInsertRowid);
  }

  /** One file of a capture point, after reading it. */
  addPiece(captureId: number, seq: number, info: CaptureInfo, sha256: string | null, firstFrame: number): void {
    this.settle();
    this.db.prepare(`INSERT INTO capture_pieces (capture_id, seq, path, name, content_sha256, first_frame, frames, first_ts_usec, last_ts_usec, error)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(captureId, seq, info.path, captureName(info.path), sha256, firstFrame + 1, info.frames,
      info.firstTsUsec, info.lastTsUsec, info.error ? info.error.message : null);
  }

  /** Files already in the store by content: SHA-256 -> the capture and the path it was read from. */
  piecesByHash(): Map<string, { captureId: number; path: string }> {
    this.settle();
    const out = new Map<string, { captureId: number; path: string }>();
    for (const r of this.db.prepare('SELECT capture_id, path, content_sha256 FROM capture_pieces WHERE content_sha256 IS NOT NULL ORDER BY capture_id, seq').all() as { capture_id: number; path: string; content_sha256: string }[]) {
      if (!out.has(r.content_sha256)) out.set(r.content_sha256, { captureId: r.capture_id, path: r.path });
    }
    return out;
  }

  /** Remove a capture point and everything read from it (a duplicate found only after reading a stream). */
  removeCapture(id: number): void {
    this.settle();
    for (const t of ['events', 'connections', 'capture_pieces']) this.db.prepare(`DELETE FROM ${t} WHERE capture_id = ?`).run(id);
    this.db.prepare('DELETE FROM captures WHERE id = ?').run(id);
  }

  /** What the capture point's source and narrowing were. */
  describeCapture(id: number, d: { source: string; sha256: string | null; filter: string | null; filteredPackets: number }): void {
    this.settle();
    this.db.prepare('UPDATE captures SET source=?, content_sha256=?, filter=?, filtered_packets=? WHERE id=?').run(d.source, d.sha256, d.filter, d.filteredPackets, id);
  }

  /** Record what reading the capture found (counts, time span, any error). */
  finishCapture(id: number, info: CaptureInfo): void {
    this.settle();
    this.db.prepare(`UPDATE captures SET format=?, compression=?, link_types=?, frames=?, tcp_packets=?, first_ts_usec=?,
      last_ts_usec=?, skipped=?, truncated_packets=?, bytes_read=?, error=?, error_offset=? WHERE id=?`).run(
      info.format ?? null, info.compression ?? null, JSON.stringify(info.linkTypes ?? []), info.frames, info.tcpPackets,
      info.firstTsUsec ?? null, info.lastTsUsec ?? null, JSON.stringify(info.skipped ?? {}), info.truncatedPackets ?? 0,
      info.bytesRead ?? null, info.error ? info.error.message : null, info.error ? info.error.byteOffset : null, id);
  }

  /** Highest connection id so far, so a new capture's tracker continues the numbering. */
  maxConnId(): number {
    this.settle();
    return (this.db.prepare('SELECT coalesce(max(id), 0) FROM connections').pluck().get() as number);
  }

  setSetting(key: string, value: string | number): void {
    this.settle();
    this.db.prepare('INSERT OR REPLACE INTO settings VALUES (?, ?)').run(key, String(value));
  }

  getSetting(key: string): string | undefined {
    return this.db.prepare('SELECT value FROM settings WHERE key = ?').pluck().get(key) as string | undefined;
  }

  flush(c: Conn): void {
    this.pending.push(c);
    if (this.pending.length >= BATCH_ROWS) this.commit();
  }

  /** Hand the pending batch to the writer thread (it commits it while tracking goes on). */
  commit(): void {
    if (this.pending.length === 0) return;
    this.writer ??= new RowWriter(this.db.name, [...PRAGMAS, WRITER_CACHE]);
    this.writer.write(this.pending, (c) => !isPlain(c));
    this.written += this.pending.length;
    this.pending = [];
  }

  /** Every row written and committed, so this connection can read or write the store. */
  private settle(): void {
    this.commit();
    this.writer?.drain();
  }

  /** Build the query indexes (after loading: cheaper than keeping them up to date per row). */
  index(): void {
    this.commit();
    // The writer's page cache is not needed for reading: end the thread before the detectors run.
    this.writer?.close();
    this.writer = null;
    this.db.exec(INDEX_SQL);
    // Detectors read with their own bounded state; a large page cache here is only resident memory.
    this.db.pragma('cache_size = -16384');
  }

  close(): void {
    try {
      this.commit();
      this.writer?.close();
    } finally {
      this.writer = null;
      this.db.close();
    }
    if (this.tempDir !== null) rmSync(this.tempDir, { recursive: true, force: true });
  }
}

/** How a capture point was formed from files (captures.grouping). */
export type CaptureGrouping = 'file' | 'rotated' | 'point';

/** The name a capture goes by in reports and finding ids: the file name; standard input is "stdin". */
export function captureName(path: string): string {
  return path === '-' ? 'stdin' : basename(path);
}

/**
 * A connection whose key packets are all in its own columns (one SYN, one SYN-ACK as the
 * answer, FINs, no RST): its events would repeat them, and they are most of the rows.
 */
export function isPlain(c: Conn): boolean {
  return c.synCount <= 1 && c.synAckCount <= 1 && c.rstCountC === 0 && c.rstCountS === 0 && c.serverSynCount === 0
    && c.clientSynAckCount === 0 && (c.answer === 'synack' || c.answer === 'none') && c.eventsDropped === 0;
}
