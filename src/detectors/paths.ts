import type Database from 'better-sqlite3';
import { craftedSynSql } from './anomalySql.js';

/**
 * A path is one client address to one server endpoint at one capture point: the unit whose
 * source ports run out (each client address has its own port range per destination). The key
 * and the per-path SYN times are defined here for every detector that works per path.
 */
export const pathKey = (captureId: number, client: string, server: string, port: number): string => `${captureId}|${client}|${server}|${port}`;

/** One path's connections that a client opened (crafted SYNs left out), as forEachPath gives them. */
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

/**
 * Every path in key order (capture, client, server, port), from one ordered pass over the
 * conn_path index: one path's times are held at a time, so memory does not grow with the
 * capture. SYNs the anomaly stage marks as crafted (non-zero ack without ACK, a new ISN within
 * the initial RTO on a live attempt) are no client's use of its ports and are left out. `fn`
 * must not run statements on `db` (a statement is being read).
 */
export function forEachPath(db: Database.Database, fn: (p: PathConns) => void): void {
  let p: PathConns | null = null;
  let seen = new Set<number>();
  const end = (): void => { if (p) { p.distinctPorts = seen.size; fn(p); } };
  for (const r of db.prepare(`SELECT capture_id, client_addr, server_addr, server_port, syn_ts_usec, client_port, first_ts_usec,
        first_fin_by = 'server', first_fin_by IS NOT NULL, synack_count > 0
      FROM connections c WHERE syn_count > 0 AND NOT ${craftedSynSql('c')}
      ORDER BY capture_id, client_addr, server_addr, server_port, syn_ts_usec`).raw().iterate() as Iterable<[number, string, string, number, number, number, number, number, number, number]>) {
    if (p === null || r[0] !== p.captureId || r[1] !== p.client || r[2] !== p.server || r[3] !== p.port) {
      end();
      p = { captureId: r[0], client: r[1], server: r[2], port: r[3], t: [], ports: [], distinctPorts: 0, t0: r[6], t1: r[6], closed: 0, serverClosed: 0, established: 0 };
      seen = new Set();
    }
    p.t.push(r[4]);
    p.ports.push(r[5]);
    seen.add(r[5]);
    if (r[6] < p.t0) p.t0 = r[6];
    if (r[6] > p.t1) p.t1 = r[6];
    p.serverClosed += r[7];
    p.closed += r[8];
    p.established += r[9];
  }
  end();
}
