import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CaptureInfo } from '../decode/index.js';
import { ExitError } from '../errors.js';
import type { Conn } from './conn.js';
import { CLIENT, connState, NONE, SERVER, type Side } from './history.js';
import type { ConnSink } from './tracker.js';
import { INDEX_SQL, SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';

/** Rows written per transaction: large enough that commits cost little, small enough to bound memory. */
const BATCH_ROWS = 4000;

const sideName = (s: Side): string | null => (s === CLIENT ? 'client' : s === SERVER ? 'server' : null);
const orNull = (n: number): number | null => (n < 0 ? null : n);

/**
 * The connection store. Owns the database handle, the prepared statements and the
 * pending batch; `flush(conn)` is the tracker's sink.
 */
export class Store implements ConnSink {
  readonly db: Database.Database;
  private readonly tempDir: string | null;
  private pending: Conn[] = [];
  private readonly insConn: Database.Statement;
  private readonly insEvent: Database.Statement;
  private readonly writeBatch: (conns: Conn[]) => void;
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
    // One writer, batch job: durability is not needed while building (a crash leaves a store to rebuild).
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -65536'); // 64 MiB of page cache: bulk inserts stay in memory until commit
    // One program writes every row in order; checking references per insert cost ~30% of load time.
    db.pragma('foreign_keys = OFF');
    const version = db.pragma('user_version', { simple: true }) as number;
    const hasTables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='connections'").pluck().get() as number;
    if (hasTables > 0 && version !== SCHEMA_VERSION) {
      throw new ExitError(2, `${db.name}: store schema version ${version}, this tcpdiag writes version ${SCHEMA_VERSION}; use a new --db file`);
    }
    db.exec(SCHEMA_SQL);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    const columns = (db.pragma('table_info(connections)') as unknown[]).length;
    this.insConn = db.prepare(`INSERT INTO connections VALUES (${new Array(columns).fill('?').join(',')})`);
    this.insEvent = db.prepare('INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)');
    this.writeBatch = db.transaction((conns: Conn[]) => {
      for (const c of conns) {
        this.insConn.run(connRow(c));
        if (isPlain(c)) continue;
        for (const e of c.events) {
          this.insEvent.run(c.id, c.captureId, e.frame, e.tsUsec, e.fromClient ? 'c2s' : 's2c', e.kind, e.seq, e.ack, e.flags,
            e.ts ? 1 : 0, e.ts ? e.tsVal : null, e.ts ? e.tsEcr : null, e.nopRun, e.win);
        }
      }
    });
  }

  /** Register a capture before reading it; returns its id. */
  addCapture(path: string): number {
    const r = this.db.prepare('INSERT INTO captures (path, name, frames, tcp_packets) VALUES (?, ?, 0, 0)').run(path, basename(path));
    return Number(r.lastInsertRowid);
  }

  /** Record what reading the capture found (counts, time span, any error). */
  finishCapture(id: number, info: CaptureInfo): void {
    this.commit();
    this.db.prepare(`UPDATE captures SET format=?, compression=?, link_types=?, frames=?, tcp_packets=?, first_ts_usec=?,
      last_ts_usec=?, skipped=?, truncated_packets=?, bytes_read=?, error=?, error_offset=? WHERE id=?`).run(
      info.format ?? null, info.compression ?? null, JSON.stringify(info.linkTypes ?? []), info.frames, info.tcpPackets,
      info.firstTsUsec ?? null, info.lastTsUsec ?? null, JSON.stringify(info.skipped ?? {}), info.truncatedPackets ?? 0,
      info.bytesRead ?? null, info.error ? info.error.message : null, info.error ? info.error.byteOffset : null, id);
  }

  /** Highest connection id so far, so a new capture's tracker continues the numbering. */
  maxConnId(): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) FROM connections').pluck().get() as number);
  }

  setSetting(key: string, value: string | number): void {
    this.db.prepare('INSERT OR REPLACE INTO settings VALUES (?, ?)').run(key, String(value));
  }

  getSetting(key: string): string | undefined {
    return this.db.prepare('SELECT value FROM settings WHERE key = ?').pluck().get(key) as string | undefined;
  }

  flush(c: Conn): void {
    this.pending.push(c);
    if (this.pending.length >= BATCH_ROWS) this.commit();
  }

  commit(): void {
    if (this.pending.length === 0) return;
    this.writeBatch(this.pending);
    this.written += this.pending.length;
    this.pending = [];
  }

  /** Build the query indexes (after loading: cheaper than keeping them up to date per row). */
  index(): void {
    this.commit();
    this.db.exec(INDEX_SQL);
  }

  close(): void {
    this.commit();
    this.db.close();
    if (this.tempDir !== null) rmSync(this.tempDir, { recursive: true, force: true });
  }
}

