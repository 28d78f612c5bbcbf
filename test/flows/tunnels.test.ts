/**
 * TCP inside tunnels is analysed as the same TCP without them: the connections
 * (keyed by the innermost 4-tuple) and the findings of a tunnelled capture equal
 * those of the plain capture, and each connection's `tunnel` column names the
 * outer encapsulation as tshark decodes it.
 *
 * - samples/vxlan-tw-stale-ack: captured by the kernel at the same time on the
 *   underlay veth (VXLAN) and on the VXLAN device (plain), UDP 4789 and 8472.
 * - samples/tunnels-derived: the tw-stale-ack-ts-stripped(-ipv6) server capture,
 *   each packet wrapped in tunnel headers (samples/lab/wrap_tunnel.py).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/flows/store.js';
import { hasTshark, pipeline, SAMPLES, storedFindings } from '../helpers/pipeline.js';

const DERIVED = join(SAMPLES, 'tunnels-derived');
const VXLAN = join(SAMPLES, 'vxlan-tw-stale-ack');
const PLAIN4 = join(SAMPLES, 'tw-stale-ack-ts-stripped/server.pcap');
const PLAIN6 = join(SAMPLES, 'tw-stale-ack-ts-stripped-ipv6/server.pcap');

/**
 * Columns about the TCP exchange itself. Frame numbers differ where the wrapping left
 * non-IP frames out (or, for the two VXLAN capture points, other traffic is interleaved),
 * times differ by microseconds between two capture points, and byte counts include the
 * outer headers; the tshark differential test checks frames and times packet by packet.
 */
const SKIP = /frame|usec|bytes|^id$|^prev_id$|capture_id|^tunnel/;

function connections(store: Store): Record<string, unknown>[] {
  const rows = store.db.prepare('SELECT * FROM connections ORDER BY first_ts_usec, client_port').all() as Record<string, unknown>[];
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !SKIP.test(k))));
}

function findingCounts(store: Store): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of storedFindings(store)) out[`${f.detector}/${f.severity}`] = (out[`${f.detector}/${f.severity}`] ?? 0) + 1;
  return out;
}

const opened: Store[] = [];
async function analysed(file: string): Promise<Store> {
  const { store } = await pipeline([file]);
  opened.push(store);
  return store;
}
afterAll(() => { for (const s of opened) s.close(); });

