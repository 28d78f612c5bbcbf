import { craftedSynSql } from './anomalySql.js';
import { firstN } from './format.js';
import { STRIPPED_NOP_RUN } from './tsStripped.js';
import type { Detector, DetectorContext, Finding } from './types.js';

/**
 * nat-clients: several hosts behind one source address, told apart by what each host's
 * stack stamps on its SYNs:
 *  - IP TTL: hosts at other hop counts, or with another initial TTL (64 Linux/macOS, 128
 *    Windows), arrive with different TTLs;
 *  - timestamp use: some SYNs with the option and some without (and no NOP run where it
 *    would be, which would mean a gateway removed it instead);
 *  - TSval clocks: TSval - capture time stays constant for one clock. Linux adds a random
 *    offset keyed on the connection (net/core/secure_seq.c): per connection in 4.10
 *    (95a22caee396), per address pair from 4.11 (28ee1b746f49, for tcp_tw_recycle), per 4-tuple
 *    again since 165573e41f2f ("tcp: secure_seq: add back ports to TS offset"). Where it hashes
 *    the ports every connection looks like its own clock and the clocks cannot count hosts; that
 *    case is recognised and left out, and only hosts with one clock for all their connections
 *    (net.ipv4.tcp_timestamps=2, per-address-pair kernels, kernels before 4.10, other stacks)
 *    are counted by clock. Each connection is read by its first SYN's TSval, so the counts here
 *    are connections, not SYN packets.
 */

/** Offsets (TSval ms - capture ms) closer than this belong to one clock. */
const SAME_CLOCK_MS = 2000;
const MIN_SYNS = 4;
/** A clock seen on this many source ports is a host's, not a reused tuple's. */
const STEADY_CLOCK_SYNS = 3;

/** One piece of evidence that an address is several hosts, and how many hosts it proves (null: more than one, no number). */
export interface NatSignal { kind: 'ttl-families' | 'ttl-values' | 'timestamp-use' | 'steady-clocks' | 'per-connection-clocks' | 'ip-id-counters'; hosts: number | null; text: string }

type Row = { capture_id: number; client_addr: string; client_port: number; syn_ts_usec: number; syn_ttl: number | null; syn_ip_id: number | null; syn_ts: number; syn_tsval: number | null; syn_nop_run: number; syn_frame: number };

/**
 * Group TSval clocks: offsets sorted, a gap wider than SAME_CLOCK_MS starts a new clock.
 * Returns, per clock, its SYNs and its distinct source ports: a 4-tuple reused keeps its
 * offset on current Linux, so only a clock seen on several ports is a host's own clock.
 */
export function clockClusters(rows: { tUsec: number; tsval: number; port: number }[]): { syns: number; ports: number }[] {
  const offs = rows.map((r) => ({ off: (r.tsval - Math.floor(r.tUsec / 1000)) | 0, port: r.port })).sort((a, b) => a.off - b.off);
  const out: { syns: number; ports: Set<number> }[] = [];
  for (let i = 0; i < offs.length; i++) {
    if (i === 0 || offs[i].off - offs[i - 1].off > SAME_CLOCK_MS) out.push({ syns: 0, ports: new Set() });
    const c = out[out.length - 1];
    c.syns++;
    c.ports.add(offs[i].port);
  }
  return out.map((c) => ({ syns: c.syns, ports: c.ports.size }));
}

/** A counter's next SYN is at most this far ahead of its last (other packets use IDs between). */
const ID_STEP_MAX = 2048;
/** A global counter advances by the host's packets between two of its SYNs: a few per connection. */
const ID_MEDIAN_STEP_MAX = 64;
/** SYNs a counter needs before it counts as one. */
const ID_COUNTER_SYNS = 5;
/** More counters than this among one address's SYNs are what random IDs chained greedily look like. */
const ID_COUNTERS_MAX = 8;

/**
 * How many global IP ID counters the SYNs (in time order) follow: each SYN extends the
 * counter it is a little ahead of, or starts one. Linux gives every connection its own random
 * IP ID start (tcp_v4_connect, ip_select_ident_segs), and random values chained greedily look
 * like counters once an address has a few hundred SYNs (the chains fill the ID space). So it
 * counts only when few counters, each of ID_COUNTER_SYNS or more SYNs climbing by small steps
 * (median at most ID_MEDIAN_STEP_MAX), explain nearly every SYN; anything else is none.
 * test/detectors/natClients.test.ts holds it against random IDs, 6 to 5000 SYNs.
 */
