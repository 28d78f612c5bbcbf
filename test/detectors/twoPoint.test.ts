import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/flows/store.js';
import { pipeline, scenarios, tsharkFields } from '../helpers/pipeline.js';

/**
 * two-point against tshark: the same connections at a client capture and the server capture,
 * matched here by the client ISN (tcp.seq_raw of the SYN; a NAT rewrites addresses and ports,
 * never sequence numbers), and what tshark's own decode shows changed between them:
 *  - the source address each connection left from and arrived from, and whether its source
 *    port (every port its SYNs used at a point) stayed the same;
 *  - each SYN option of the first SYN, and each option of the first SYN-ACK answering it
 *    (tcp.ack_raw = ISN + 1), compared only where both points saw that SYN-ACK.
 * The finding must count exactly these changes, and no change where tshark shows equal values.
 * Where the lab's SNAT rule has a port pool the clients' ports lie outside of (lab-env.txt,
 * client-log.csv), every port must be reported rewritten.
 */

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

type Cap = { file: string; point: string };
const OPTIONS = ['mss', 'wscale', 'sack_perm', 'ts'] as const;
const FIELDS = ['tcp.seq_raw', 'tcp.ack_raw', 'ip.src', 'ipv6.src', 'tcp.srcport', 'tcp.options.mss_val', 'tcp.options.wscale.shift', 'tcp.options.sack_perm', 'tcp.options.timestamp.tsval'];

interface Seen { addr: string; ports: Set<number>; syn: string[]; synAck: string[] | null }

/** Per client ISN: its source address and ports, its first SYN's options and the first SYN-ACK's answering it. */
function byIsn(file: string): Map<string, Seen> {
  const opts = (r: string[]): string[] => [r[5] || 'absent', r[6] || 'absent', r[7] ? 'present' : 'absent', r[8] ? 'present' : 'absent'];
  const m = new Map<string, Seen>();
  for (const r of tsharkFields(file, 'tcp.flags.syn==1 && tcp.flags.ack==0', FIELDS)) {
    const s = m.get(r[0]);
    if (s) s.ports.add(Number(r[4]));
    else m.set(r[0], { addr: r[2] || r[3], ports: new Set([Number(r[4])]), syn: opts(r), synAck: null });
  }
  for (const r of tsharkFields(file, 'tcp.flags.syn==1 && tcp.flags.ack==1', FIELDS)) {
    const s = m.get(String((Number(r[1]) - 1 + 2 ** 32) % 2 ** 32));
    if (s && s.synAck === null) s.synAck = opts(r);
  }
  return m;
}

const CHANGING = ['two-point-mss-clamp', 'tw-stale-ack-ts-stripped', 'tw-stale-ack-ts-stripped-ipv6', 'client-closes-first'];
const KEYS = { syn: ['syn_mss', 'syn_wscale', 'syn_sack_perm', 'syn_ts'], synAck: ['synack_mss', 'synack_wscale', 'synack_sack_perm', 'synack_ts'] };

