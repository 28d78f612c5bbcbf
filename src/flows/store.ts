import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { clockImplausible, type CaptureInfo } from '../decode/index.js';
import { errnoReason, ExitError, EXIT_ENV } from '../errors.js';
import type { Conn } from './conn.js';
import type { ConnSink } from './tracker.js';
import { APPLICATION_ID, INDEX_SQL, SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import { removeAtExit, removeTempDir } from './tempDirs.js';
import { checkStoreFile, sqliteReason } from './storeFile.js';
import { releaseLock, takeLock } from './writerLock.js';
import { RowWriter } from './writer.js';

/** Rows written per transaction: large enough that commits cost little, small enough to bound memory. */
const BATCH_ROWS = 4000;

/** Set on every connection to the store, the writer thread's included. */
const PRAGMAS = [
  'synchronous = OFF',
  'cache_size = -65536', // 64 MiB of page cache: bulk inserts stay in memory until commit
  // One program writes every row in order; checking references per insert cost ~30% of load time.
  'foreign_keys = OFF',
  // A reader (sqlite3, flows --db) holding the file a moment must not fail a commit.
  'busy_timeout = 5000',
];

/**
 * A temporary store is removed on any fault, so its journal can stay in memory. A kept
 * one (--db) gets the default rollback journal on disk: with the journal in memory, a
 * process killed inside a commit leaves half-written pages and no journal to roll them
 * back (https://www.sqlite.org/pragma.html#pragma_journal_mode), and the store fails
 * PRAGMA integrity_check. With synchronous = OFF the journal costs no fsync: it guards
 * against a killed process, not a power cut.
 */
const TEMP_JOURNAL = 'journal_mode = MEMORY';
const KEPT_JOURNAL = 'journal_mode = DELETE';

/**
 * The writer thread only appends a batch (~3 MB) per transaction: a small cache holds it,
 * and the 64 MiB one would add to peak memory on top of this thread's.
 */
const WRITER_CACHE = 'cache_size = -16384';

type Access = 'write' | 'read' | 'read-only-file';


/**
 * The connection store. Owns the database handle, the pending batch and the writer
 * thread that inserts batches (writer.ts); `flush(conn)` is the tracker's sink.
 */
export class Store implements ConnSink {
  readonly db: Database.Database;
  /** How messages name it: the --db path, or "the temporary store in DIR (TMPDIR)". */
  readonly label: string;
  private readonly tempDir: string | null;
  private readonly pragmas: string[];
  private pending: Conn[] = [];
  /** Started at the first batch, ended by index() or close(). */
  private writer: RowWriter | null = null;
  private locked = false;
  private readonly readOnly: boolean;
  private closed = false;
  written = 0;

  /** Open (or create) a store. Without a path it lives in a temporary directory removed by close(). */
  static open(path?: string): Store {
    if (path !== undefined) {
      checkStoreFile(path, true);
      return Store.make(path, null, [...PRAGMAS, KEPT_JOURNAL], path);
    }
    const base = tmpdir();
    let dir: string;
    try {
      dir = mkdtempSync(join(base, 'tcpdiag-'));
    } catch (e) {
      throw new ExitError(EXIT_ENV, `cannot create the temporary store in ${base} (TMPDIR): ${errnoReason(e)}; set TMPDIR to a writable folder, or keep the store with --db FILE`);
    }
    removeAtExit(dir);
    try {
      return Store.make(join(dir, 'store.sqlite'), dir, [...PRAGMAS, TEMP_JOURNAL], `the temporary store in ${base} (TMPDIR)`);
    } catch (e) {
      removeTempDir(dir);
      throw e;
    }
  }

  /**
   * Open an existing store to re-run detectors (which write findings), or with `readOnly`
   * to read it only (flows --db): then a store this user may not write still opens, as the
   * sqlite3 shell opens one, and no lock is taken.
   */
  static openExisting(path: string, readOnly = false): Store {
    if (checkStoreFile(path, false) === 'empty') throw new ExitError(2, `${path}: an empty file, not a tcpdiag store yet; give captures to read into it`);
    if (readOnly) {
      // A writable store is opened read-write all the same (no lock, nothing written): a run
      // killed mid-commit leaves PATH-journal, and only a writable open rolls it back
      // (https://www.sqlite.org/lockingv3.html#hot_journals), as the sqlite3 shell does.
      let writable = true;
      try { accessSync(path, constants.W_OK); accessSync(dirname(resolve(path)), constants.W_OK); } catch { writable = false; }
      if (!writable && existsSync(`${path}-journal`)) {
        throw new ExitError(EXIT_ENV, `${path}: a run writing it was killed mid-commit and only a writable open can roll its journal (${path}-journal) back; open it once with write access`);
      }
      return Store.make(path, null, PRAGMAS, path, true, writable ? 'read' : 'read-only-file');
    }
    try {
      checkStoreFile(path, true);
    } catch (e) {
      if (e instanceof ExitError && e.code === EXIT_ENV) throw new ExitError(EXIT_ENV, `${e.message} (analyze writes its findings into the store: copy it to a writable folder)`);
      throw e;
    }
    return Store.make(path, null, [...PRAGMAS, KEPT_JOURNAL], path, true);
  }

  /** access: 'write' takes the lock and creates the schema; 'read' only reads ('read-only-file': opened read-only). */
  private static make(path: string, tempDir: string | null, pragmas: string[], label: string, mustHaveData = false, access: Access = 'write'): Store {
    let db: Database.Database;
    try {
      db = new Database(path, access === 'read-only-file' ? { readonly: true, fileMustExist: true } : access === 'read' ? { fileMustExist: true } : {});
    } catch (e) {
      throw storeFault(e, label) ?? e;
    }
    try {
      return new Store(db, tempDir, pragmas, label, mustHaveData, access !== 'write');
    } catch (e) {
      try { db.close(); } catch { /* already failing */ }
      throw storeFault(e, label) ?? e;
    }
  }

  private constructor(db: Database.Database, tempDir: string | null, pragmas: string[], label: string, mustHaveData: boolean, readOnly: boolean) {
    this.db = db;
    this.tempDir = tempDir;
    this.pragmas = pragmas;
    this.label = label;
    this.readOnly = readOnly;
    for (const p of pragmas) db.pragma(p);
    if (readOnly) {
      identify(db, label, mustHaveData);
      return;
    }
    // Identify, create and lock in one IMMEDIATE transaction: a second process waits here
    // (busy_timeout) for the first one's, then sees its lock.
    db.exec('BEGIN IMMEDIATE');
    try {
      identify(db, label, mustHaveData);
      db.exec(SCHEMA_SQL);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      const holder = takeLock(db);
      if (holder !== null) {
        throw new ExitError(EXIT_ENV, `${label}: being written by another tcpdiag (process ${holder.pid} on ${holder.host}, since ${sinceText(holder.since_usec)}); run again when it has finished`);
      }
      db.exec('COMMIT');
      this.locked = true;
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
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
    this.db.prepare(`INSERT INTO capture_pieces (capture_id, seq, path, name, content_sha256, first_frame, frames, first_ts_usec, last_ts_usec, error, zstd_window_bytes)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(captureId, seq, info.path, captureName(info.path), sha256, firstFrame + 1, info.frames,
      info.firstTsUsec, info.lastTsUsec, info.error ? info.error.message : null, info.zstdWindowBytes);
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

  /**
   * Record what reading the capture found (counts, time span, any error), after every
   * connection is committed. `complete` false (a signal stopped the read) keeps the capture
   * marked interrupted.
   */
  finishCapture(id: number, info: CaptureInfo, complete = true): void {
    this.settle();
    this.db.prepare(`UPDATE captures SET format=?, compression=?, link_types=?, frames=?, tcp_packets=?, first_ts_usec=?,
      last_ts_usec=?, skipped=?, truncated_packets=?, bytes_read=?, error=?, error_offset=?, status=?, clock=? WHERE id=?`).run(
      info.format ?? null, info.compression ?? null, JSON.stringify(info.linkTypes ?? []), info.frames, info.tcpPackets,
      info.firstTsUsec ?? null, info.lastTsUsec ?? null, JSON.stringify(info.skipped ?? {}), info.truncatedPackets ?? 0,
      info.bytesRead ?? null, info.error ? info.error.message : null, info.error ? info.error.byteOffset : null,
      complete ? 'complete' : 'interrupted', clockImplausible(info.clock) ? JSON.stringify(info.clock) : null, id);
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
    this.writer ??= new RowWriter(this.db.name, [...this.pragmas, WRITER_CACHE]);
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
    // A read-only store was indexed by the run that wrote it.
    if (this.readOnly) return;
    this.commit();
    // The writer's page cache is not needed for reading: end the thread before the detectors run.
    this.writer?.close();
    this.writer = null;
    // Detectors read with their own bounded state; a large page cache here is only resident
    // memory. Set before the indexes: CREATE INDEX sorts in memory up to the cache size, and
    // with 64 MiB that was the run's peak (~20 MB above it on the bench capture) for no faster build.
    this.db.pragma('cache_size = -16384');
    this.db.exec(INDEX_SQL);
  }

  /** Commit what is pending, release the lock and close; a temporary store is removed. */
  close(): void {
    if (this.closed) return;
    try {
      this.commit();
      this.writer?.close();
      this.writer = null;
      if (this.locked) releaseLock(this.db);
      this.locked = false;
    } catch (e) {
      this.abandon();
      throw storeFault(e, this.label) ?? e;
    }
    this.abandon();
  }

  /**
   * Close without writing more (after a fault: a full disk, a failed batch). Rows already
   * committed stay; a capture being read stays marked interrupted. Never throws.
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    try { this.writer?.close(); } catch { /* its error is the one being reported */ }
    this.writer = null;
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      if (this.locked) releaseLock(this.db);
    } catch { /* a full disk may refuse even this; the next run takes over a dead holder's lock */ }
    this.locked = false;
    try { this.db.close(); } catch { /* nothing more to do */ }
    if (this.tempDir !== null) removeTempDir(this.tempDir);
  }
}

/** When a lock was taken, as ISO text; a value Date cannot show (a damaged row) as it is. */
function sinceText(usec: number): string {
  const ms = Math.floor(usec / 1000);
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${usec} us since the epoch`;
}

/** The store identified before anything is written to it: new, or tcpdiag's own of this version. */
function identify(db: Database.Database, label: string, mustHaveData: boolean): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  const older = appId === 0 && tables.includes('captures') && tables.includes('connections') && version >= 1 && version <= SCHEMA_VERSION;
  if (appId === APPLICATION_ID || older) {
    if (older && version === SCHEMA_VERSION) {
      throw new ExitError(2, `${label}: a store from a tcpdiag build before stores were marked (no application_id, no capture status); rebuild it from the captures into a new --db file`);
    }
    if (version !== SCHEMA_VERSION) {
      throw new ExitError(2, `${label}: store schema version ${version}, this tcpdiag reads and writes version ${SCHEMA_VERSION}; rebuild it from the captures into a new --db file`);
    }
    return;
  }
  if (appId === 0 && version === 0 && tables.length === 0) {
    if (mustHaveData) throw new ExitError(2, `${label}: an empty database, not a tcpdiag store yet; give captures to read into it`);
    return;
  }
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? `, ... (${tables.length} tables)` : '');
  throw new ExitError(2, `${label}: another application's SQLite database (${appId !== 0 ? `application_id ${appId}, ` : ''}${tables.length ? `tables ${shown}` : `user_version ${version}`}); --db takes a new file or a store tcpdiag wrote`);
}

/** A store error as the one line a user gets (exit 2 or 3), or null when it is not one (a bug). */
export function storeFault(e: unknown, label: string): ExitError | null {
  if (e instanceof ExitError) return e;
  const r = sqliteReason(e);
  if (r !== null) return new ExitError(r.env ? EXIT_ENV : 2, `${label}: ${r.text}`);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return new ExitError(EXIT_ENV, `${label}: ${errnoReason(e)}`);
  return null;
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