/**
 * A connection whose key packets are all in its own columns (one SYN, one SYN-ACK as the
 * answer, FINs, no RST): its events would repeat them, and they are most of the rows.
 */
export function isPlain(c: Conn): boolean {
  return c.synCount <= 1 && c.synAckCount <= 1 && c.rstCount[0] === 0 && c.rstCount[1] === 0 && c.serverSynCount === 0
    && c.clientSynAckCount === 0 && (c.answer === 'synack' || c.answer === 'none') && c.eventsDropped === 0;
}

/** Values in the column order of the connections table. */
export function connRow(c: Conn): unknown[] {
  const s = c.synOpts;
  const a = c.synAckOpts;
  const prev = c.prev;
  const row = [
    c.id, c.captureId, c.ipVersion, c.clientAddr, c.aPort, c.serverAddr, c.bPort, c.rolesInferred ? 1 : 0,
    c.incarnation, prev?.id ?? null, prev ? c.firstTsUsec - prev.closedTsUsec : null,
    prev ? sideName(prev.activeCloser) : null, prev ? prev.clientNext : null, prev ? prev.serverNext : null,
    c.firstTsUsec, c.lastTsUsec, c.firstFrame,
    connState({
      sawSyn: c.synCount > 0, sawSynAck: c.synAckCount > 0, sawClientAfterSynAck: c.sawClientAfterSynAck,
      sawServerPkt: c.sawServerPkt, clientFin: c.finFrame[0] > 0, serverFin: c.finFrame[1] > 0, decidingRst: c.decidingRst,
    }),
    c.history.text,
    orNull(c.clientIsn), orNull(c.serverIsn),
    c.synCount, c.firstSynFrame || null, orNull(c.firstSynTsUsec), orNull(c.lastSynTsUsec),
    c.synAckCount, c.synAckFrame || null, orNull(c.synAckTsUsec), c.serverSynCount,
    c.answer, c.answerFrame || null, orNull(c.answerTsUsec), orNull(c.answerSeq), orNull(c.answerAck), c.answer === 'none' ? null : c.answerFlags,
    orNull(c.rttSynUsec), orNull(c.rttAckUsec),
    c.firstSynTsUsec >= 0 && c.synAckTsUsec >= 0 ? c.synAckTsUsec - c.firstSynTsUsec : null,
    c.handshakeAcked ? 1 : 0,
    s ? s.mss : null, s ? s.wscale : null, s ? (s.sackPerm ? 1 : 0) : null, s ? (s.ts ? 1 : 0) : null,
    s?.ts ? s.tsVal : null, s?.ts ? s.tsEcr : null, s ? s.nopRun : null, s ? s.kinds : null,
    a ? a.mss : null, a ? a.wscale : null, a ? (a.sackPerm ? 1 : 0) : null, a ? (a.ts ? 1 : 0) : null,
    a?.ts ? a.tsVal : null, a?.ts ? a.tsEcr : null, a ? a.nopRun : null, a ? a.kinds : null,
    c.tsLater[0] ? 1 : 0, c.tsLater[1] ? 1 : 0,
    c.pkts[0], c.bytes[0], c.payload[0], c.pkts[1], c.bytes[1], c.payload[1],
    c.retrans[0], c.retrans[1],
    c.lastTsVal[0] >= 0 ? c.lastTsVal[0] : null, c.lastTsVal[1] >= 0 ? c.lastTsVal[1] : null,
    c.haveNext[0] ? c.next[0] : null, c.haveNext[1] ? c.next[1] : null,
    sideName(c.firstFinBy),
    c.finFrame[0] || null, orNull(c.finTsUsec[0]), c.finFrame[1] || null, orNull(c.finTsUsec[1]),
    sideName(c.firstRstBy), c.firstRstFrame || null, orNull(c.firstRstTsUsec), c.firstRstBy === NONE ? null : c.firstRstState,
    c.rstCount[0], c.rstCount[1],
    orNull(c.closedTsUsec), c.eventsDropped,
  ];
  return row;
}
