import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestCapture } from '../../src/flows/ingest.js';
import type { AnomalyRow } from '../../src/flows/anomalyQuery.js';
import { selectConnections, type ConnRow } from '../../src/flows/query.js';
import { anomaliesCsv, anomaliesTable } from '../../src/report/anomalies.js';
import { Store } from '../../src/flows/store.js';
import { connectionsCsv, connectionsTable, jsonArrayLines } from '../../src/report/connections.js';
import { FLOW_FIELDS, flowRecord } from '../../src/report/flowFields.js';
import { zeekConnLog } from '../../src/report/zeekConn.js';
import { ROOT, SAMPLES } from '../helpers/pipeline.js';

/**
 * `tcpdiag flows` streams its output a row at a time, reading only the columns each format
 * prints. It must print byte for byte what the whole-table renderers print from every column
 * of every row (selectConnections), which the zeekConn and CLI tests check against tshark.
 */

const CLI = join(ROOT, 'dist/cli.js');
const flows = (args: string[]): string => {
  const r = spawnSync('node', [CLI, 'flows', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};

// Plain and stale-ACK connections, RSTs, roles inferred from ports (no SYN seen), IPv6, a tunnel.
const CAPTURES = [
  ['tw-stale-ack-ts-stripped', 'server.pcap'], ['refused', 'server.pcap'], ['mid-connection-start', 'server.pcap'], ['capture-loss-derived', 'client.pcap'],
  ['tw-stale-ack-ts-stripped-ipv6', 'server.pcap'], ['vxlan-tw-stale-ack', 'underlay-4789.pcap'],
].map(([d, f]) => join(SAMPLES, d, f));

describe('flows streams what the whole-table renderers print', () => {
  const stores: { file: string; db: string; rows: ConnRow[]; anomalies: AnomalyRow[]; t0: number }[] = [];
  const dir = `${process.env.TMPDIR ?? '/tmp'}/tcpdiag-stream-${process.pid}`;
  beforeAll(async () => {
    spawnSync('mkdir', ['-p', dir]);
    for (const file of CAPTURES) {
      const db = join(dir, `${stores.length}.sqlite`);
      const store = Store.open(db);
      await ingestCapture(store, file, { timeWaitUsec: 60e6 });
      store.index();
      const rows = selectConnections(store.db, {});
      // Read the way the renderers were fed before streaming: better-sqlite3's own row objects.
      const anomalies = store.db.prepare(`SELECT a.*, c.client_addr, c.client_port, c.server_addr, c.server_port
        FROM anomalies a JOIN connections c ON c.id = a.conn_id ORDER BY a.capture_id, a.frame, a.conn_id`).all() as AnomalyRow[];
      const t0 = store.db.prepare('SELECT min(first_ts_usec) FROM captures').pluck().get() as number;
      store.close();
      stores.push({ file, db, rows, anomalies, t0 });
    }
  }, 120_000);
  afterAll(() => { spawnSync('rm', ['-rf', dir]); });

  it('has connections to compare, some with roles inferred', () => {
    expect(stores.every((s) => s.rows.length > 0)).toBe(true);
    expect(stores.some((s) => s.rows.some((r) => r.roles_inferred === 1))).toBe(true);
  });

  it('table, zeek, csv and json, whole and under --limit', () => {
    for (const s of stores) {
      expect(flows(['--db', s.db]), s.file).toBe(connectionsTable(s.rows));
      expect(flows(['--db', s.db, '--limit', '2']), s.file).toBe(connectionsTable(s.rows.slice(0, 2), s.rows.length));
      expect(flows(['--db', s.db, '--format', 'zeek']), s.file).toBe(zeekConnLog(s.rows, s.t0));
      expect(flows(['--db', s.db, '--format', 'csv']), s.file).toBe(connectionsCsv(s.rows.map(flowRecord) as never, FLOW_FIELDS.map((f) => f.name)));
      expect(flows(['--db', s.db, '--format', 'csv', '--raw']), s.file).toBe(connectionsCsv(s.rows, Object.keys(s.rows[0])));
      expect(flows(['--db', s.db, '--format', 'json']), s.file).toBe(`${JSON.stringify(s.rows.map(flowRecord), null, 1)}\n`);
      expect(flows(['--db', s.db, '--format', 'json', '--raw', '--limit', '3']), s.file).toBe(`${JSON.stringify(s.rows.slice(0, 3), null, 1)}\n`);
      expect(flows(['--db', s.db, '--anomalies']), s.file).toBe(anomaliesTable(s.anomalies));
      expect(flows(['--db', s.db, '--anomalies', '--format', 'csv']), s.file).toBe(anomaliesCsv(s.anomalies));
      expect(flows(['--db', s.db, '--anomalies', '--format', 'json']), s.file).toBe(`${JSON.stringify(s.anomalies, null, 1)}\n`);
    }
    expect(stores.some((s) => s.anomalies.length > 0)).toBe(true);
  }, 120_000);
});

describe('jsonArrayLines', () => {
  it('joins to JSON.stringify(array, null, 1) on generated arrays', () => {
    let seed = 7;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
    const value = (depth: number): unknown => {
      const k = Math.floor(rnd() * (depth > 2 ? 4 : 7));
      if (k === 0) return null;
      if (k === 1) return Math.floor(rnd() * 1e6) - 5e5;
      if (k === 2) return ['a"b', 'x\ny', 'é', '', '\\'][Math.floor(rnd() * 5)];
      if (k === 3) return rnd() < 0.5;
      if (k === 4) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, (_, i) => [`k${i}`, value(depth + 1)]));
    };
    for (let n = 0; n < 300; n++) {
      const a = Array.from({ length: Math.floor(rnd() * 5) }, () => value(0));
      expect([...jsonArrayLines(a)].join('\n')).toBe(JSON.stringify(a, null, 1));
    }
  });
});
