import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/flows/store.js';
import { buildReport } from '../../src/report/build.js';
import { pipeline, scenarios, tsharkFields } from '../helpers/pipeline.js';

/**
 * A source NAT seen from both sides, in the report: the lab's NAT folders (expected.json
 * addresses: the client hosts and the NAT's public address; lab-env.txt: the gateway's SNAT
 * rule and the clients' ip_local_port_range), analysed with every capture point at once.
 *  - The NAT's public address is never named as another client in the stale-ACK cause: each
 *    address named is one of the lab's client hosts or, marked as such, the NAT's address.
 *  - two-point-snat: `SNAT --to-source 198.19.2.1` without a port range, and tshark shows the
 *    same SYN source ports at both points (40000 and 40002 from the client's 40000-40003):
 *    the NAT keeps the ports, so the client's range is what comes back: widening it is
 *    offered and the NAT pool remedy is withheld because the NAT kept the ports.
 *  - A SNAT with a port pool the clients' own ports lie outside of (snat-port-pool,
 *    snat-retry-other-port): widening the clients' range is withheld because the NAT rewrote the ports.
 */

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

type Cap = { file: string; point: string };

for (const s of scenarios()) {
  const nat = s.expected.addresses?.nat_public as string | undefined;
  const caps = s.expected.captures as Cap[];
  if (nat === undefined || !caps.some((c) => c.point === 'client') || !caps.some((c) => c.point === 'server')) continue;
  const hosts = s.expected.addresses.clients as string[];
  const labEnv = readFileSync(join(s.dir, 'lab-env.txt'), 'utf8');
  const pool = /SNAT --to-source [\d.]+:(\d+)-(\d+)/.exec(labEnv);
  const files = caps.filter((c) => c.point === 'client' || c.file === 'server.pcap').map((c) => join(s.dir, c.file));

  describe(`samples/${s.name}: every capture point`, () => {
    it('the NAT and its clients as the lab made them', async () => {
      const { store } = await pipeline(files);
      stores.push(store);
      const r = buildReport(store.db, { version: 'test', timeWaitS: 60, portRange: [32768, 60999] });
      const stale = r.causes.find((c) => c.id === 'time-wait-stale-ack');
      if (stale) {
        const m = /clients? (.*?) reuses? source ports/.exec(stale.explanation);
        expect(m).not.toBeNull();
        // Top-level items of the list (commas inside parentheses belong to an item).
        const items = m![1].replace(/ and \d+ more$/, '').split(/, (?![^(]*\))/);
        for (const item of items) {
          const addr = item.split(' ')[0];
          expect([item, hosts.includes(addr) || (addr === nat && item.includes("(the NAT's address"))]).toEqual([item, true]);
        }
        if (stale.explanation.includes(`${nat} after NAT`)) expect(items.some((x) => x.startsWith(`${nat} `) || x === nat)).toBe(false);
      }

      const withheld = new Map(r.withheld.map((w) => [w.id, w.because]));
      const offered = r.remedies.map((x) => x.id);
      if (s.name === 'two-point-snat') {
        // The lab: no port range in the SNAT rule; tshark: the same SYN source ports at both points.
        expect(pool).toBeNull();
        const ports = (f: string): string[] => [...new Set(tsharkFields(join(s.dir, f), 'tcp.flags.syn==1 && tcp.flags.ack==0', ['tcp.srcport']).map((x) => x[0]))].sort();
        expect(ports('client.pcap')).toEqual(ports('server.pcap'));
        expect(labEnv).toMatch(/net\.ipv4\.ip_local_port_range = 40000\t40003/);
        expect(stale?.explanation).toContain(`client ${hosts[0]} (at client.pcap; ${nat} after NAT at server.pcap) reuses source ports`);
        expect(offered).toContain('wider-port-range');
        expect(withheld.get('nat-pool')).toEqual(['nat-keeps-ports']);
      }
      const used = (s.expected.facts.client_local_ports_used as number[] | undefined) ?? [];
      if (stale && pool && used.length > 0 && used.every((p) => p < Number(pool[1]) || p > Number(pool[2]))) {
        expect(offered).not.toContain('wider-port-range');
        expect(withheld.get('wider-port-range')).toEqual(['nat-rewrites-ports']);
      }
    });
  });
}
