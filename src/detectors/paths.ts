import type Database from 'better-sqlite3';
import { craftedSynSql } from './anomalySql.js';

/**
 * A path is one client address to one server endpoint at one capture point: the unit whose
 * source ports run out (each client address has its own port range per destination). The key
 * and the per-path SYN times are defined here for every detector that works per path.
 */
export const pathKey = (captureId: number, client: string, server: string, port: number): string => `${captureId}|${client}|${server}|${port}`;

/** One path's connections that a client opened (crafted SYNs left out), as pathConns gives them. */
export interface PathConns {
  captureId: number; client: string; server: string; port: number;
  /** First-SYN times (µs, ascending) and the source port of each. */
  t: number[]; ports: number[];
  distinctPorts: number;
  /** Earliest and latest first packet. */
  t0: number; t1: number;
  /** Connections closed (a first FIN seen), those the server closed first, and those established. */
  closed: number; serverClosed: number; established: number;
}

/** Paths read per page: a page is read whole before any path in it is given out. */
const PAGE_PATHS = 256;

type Row = [number, string, string, number, string, string, number, number, number, number, number, number];

/**
 * Every path in key order (capture, client, server, port), SYNs in time order, read along the
 * conn_path index a page of paths at a time (keyset: each page starts after the last path of the
 * one before). Each path is one row: its SYN times and source ports as JSON arrays, its counts
 * aggregated in SQL. A row per connection cost more to cross into JavaScript than the rest of
 * the detectors using it (on the 100 000-connection bench store 600 ms, against 280 ms this way,
 * ORDER BY in the aggregates included). Memory holds one page of paths, not the capture; and no
 * statement is being read while a path is given out, so a generator detector may yield it. SYNs
 * the anomaly stage marks as crafted (non-zero ack without ACK, a new ISN within the initial RTO
 * on a live attempt) are no client's use of its ports and are left out.
 */
export function* pathConns(db: Database.Database, pagePaths = PAGE_PATHS): Generator<PathConns> {
  const key = 'capture_id, client_addr, server_addr, server_port';
  const inOrder = 'ORDER BY syn_ts_usec, client_port, id';
  const sql = (after: string): string => `SELECT ${key}, json_group_array(syn_ts_usec ${inOrder}), json_group_array(client_port ${inOrder}),
      count(DISTINCT client_port), min(first_ts_usec), max(first_ts_usec), sum(first_fin_by = 'server'), sum(first_fin_by IS NOT NULL), sum(synack_count > 0)
    FROM connections c WHERE syn_count > 0 AND NOT ${craftedSynSql('c')} ${after} GROUP BY ${key} ORDER BY ${key} LIMIT ${pagePaths}`;
  const first = db.prepare(sql('')).raw();
  const next = db.prepare(sql(`AND (${key}) > (?, ?, ?, ?)`)).raw();
  let rows = first.all() as Row[];
  while (rows.length > 0) {
    const page = rows.map((r): PathConns => ({
      captureId: r[0], client: r[1], server: r[2], port: r[3], t: JSON.parse(r[4]) as number[], ports: JSON.parse(r[5]) as number[],
      distinctPorts: r[6], t0: r[7], t1: r[8], serverClosed: r[9], closed: r[10], established: r[11],
    }));
    const last = rows[rows.length - 1];
    rows = [];
    yield* page;
    if (page.length === pagePaths) rows = next.all(last[0], last[1], last[2], last[3]) as Row[];
  }
}