export function ipIdCounters(ids: number[]): number {
  if (ids.length < 2 * ID_COUNTER_SYNS) return 0;
  const lasts: number[] = [];
  const sizes: number[] = [];
  const steps: number[][] = [];
  for (const id of ids) {
    let best = -1;
    for (let k = 0; k < lasts.length; k++) {
      const step = (id - lasts[k] + 65536) % 65536;
      if (step > 0 && step <= ID_STEP_MAX && (best < 0 || step < (id - lasts[best] + 65536) % 65536)) best = k;
    }
    if (best < 0) { lasts.push(id); sizes.push(1); steps.push([]); } else { steps[best].push((id - lasts[best] + 65536) % 65536); lasts[best] = id; sizes[best]++; }
  }
  const real = sizes.map((n, k) => ({ n, k })).filter((c) => c.n >= ID_COUNTER_SYNS);
  if (real.length > ID_COUNTERS_MAX) return 0;
  const covered = real.reduce((s, c) => s + c.n, 0);
  if (covered < 0.9 * ids.length) return 0;
  const median = (xs: number[]): number => { const a = [...xs].sort((x, y) => x - y); return a[Math.floor((a.length - 1) / 2)]; };
  return real.every((c) => median(steps[c.k]) <= ID_MEDIAN_STEP_MAX) ? real.length : 0;
}

/** TTLs and how many connections' SYNs arrived with each: "63 on 12 connections, 127 on 4". */
const ttlCounts = (ttls: [number, number][]): string => ttls.map(([t, n], i) => `${t} on ${n}${i === 0 ? ` connection${n === 1 ? '' : 's'}` : ''}`).join(', ');

/** The initial TTL a stack sends with (64 Linux/macOS, 128 Windows, 255 some routers and old stacks). */
const ttlFamily = (ttl: number): number => (ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255);