/** tshark's outer fields for one frame: first occurrence of each (later options may override). */
function outer(file: string, frame: number, fields: string[], extra: string[] = []): string[] {
  const out = execFileSync('tshark', ['-r', file, '-n', '-Y', `frame.number == ${frame}`, '-T', 'fields', '-E', 'occurrence=f', ...extra,
    ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.trim().split('\t');
}

/** The tunnel text tcpdiag should store, built from tshark's decode of the connection's first frame. */
const EXPECTED_TUNNEL: Record<string, (file: string, frame: number) => string | null> = {
  'geneve.pcap': (f, n) => { const [s, d, vni] = outer(f, n, ['ip.src', 'ip.dst', 'geneve.vni']); return `geneve vni=${Number(vni)} ${s}->${d}`; },
  'gre-ip-csum-key-seq.pcap': (f, n) => { const [s, d, k] = outer(f, n, ['ip.src', 'ip.dst', 'gre.key']); return `gre key=${Number(k)} ${s}->${d}`; },
  'gre6-ipv6-key.pcap': (f, n) => { const [s, d, k] = outer(f, n, ['ipv6.src', 'ipv6.dst', 'gre.key']); return `gre key=${Number(k)} ${s}->${d}`; },
  'gretap.pcap': (f, n) => { const [s, d, k] = outer(f, n, ['ip.src', 'ip.dst', 'gre.key']); return `gre key=${Number(k)} ${s}->${d}`; },
  'erspan2.pcap': (f, n) => { const [s, d, id] = outer(f, n, ['ip.src', 'ip.dst', 'erspan.spanid']); return `erspan2 session=${Number(id)} ${s}->${d}`; },
  'erspan3.pcap': (f, n) => { const [s, d, id] = outer(f, n, ['ip.src', 'ip.dst', 'erspan.spanid']); return `erspan3 session=${Number(id)} ${s}->${d}`; },
  'ipip.pcap': (f, n) => { const [s, d] = outer(f, n, ['ip.src', 'ip.dst']); return `ipip ${s}->${d}`; },
  'sit-ipv6-in-ipv4.pcap': (f, n) => { const [s, d] = outer(f, n, ['ip.src', 'ip.dst']); return `sit ${s}->${d}`; },
  'mpls.pcap': (f, n) => {
    const labels = outer(f, n, ['mpls.label'], ['-E', 'occurrence=a'])[0].split(',');
    return `mpls label=${Number(labels[0])} depth=${labels.length}`;
  },
  'pppoe.pcap': (f, n) => { const [id] = outer(f, n, ['pppoe.session_id']); return `pppoe session=${Number(id)}`; },
  // PPP is the link type here, not an encapsulation.
  'ppp-dlt9.pcap': () => null,
};

describe.skipIf(!hasTshark())('TCP inside tunnels', { timeout: 120_000 }, () => {
  for (const [name, fn] of Object.entries(EXPECTED_TUNNEL)) {
    it(`${name}: same connections and findings as the plain capture, tunnel as tshark decodes it`, async () => {
      const file = join(DERIVED, name);
      const plain = await analysed(/ipv6|sit/.test(name) ? PLAIN6 : PLAIN4);
      const wrapped = await analysed(file);
      expect(connections(wrapped)).toEqual(connections(plain));
      expect(findingCounts(wrapped)).toEqual(findingCounts(plain));
      expect(Object.keys(findingCounts(plain)).length).toBeGreaterThan(2);
      const rows = wrapped.db.prepare('SELECT first_frame, tunnel FROM connections ORDER BY first_frame').all() as { first_frame: number; tunnel: string | null }[];
      for (const r of [rows[0], rows[rows.length - 1]]) expect(r.tunnel).toBe(fn(file, r.first_frame));
      expect(new Set(rows.map((r) => r.tunnel === null)).size).toBe(1);
      // None of these is VXLAN (Geneve is recognised on 6081 only, which Wireshark registers too).
      expect(wrapped.db.prepare('SELECT count(*) FROM connections WHERE tunnel_vxlan_port IS NOT NULL').pluck().get()).toBe(0);
    });
  }

  for (const [port, vni, extra] of [['4789', 4242, []], ['8472', 77, ['-d', 'udp.port==8472,vxlan']]] as const) {
    it(`VXLAN on UDP ${port} (kernel): underlay analysis equals the VXLAN device's`, async () => {
      const under = join(VXLAN, `underlay-${port}.pcap`);
      const u = await analysed(under);
      const o = await analysed(join(VXLAN, `overlay-${port}.pcap`));
      expect(connections(u)).toEqual(connections(o));
      expect(findingCounts(u)).toEqual(findingCounts(o));
      expect(findingCounts(u)['stale-ack/error'] ?? findingCounts(u)['stale-ack/warning']).toBeGreaterThan(0);
      const first = u.db.prepare('SELECT first_frame, tunnel FROM connections ORDER BY first_frame LIMIT 1').get() as { first_frame: number; tunnel: string };
      const [s, d, v] = outer(under, first.first_frame, ['ip.src', 'ip.dst', 'vxlan.vni'], [...extra]);
      expect(Number(v)).toBe(vni);
      expect(first.tunnel).toBe(`vxlan vni=${vni} ${s}->${d}`);
      expect((o.db.prepare('SELECT count(*) FROM connections WHERE tunnel IS NOT NULL OR tunnel_vxlan_port IS NOT NULL').pluck().get())).toBe(0);
      // tunnel_vxlan_port: the outer UDP port tshark shows on each connection's first frame (8472 or 4789, the one VXLAN is on).
      const udp = new Map(execFileSync('tshark', ['-r', under, '-n', ...extra, '-T', 'fields', '-E', 'occurrence=f', '-e', 'frame.number', '-e', 'udp.srcport', '-e', 'udp.dstport'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').map((l) => { const [f, sp, dp] = l.split('\t'); return [Number(f), [Number(sp), Number(dp)]] as const; }));
      const ports = u.db.prepare('SELECT first_frame, tunnel_vxlan_port FROM connections').all() as { first_frame: number; tunnel_vxlan_port: number | null }[];
      expect(ports.length).toBeGreaterThan(0);
      for (const c of ports) {
        expect(udp.get(c.first_frame)).toContain(Number(port));
        expect(c.tunnel_vxlan_port).toBe(Number(port));
      }
      // Against tshark's decode of the inner TCP and the lab client's log.
      const one = (sql: string): number => u.db.prepare(sql).pluck().get() as number;
      const ts = (filter: string): number => execFileSync('tshark', ['-r', under, '-n', ...extra, '-Y', filter], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n').filter((l) => l !== '').length;
      expect(one('SELECT sum(syn_count) FROM connections')).toBe(ts('tcp.flags.syn == 1 && tcp.flags.ack == 0'));
      expect(one('SELECT sum(synack_count) FROM connections')).toBe(ts('tcp.flags.syn == 1 && tcp.flags.ack == 1'));
      const log = readFileSync(join(VXLAN, `client-log-${port}.csv`), 'utf8').trim().split('\n').slice(1);
      expect(one("SELECT count(*) FROM connections WHERE syn_count > 0")).toBe(log.length);
      expect(one("SELECT count(*) FROM connections WHERE synack_count > 0")).toBe(log.filter((l) => l.includes(',ok,')).length);
    });
  }
});
