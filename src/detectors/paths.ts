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

/** Rows read per page: a page is read whole before any path in it is given out. */
const PAGE_ROWS = 8192;

type Row = [number, string, string, number, number, number, number, number, number, number, number];

/**
 * Every path in key order (capture, client, server, port), SYNs in time order, read along the
 * conn_path index a page at a time (keyset: each page starts after the last row of the one
 * before). Memory holds one page and the path being built, not the capture; and no statement
 * is being read while a path is given out, so a generator detector may yield it. SYNs the
 * anomaly stage marks as crafted (non-zero ack without ACK, a new ISN within the initial RTO on
 * a live attempt) are no client's use of its ports and are left out.
 */
export function* pathConns(db: Database.Database, pageRows = PAGE_ROWS): Generator<PathConns> {
  const cols = `capture_id, client_addr, server_addr, server_port, syn_ts_usec, client_port, id, first_ts_usec,
    first_fin_by = 'server', first_fin_by IS NOT NULL, synack_count > 0`;
  const where = `syn_count > 0 AND NOT ${craftedSynSql('c')}`;
  const order = 'ORDER BY capture_id, client_addr, server_addr, server_port, syn_ts_usec, client_port, id';
  const first = db.prepare(`SELECT ${cols} FROM connections c WHERE ${where} ${order} LIMIT ${pageRows}`).raw();
  const next = db.prepare(`SELECT ${cols} FROM connections c WHERE ${where}
    AND (capture_id, client_addr, server_addr, server_port, syn_ts_usec, client_port, id) > (?, ?, ?, ?, ?, ?, ?) ${order} LIMIT ${pageRows}`).raw();
  let p: PathConns | null = null;
  let seen = new Set<number>();
  let rows = first.all() as Row[];
  while (rows.length > 0) {
    const done: PathConns[] = [];
    for (const r of rows) {
      if (p === null || r[0] !== p.captureId || r[1] !== p.client || r[2] !== p.server || r[3] !== p.port) {
        if (p) { p.distinctPorts = seen.size; done.push(p); }
        p = { captureId: r[0], client: r[1], server: r[2], port: r[3], t: [], ports: [], distinctPorts: 0, t0: r[7], t1: r[7], closed: 0, serverClosed: 0, established: 0 };
        seen = new Set();
      }
      p.t.push(r[4]);
      p.ports.push(r[5]);
      seen.add(r[5]);
      if (r[7] < p.t0) p.t0 = r[7];
      if (r[7] > p.t1) p.t1 = r[7];
      p.serverClosed += r[8];
      p.closed += r[9];
      p.established += r[10];
    }
    const last = rows[rows.length - 1];
    yield* done;
    rows = rows.length < pageRows ? [] : next.all(last[0], last[1], last[2], last[3], last[4], last[5], last[6]) as Row[];
  }
  if (p) { p.distinctPorts = seen.size; yield p; }
}
