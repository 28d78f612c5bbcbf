import { describe, expect, it } from 'vitest';
import { craftedSynSql } from '../../src/detectors/anomalySql.js';
import { pathConns } from '../../src/detectors/paths.js';
import { pipeline, SAMPLES } from '../helpers/pipeline.js';
import { join } from 'node:path';

/**
 * pathConns reads paths a page of paths at a time along conn_path: whatever the page size, every path
 * comes whole, once, in key order, with the figures SQL's own GROUP BY gives for it.
 */
const CASES = [
  ['snat-port-pool/client.pcap', 'snat-port-pool/client2.pcap', 'snat-port-pool/server.pcap'],
  ['tw-incident-one-host-500/client.pcap', 'tw-incident-one-host-500/server.pcap'],
  ['nat-hosts-mixed/server.pcap'],
  ['spoofed-syns/server.pcap'],
];

describe('pathConns', () => {
  for (const files of CASES) {
    it(files.join(' '), async () => {
      const { store } = await pipeline(files.map((f) => join(SAMPLES, f)));
      try {
        const db = store.db;
        const expected = db.prepare(`SELECT capture_id, client_addr, server_addr, server_port, count(*) AS n, count(DISTINCT client_port) AS ports,
            min(first_ts_usec) AS t0, max(first_ts_usec) AS t1, sum(first_fin_by = 'server') AS sc, sum(first_fin_by IS NOT NULL) AS closed,
            sum(synack_count > 0) AS est, group_concat(syn_ts_usec) AS ts
          FROM (SELECT * FROM connections c WHERE syn_count > 0 AND NOT ${craftedSynSql('c')} ORDER BY syn_ts_usec)
          GROUP BY capture_id, client_addr, server_addr, server_port ORDER BY capture_id, client_addr, server_addr, server_port`).all() as Record<string, any>[];
        expect(expected.length).toBeGreaterThan(0);
        const whole = [...pathConns(db, 1e9)];
        for (const page of [1, 7, 64]) expect([...pathConns(db, page)]).toEqual(whole);
        expect(whole.map((p) => ({
          capture_id: p.captureId, client_addr: p.client, server_addr: p.server, server_port: p.port, n: p.t.length, ports: p.distinctPorts,
          t0: p.t0, t1: p.t1, sc: p.serverClosed, closed: p.closed, est: p.established, ts: p.t.join(','),
        }))).toEqual(expected);
        for (const p of whole) expect(p.ports.length).toBe(p.t.length);
      } finally {
        store.close();
      }
    });
  }
});
