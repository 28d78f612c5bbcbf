import type Database from 'better-sqlite3';
import { craftedSynSql } from './anomalySql.js';

/**
 * A path is one client address to one server endpoint at one capture point: the unit whose
 * source ports run out (each client address has its own port range per destination). The key
 * and the per-path SYN times are defined here for every detector that works per path.
 */
export const pathKey = (captureId: number, client: string, server: string, port: number): string => `${captureId}|${client}|${server}|${port}`;

/**
 * Each path's first-SYN times (µs, ascending) and source ports, from one ordered pass (conn_path
 * index). SYNs the anomaly stage marks as crafted (non-zero ack without ACK, a new ISN within the
 * initial RTO on a live attempt) are no client's use of its ports and are left out.
 */
export function pathSyns(db: Database.Database): Map<string, { t: number[]; ports: number[] }> {
  const out = new Map<string, { t: number[]; ports: number[] }>();
  for (const r of db.prepare(`SELECT capture_id, client_addr, server_addr, server_port, syn_ts_usec, client_port FROM connections c
      WHERE syn_count > 0 AND NOT ${craftedSynSql('c')} ORDER BY capture_id, client_addr, server_addr, server_port, syn_ts_usec`).raw().iterate() as Iterable<[number, string, string, number, number, number]>) {
    const k = pathKey(r[0], r[1], r[2], r[3]);
    let l = out.get(k);
    if (!l) { l = { t: [], ports: [] }; out.set(k, l); }
    l.t.push(r[4]);
    l.ports.push(r[5]);
  }
  return out;
}
