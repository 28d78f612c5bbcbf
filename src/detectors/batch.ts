import type Database from 'better-sqlite3';

/**
 * Set-based reads for detectors: one query for many connections instead of one query per
 * connection (per-row lookups made detectors quadratic-looking on 100 000 connections).
 */

export interface EventRow { conn_id: number; frame: number; ts_usec: number; dir: string; kind: string; seq: number; ack: number }

/**
 * Every event in the store, grouped by connection, read once per detector run and shared:
 * only connections that were not plain have events, and two detectors walk them.
 */
const cache = new WeakMap<Database.Database, Map<number, EventRow[]>>();
export function allEvents(db: Database.Database): Map<number, EventRow[]> {
  let m = cache.get(db);
  if (m) return m;
  m = new Map();
  for (const r of db.prepare('SELECT conn_id, frame, ts_usec, dir, kind, seq, ack FROM events ORDER BY conn_id, frame').raw().iterate() as Iterable<unknown[]>) {
    const ev: EventRow = { conn_id: r[0] as number, frame: r[1] as number, ts_usec: r[2] as number, dir: r[3] as string, kind: r[4] as string, seq: r[5] as number, ack: r[6] as number };
    const l = m.get(ev.conn_id);
    if (l) l.push(ev); else m.set(ev.conn_id, [ev]);
  }
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
