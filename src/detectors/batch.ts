import type Database from 'better-sqlite3';

/**
 * Set-based reads for detectors: one query for many connections instead of one query per
 * connection (per-row lookups made detectors quadratic-looking on 100 000 connections).
 */

export interface EventRow { conn_id: number; frame: number; ts_usec: number; dir: string; kind: string; seq: number; ack: number }

/** Events of the connections selected by `connIdsSql` (a SELECT of ids), grouped by connection, in frame order. */
export function eventsByConn(db: Database.Database, connIdsSql: string, kinds?: string[]): Map<number, EventRow[]> {
  const kindFilter = kinds ? ` AND kind IN (${kinds.map((k) => `'${k}'`).join(',')})` : '';
  const rows = db.prepare(`SELECT conn_id, frame, ts_usec, dir, kind, seq, ack FROM events
    WHERE conn_id IN (${connIdsSql})${kindFilter} ORDER BY conn_id, frame`).all() as EventRow[];
  const out = new Map<number, EventRow[]>();
  for (const r of rows) {
    const l = out.get(r.conn_id);
    if (l) l.push(r); else out.set(r.conn_id, [r]);
  }
  return out;
}

/** Rows by id, for the ids a SELECT returns. */
export function rowsById<T extends { id: number }>(db: Database.Database, columns: string, idsSql: string): Map<number, T> {
  const out = new Map<number, T>();
  for (const r of db.prepare(`SELECT ${columns} FROM connections WHERE id IN (${idsSql})`).all() as T[]) out.set(r.id, r);
  return out;
}