for (const s of scenarios()) {
  const caps = s.expected.captures as Cap[];
  const clients = caps.filter((c) => c.point === 'client');
  const server = caps.find((c) => c.point === 'server');
  if (!server || clients.length === 0) continue;
  // The NAT folders, those where the path changes options, and two where nothing changes (one IPv6).
  if (s.expected.addresses?.nat_public === undefined && !CHANGING.includes(s.name)) continue;

  describe(`samples/${s.name}: two-point against tshark`, () => {
    it(`${clients.map((c) => c.file).join(', ')} and ${server.file}`, async () => {
      const { store, findings } = await pipeline([...clients.map((c) => join(s.dir, c.file)), join(s.dir, server.file)]);
      stores.push(store);
      const far = byIsn(join(s.dir, server.file));
      for (const c of clients) {
        const near = byIsn(join(s.dir, c.file));
        const pairs = [...near].filter(([isn]) => far.has(isn)).map(([isn, n]) => ({ n, f: far.get(isn)! }));
        const tp = findings.filter((x) => x.detector === 'two-point' && x.evidence.near === c.file);
        expect(tp).toHaveLength(1);
        const ev = tp[0].evidence as Record<string, any>;
        expect([c.file, ev.far, ev.matched]).toEqual([c.file, server.file, pairs.length]);

        // Source NAT: addresses mapped, ports kept or rewritten.
        const same = (a: Set<number>, b: Set<number>): boolean => a.size === b.size && [...a].every((x) => b.has(x));
        const nat = pairs.filter((p) => p.n.addr !== p.f.addr || !same(p.n.ports, p.f.ports));
        const kept = nat.filter((p) => same(p.n.ports, p.f.ports)).length;
        const mappings = new Map<string, number>();
        for (const p of nat) mappings.set(`${p.n.addr} ${p.f.addr}`, (mappings.get(`${p.n.addr} ${p.f.addr}`) ?? 0) + 1);
        if (nat.length === 0) {
          expect(ev.sourceNat).toBeUndefined();
        } else {
          expect([ev.sourceNat.connections, ev.sourceNat.portsKept, ev.sourceNat.portsRewritten]).toEqual([nat.length, kept, nat.length - kept]);
          expect(new Map((ev.sourceNat.mappings as { near: string; far: string; connections: number }[]).map((x) => [`${x.near} ${x.far}`, x.connections]))).toEqual(mappings);
          expect(tp[0].summary).toContain(`source NAT on ${nat.length} of ${pairs.length} connections`);
        }

        // Options: each change tshark shows, and none it does not.
        OPTIONS.forEach((_, i) => {
          const synChanged = pairs.filter((p) => p.n.syn[i] !== p.f.syn[i]).length;
          expect([KEYS.syn[i], ev[KEYS.syn[i]]?.changed ?? 0]).toEqual([KEYS.syn[i], synChanged]);
          const both = pairs.filter((p) => p.n.synAck !== null && p.f.synAck !== null);
          const ackChanged = both.filter((p) => p.n.synAck![i] !== p.f.synAck![i]).length;
          expect([KEYS.synAck[i], ev[KEYS.synAck[i]]?.changed ?? 0]).toEqual([KEYS.synAck[i], ackChanged]);
          if (ackChanged > 0) expect(ev[KEYS.synAck[i]].compared).toBe(both.length);
          // The values on each side, per distinct change, as tshark decodes them.
          const kinds = (ps: typeof pairs, side: (p: (typeof pairs)[0]) => [string[], string[]]): Map<string, number> => {
            const m = new Map<string, number>();
            for (const p of ps) { const [n, f] = side(p); if (n[i] !== f[i]) m.set(`${n[i]} ${f[i]}`, (m.get(`${n[i]} ${f[i]}`) ?? 0) + 1); }
            return m;
          };
          const reported = (key: string): Map<string, number> => new Map(((ev[key]?.changes ?? []) as { near: string; far: string; connections: number }[]).map((x) => [`${x.near} ${x.far}`, x.connections]));
          expect(reported(KEYS.syn[i])).toEqual(kinds(pairs, (p) => [p.n.syn, p.f.syn]));
          expect(reported(KEYS.synAck[i])).toEqual(kinds(both, (p) => [p.n.synAck!, p.f.synAck!]));
        });
        // Never a "change" between two equal values.
        for (const m of tp[0].summary.matchAll(/changed on \d+ of \d+: (\S+)(?: sent)? at \S+, (\S+) at /g)) expect(m[1]).not.toBe(m[2]);

        // The lab's SNAT rule: a port pool the clients' own ports lie outside of rewrites every port.
        const rule = /SNAT --to-source [\d.]+:(\d+)-(\d+)/.exec(readFileSync(join(s.dir, 'lab-env.txt'), 'utf8'));
        if (rule) {
          const used = (s.expected.facts.client_local_ports_used as number[] | undefined) ?? [];
          if (used.length > 0 && used.every((p) => p < Number(rule[1]) || p > Number(rule[2]))) {
            expect(ev.sourceNat.portsRewritten).toBe(ev.matched);
          }
        }
      }
    });
  });
}