export const natClients: Detector = {
  id: 'nat-clients',
  title: 'Several hosts behind one address',
  run(ctx: DetectorContext): Finding[] {
    // One row per client address (with MIN_SYNS SYNs or more), its SYNs as one JSON array in time
    // order (the GROUP BY walks the prefix of conn_path). Rows per SYN, sorted by address, made the
    // detector 610 ms of CPU on the 100 000-connection bench store, this 379 (bench/detectors.mjs).
    const groups = ctx.db.prepare(`SELECT capture_id, client_addr, json_group_array(json_array(client_port, syn_ts_usec, syn_ttl, syn_ip_id, syn_ts,
        syn_tsval, syn_nop_run, syn_frame) ORDER BY syn_ts_usec, id)
      FROM connections c WHERE syn_count > 0 AND roles_inferred = 0 AND NOT ${craftedSynSql('c')}
      GROUP BY capture_id, client_addr HAVING count(*) >= ${MIN_SYNS} ORDER BY capture_id, client_addr`).raw();
    const findings: Finding[] = [];
    for (const [captureId, address, json] of groups.iterate() as Iterable<[number, string, string]>) {
      const g: Row[] = (JSON.parse(json) as number[][]).map((a) => ({ capture_id: captureId, client_addr: address, client_port: a[0], syn_ts_usec: a[1],
        syn_ttl: a[2], syn_ip_id: a[3], syn_ts: a[4], syn_tsval: a[5], syn_nop_run: a[6], syn_frame: a[7] }));
      const signals: NatSignal[] = [];
      let hosts = 1;
      let moreThanOne = false;
      const ttls = new Map<number, number>();
      for (const r of g) if (r.syn_ttl !== null) ttls.set(r.syn_ttl, (ttls.get(r.syn_ttl) ?? 0) + 1);
      // A value seen once could be a routing change; count TTLs that recur. Only different initial
      // TTLs (stack families) prove different hosts; other hop counts within one family could be
      // one host whose route changed, so they say "more than one" without a number.
      const steadyTtls = [...ttls.entries()].filter(([, n]) => n >= 2);
      const families = new Set(steadyTtls.map(([t]) => ttlFamily(t)));
      if (families.size >= 2) {
        hosts = Math.max(hosts, families.size);
        signals.push({ kind: 'ttl-families', hosts: families.size, text: `SYNs arrive with IP TTLs of ${families.size} different initial values (${ttlCounts(steadyTtls)})` });
      } else if (steadyTtls.length >= 2) {
        moreThanOne = true;
        signals.push({ kind: 'ttl-values', hosts: null, text: `SYNs arrive with ${steadyTtls.length} different IP TTLs of one initial value (${ttlCounts(steadyTtls)}): other hop counts, or one host whose route changed` });
      }
      const withTs = g.filter((r) => r.syn_ts === 1);
      const withoutTs = g.filter((r) => r.syn_ts === 0 && r.syn_nop_run < STRIPPED_NOP_RUN);
      if (withTs.length >= 2 && withoutTs.length >= 2) {
        hosts = Math.max(hosts, 2);
        signals.push({ kind: 'timestamp-use', hosts: 2, text: `the SYNs of ${withTs.length} connections carry TCP timestamps and those of ${withoutTs.length} do not (no NOP run where the option would be, so no gateway removed it)` });
      }
      let clocks: number[] = [];
      let perConnection = false;
      // Hosts that send timestamps: one per steady clock, plus one (at least) for SYNs whose
      // offsets are all different (per-connection offsets); hosts that send none: one, at least.
      let tsHosts = withTs.length > 0 ? 1 : 0;
      if (withTs.length >= MIN_SYNS) {
        const all = clockClusters(withTs.map((r) => ({ tUsec: r.syn_ts_usec, tsval: r.syn_tsval!, port: r.client_port })));
        clocks = all.map((c) => c.syns);
        const isSteady = (c: { syns: number; ports: number }): boolean => c.ports >= STEADY_CLOCK_SYNS;
        const steady = all.filter(isSteady).map((c) => c.syns);
        const scattered = all.filter((c) => !isSteady(c)).reduce((s, c) => s + c.ports, 0);
        perConnection = scattered >= STEADY_CLOCK_SYNS;
        tsHosts = Math.max(1, steady.length + (perConnection ? 1 : 0));
        if (steady.length) signals.push({ kind: 'steady-clocks', hosts: steady.length, text: `${steady.length} steady timestamp clock${steady.length > 1 ? 's' : ''} (${steady.join(', ')} connections): hosts with one clock for all their connections` });
        if (perConnection) signals.push({ kind: 'per-connection-clocks', hosts: 1, text: `${scattered} source ports with a timestamp offset each: per-connection offsets, which count as one host at least, however many there are` });
      }
      const tsEstimate = tsHosts + (withoutTs.length >= 2 ? 1 : 0);
      if (tsEstimate > hosts) hosts = tsEstimate;
      const counters = ipIdCounters(g.filter((r) => r.syn_ip_id !== null).map((r) => r.syn_ip_id!));
      if (counters >= 2) {
        hosts = Math.max(hosts, counters);
        signals.push({ kind: 'ip-id-counters', hosts: counters, text: `the SYNs' IP IDs climb along ${counters} separate counters (one per host, as stacks with a global IP ID counter do)` });
      }
      if (hosts < 2 && !moreThanOne) continue;
      const proven = hosts >= 2 ? hosts : null;
      const addr = g[0].client_addr;
      findings.push({
        id: `nat-clients/${g[0].capture_id}/${addr}`,
        detector: 'nat-clients',
        severity: 'info',
        captureId: g[0].capture_id,
        connId: null,
        tsUsec: g[0].syn_ts_usec,
        summary: `${addr} is ${proven !== null ? `at least ${proven} hosts` : 'more than one host'} behind NAT: ${signals.map((x) => x.text).join('; ')}. Their connections share one address's port space and TIME_WAIT tuples, and any per-address timestamp check (tcp_tw_recycle) breaks them`,
        evidence: {
          frames: firstN(g.map((r) => r.syn_frame)), address: addr, estimatedHosts: proven, moreThanOne: true, signals, syns: g.length,
          ttls: Object.fromEntries(ttls), withTimestamps: withTs.length, withoutTimestamps: withoutTs.length,
          tsClocks: perConnection ? null : clocks, perConnectionTsOffsets: perConnection, ipIdCounters: counters,
        },
      });
    }
    return findings;
  },
};
