import { fastAll } from './batch.js';
import { firstN, runsBy } from './format.js';
import type { Detector, DetectorContext, Finding } from './types.js';

/**
 * nat-clients: several hosts behind one source address, told apart by what each host's
 * stack stamps on its SYNs:
 *  - IP TTL: hosts at other hop counts, or with another initial TTL (64 Linux/macOS, 128
 *    Windows), arrive with different TTLs;
 *  - timestamp use: some SYNs with the option and some without (and no NOP run where it
 *    would be, which would mean a gateway removed it instead);
 *  - TSval clocks: TSval - capture time stays constant for one clock. Linux >= 4.10 adds a
 *    per-connection (on this kernel, per 4-tuple) random offset, so there every connection
 *    looks like its own clock and the clocks cannot count hosts (TCP-FACTS.md); that case
 *    is recognised and left out, and only hosts without the offset (net.ipv4.tcp_timestamps=2,
 *    older kernels, other stacks) are counted by clock.
 */

/** Offsets (TSval ms - capture ms) closer than this belong to one clock. */
const SAME_CLOCK_MS = 2000;
const MIN_SYNS = 4;
/** A clock seen on this many source ports is a host's, not a reused tuple's. */
const STEADY_CLOCK_SYNS = 3;

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

/**
 * How many global IP ID counters the SYNs (in time order) follow: each SYN extends the
 * counter it is a little ahead of, or starts one. Counts only when counters of 3 or more
 * SYNs explain nearly every SYN: random per-connection IDs (current Linux) make many
 * one-SYN "counters" and count as none.
 */
export function ipIdCounters(ids: number[]): number {
  if (ids.length < 6) return 0;
  const lasts: number[] = [];
  const sizes: number[] = [];
  for (const id of ids) {
    let best = -1;
    for (let k = 0; k < lasts.length; k++) {
      const step = (id - lasts[k] + 65536) % 65536;
      if (step > 0 && step <= ID_STEP_MAX && (best < 0 || step < (id - lasts[best] + 65536) % 65536)) best = k;
    }
    if (best < 0) { lasts.push(id); sizes.push(1); } else { lasts[best] = id; sizes[best]++; }
  }
  const real = sizes.filter((n) => n >= 3);
  const covered = real.reduce((s, n) => s + n, 0);
  return covered >= 0.9 * ids.length ? real.length : 0;
}

export const natClients: Detector = {
  id: 'nat-clients',
  title: 'Several hosts behind one address',
  run(ctx: DetectorContext): Finding[] {
    const rows = fastAll<Row>(ctx.db.prepare(`SELECT capture_id, client_addr, client_port, syn_ts_usec, syn_ttl, syn_ip_id, syn_ts, syn_tsval, syn_nop_run, syn_frame
      FROM connections WHERE syn_count > 0 AND roles_inferred = 0 ORDER BY capture_id, client_addr, syn_ts_usec`));
    const findings: Finding[] = [];
    for (const g of runsBy(rows, (r) => `${r.capture_id}|${r.client_addr}`)) {
      if (g.length < MIN_SYNS) continue;
      const signals: string[] = [];
      let hosts = 1;
      const ttls = new Map<number, number>();
      for (const r of g) if (r.syn_ttl !== null) ttls.set(r.syn_ttl, (ttls.get(r.syn_ttl) ?? 0) + 1);
      // A value seen once could be a routing change; count TTLs that recur.
      const steadyTtls = [...ttls.entries()].filter(([, n]) => n >= 2);
      if (steadyTtls.length >= 2) {
        hosts = Math.max(hosts, steadyTtls.length);
        signals.push(`SYNs arrive with ${steadyTtls.length} different IP TTLs (${steadyTtls.map(([t, n]) => `${t}: ${n}`).join(', ')})`);
      }
      const withTs = g.filter((r) => r.syn_ts === 1);
      const withoutTs = g.filter((r) => r.syn_ts === 0 && r.syn_nop_run < 10);
      if (withTs.length >= 2 && withoutTs.length >= 2) {
        hosts = Math.max(hosts, 2);
        signals.push(`${withTs.length} SYNs carry TCP timestamps and ${withoutTs.length} do not (no NOP run where the option would be, so no gateway removed it)`);
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
        if (steady.length) signals.push(`${steady.length} steady timestamp clock${steady.length > 1 ? 's' : ''} (${steady.join(', ')} SYNs)`);
        if (perConnection) signals.push(`${scattered} source ports with a timestamp offset each: per-connection offsets (Linux >= 4.10), which count as one host at least, however many there are`);
      }
      const tsEstimate = tsHosts + (withoutTs.length >= 2 ? 1 : 0);
      if (tsEstimate > hosts) hosts = tsEstimate;
      const counters = ipIdCounters(g.filter((r) => r.syn_ip_id !== null).map((r) => r.syn_ip_id!));
      if (counters >= 2) {
        hosts = Math.max(hosts, counters);
        signals.push(`the SYNs' IP IDs climb along ${counters} separate counters (one per host, as stacks with a global IP ID counter do)`);
      }
      if (hosts < 2) continue;
      const addr = g[0].client_addr;
      findings.push({
        id: `nat-clients/${ctx.captureName(g[0].capture_id)}/${addr}`,
        detector: 'nat-clients',
        severity: 'info',
        captureId: g[0].capture_id,
        connId: null,
        tsUsec: g[0].syn_ts_usec,
        summary: `${addr} is at least ${hosts} hosts behind NAT: ${signals.join('; ')}. Their connections share one address's port space and TIME_WAIT tuples, and any per-address timestamp check (tcp_tw_recycle) breaks them`,
        evidence: {
          frames: firstN(g.map((r) => r.syn_frame)), address: addr, estimatedHosts: hosts, syns: g.length,
          ttls: Object.fromEntries(ttls), withTimestamps: withTs.length, withoutTimestamps: withoutTs.length,
          tsClocks: perConnection ? null : clocks, perConnectionTsOffsets: perConnection, ipIdCounters: counters,
        },
      });
    }
    return findings;
  },
};
