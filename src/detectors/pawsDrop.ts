import { fastRows } from './batch.js';
import { firstN, runsBy } from './format.js';
import type { Detector, DetectorContext, Finding } from './types.js';

/**
 * paws-drop: SYNs dropped because their timestamp went backwards for their source address.
 * With net.ipv4.tcp_tw_recycle (Linux before 4.12) a server remembered the last TSval per
 * peer address and silently dropped SYNs with an older one (per-host PAWS, RFC 7323 §5
 * applied across connections), which breaks clients behind NAT: each host has its own
 * clock. A TSval going backwards alone proves nothing on current kernels (Linux >= 4.10
 * offsets every connection's clock), so the signature is the correlation: from one
 * address, SYNs whose TSval regressed go unanswered and are retransmitted, while the
 * others get SYN-ACKs.
 */

/** TSval comparisons wrap at 2^32 (RFC 7323 §5.2). */
const before = (a: number, b: number): boolean => ((a - b) | 0) < 0;
/** The per-peer timestamp was trusted for TCP_PAWS_MSL (60 s) after the connection ended. */
const PAWS_MSL_USEC = 60e6;
const MIN_DROPPED = 3;

export const pawsDrop: Detector = {
  id: 'paws-drop',
  title: 'SYNs dropped for an older timestamp (tcp_tw_recycle / per-host PAWS)',
  run(ctx: DetectorContext): Finding[] {
    // Read a client address at a time (runsBy holds one run), not every SYN of the capture.
    const rows = fastRows(ctx.db.prepare(`SELECT id, capture_id, client_addr, client_port, syn_ts_usec, syn_tsval, syn_count, synack_count, syn_frame,
        client_last_tsval, last_ts_usec
      FROM connections WHERE syn_count > 0 AND syn_ts = 1 ORDER BY capture_id, client_addr, syn_ts_usec`));
    const findings: Finding[] = [];
    for (const group of runsBy(rows, (r) => `${r.capture_id}|${r.client_addr}`)) {
      // The newest TSval the server had seen from this address, from connections it answered.
      let recent: { tsval: number; tUsec: number } | null = null;
      const regressed: Record<string, any>[] = [];
      const fine: Record<string, any>[] = [];
      for (const c of group) {
        const back = recent !== null && c.syn_ts_usec - recent.tUsec < PAWS_MSL_USEC && before(c.syn_tsval, recent.tsval);
        (back ? regressed : fine).push(c);
        if (c.synack_count > 0) {
          const last = c.client_last_tsval ?? c.syn_tsval;
          if (recent === null || !before(last, recent.tsval)) recent = { tsval: last, tUsec: c.last_ts_usec };
        }
      }
      const dropped = regressed.filter((c) => c.synack_count === 0 && c.syn_count > 1);
      const fineDropped = fine.filter((c) => c.synack_count === 0);
      if (dropped.length < MIN_DROPPED || dropped.length < 0.8 * regressed.length || fineDropped.length > 0.2 * Math.max(1, fine.length)) continue;
      const addr = group[0].client_addr;
      // Counted as connection attempts (each read by its first SYN's TSval), and their SYNs,
      // retransmits included, which is what a tcpdump of the unanswered SYNs counts.
      const droppedSyns = dropped.reduce((n, c) => n + c.syn_count, 0);
      findings.push({
        id: `paws-drop/${group[0].capture_id}/${addr}`,
        detector: 'paws-drop',
        severity: 'error',
        captureId: group[0].capture_id,
        connId: dropped[0].id,
        tsUsec: dropped[0].syn_ts_usec,
        summary: `${dropped.length} of ${regressed.length} connection attempts from ${addr} whose SYN's TSval was older than one the server had just seen from that address got no answer to any of their ${droppedSyns} SYNs (retransmits included), while ${fine.length - fineDropped.length} of ${fine.length} other attempts were answered: the server drops SYNs per host by timestamp (net.ipv4.tcp_tw_recycle=1 on a kernel before 4.12), and ${addr} is several hosts behind NAT with their own clocks`,
        evidence: { frames: firstN(dropped.map((c) => c.syn_frame)), address: addr, regressed: regressed.length, dropped: dropped.length,
          droppedSyns, answered: fine.length - fineDropped.length, others: fine.length },
      });
    }
    return findings;
  },
};
