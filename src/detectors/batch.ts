import type Database from 'better-sqlite3';

/**
 * Set-based reads for detectors: one query for many connections instead of one query per
 * connection (per-row lookups made detectors quadratic-looking on 100 000 connections).
 */

export interface EventRow { conn_id: number; frame: number; ts_usec: number; dir: string; kind: string; seq: number; ack: number }

/** Events grouped by connection; get() builds a connection's rows on demand (short-lived objects). */
export interface EventsByConn {
  get(connId: number): EventRow[] | undefined;
}

/**
 * The event kinds detectors walk per connection (staleAck, synRetransmit). FIN and
 * handshake-ACK events (more than a third of all) are read by no detector, so they are
 * not loaded.
 */
const KINDS = ['syn', 'syn-rtx', 'synack', 'synack-rtx', 'server-syn', 'answer-ack', 'rst'];
const DIRS = ['c2s', 's2c'];

/**
 * Events in columns (typed arrays, ~25 bytes an event instead of an object each), read
 * once per detector run and shared: only connections that were not plain have events,
 * and two detectors walk them.
 */
class ColumnarEvents implements EventsByConn {
  private ids: Float64Array; // distinct conn ids, ascending
  private starts: Uint32Array; // ids[i]'s events are [starts[i], starts[i+1])
  private frame: Float64Array;
  private ts: Float64Array;
  private seq: Float64Array;
  private ack: Float64Array;
  private kind: Uint8Array;
  private dir: Uint8Array;

  constructor(db: Database.Database) {
    const n = db.prepare(`SELECT count(*) FROM events WHERE kind IN (${KINDS.map(() => '?').join(',')})`).pluck().get(...KINDS) as number;
    this.frame = new Float64Array(n); this.ts = new Float64Array(n); this.seq = new Float64Array(n); this.ack = new Float64Array(n);
    this.kind = new Uint8Array(n); this.dir = new Uint8Array(n);
    const ids: number[] = [];
    const starts: number[] = [];
    let i = 0;
    let last = NaN;
    const kindSql = `CASE kind ${KINDS.map((k, j) => `WHEN '${k}' THEN ${j}`).join(' ')} END`;
    const stmt = db.prepare(`SELECT conn_id, frame, ts_usec, dir = 's2c', ${kindSql}, seq, ack FROM events
      WHERE kind IN (${KINDS.map(() => '?').join(',')}) ORDER BY conn_id, frame`).raw();
    for (const r of stmt.iterate(...KINDS) as Iterable<number[]>) {
      if (i >= n) break;
      if (r[0] !== last) { ids.push(r[0]); starts.push(i); last = r[0]; }
      this.frame[i] = r[1]; this.ts[i] = r[2]; this.dir[i] = r[3]; this.kind[i] = r[4]; this.seq[i] = r[5]; this.ack[i] = r[6];
      i++;
    }
    starts.push(i);
    this.ids = Float64Array.from(ids);
    this.starts = Uint32Array.from(starts);
  }

  get(connId: number): EventRow[] | undefined {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid];
      if (v < connId) lo = mid + 1;
      else if (v > connId) hi = mid - 1;
      else {
        const out: EventRow[] = [];
        for (let j = this.starts[mid], end = this.starts[mid + 1]; j < end; j++) {
          out.push({ conn_id: connId, frame: this.frame[j], ts_usec: this.ts[j], dir: DIRS[this.dir[j]], kind: KINDS[this.kind[j]], seq: this.seq[j], ack: this.ack[j] });
        }
        return out;
      }
    }
    return undefined;
  }
}

const cache = new WeakMap<Database.Database, EventsByConn>();
export function allEvents(db: Database.Database): EventsByConn {
  let m = cache.get(db);
  if (m) return m;
  m = new ColumnarEvents(db);
  cache.set(db, m);
  return m;
}

/** Forget the shared events (after a run, so their memory goes). */
export function dropEvents(db: Database.Database): void {
  cache.delete(db);
}

/** Rows by id, for the ids a SELECT returns. */
export function rowsById<T extends { id: number }>(db: Database.Database, columns: string, idsSql: string): Map<number, T> {
  const out = new Map<number, T>();
  for (const r of db.prepare(`SELECT ${columns} FROM connections WHERE id IN (${idsSql})`).all() as T[]) out.set(r.id, r);
  return out;
}

/**
 * Rows as objects, built from raw rows by a function made for the statement's columns:
 * several times cheaper than better-sqlite3's own object rows on 100 000-row results
 * (each object gets one fixed shape).
 */
export function* fastRows<T = Record<string, any>>(stmt: Database.Statement, ...params: unknown[]): IterableIterator<T> {
  const cols = stmt.columns().map((c) => c.name);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('a', `return {${cols.map((c, i) => `${JSON.stringify(c)}: a[${i}]`).join(', ')}};`) as (a: unknown[]) => T;
  for (const a of stmt.raw(true).iterate(...params) as Iterable<unknown[]>) yield make(a);
}

/** fastRows() into an array. */
export function fastAll<T = Record<string, any>>(stmt: Database.Statement, ...params: unknown[]): T[] {
  return [...fastRows<T>(stmt, ...params)];
}
