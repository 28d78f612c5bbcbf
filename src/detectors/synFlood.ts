import { craftedSynSql } from './anomalySql.js';
import { NO_CLOCK_TEXT, untrustedCaptures } from './clock.js';
import { ep, firstN } from './format.js';
import { MIN_RATE_WINDOW_USEC, rateText, spanRate } from './rate.js';
import type { Detector, DetectorContext, Finding } from './types.js';
import { peakInWindow } from './window.js';

/**
 * syn-flood: many connection attempts to one server endpoint that the server never answered
 * with a SYN-ACK, or answered and the sender never completed (half-open: SYN, SYN-ACK, RST
 * from a raw-socket sender, the kernel's answer to a SYN-ACK for no socket of its own).
 *
 * Neither leaves TIME_WAIT anywhere (only a synchronized connection enters it, RFC 9293
 * §3.3.2), so such traffic is never port pressure: port-reuse and exhaustion-forecast leave
 * out the SYNs the anomaly stage marks as crafted, and this finding says what the traffic is:
 * how many, how fast (over at least one second, else as a burst), from how many sources, and
 * whether any SYN was answered. Zeek has no flood notice of its own; Suricata's and Snort's
 * stream engines count the same half-open attempts per destination.
 */

/** Unanswered or never-completed attempts to one endpoint before this is called a flood. */
export const FLOOD_MIN_ATTEMPTS = 100;
export const synFlood: Detector = {
  id: 'syn-flood',
  title: 'Floods of SYNs never answered or never completed',
  run(ctx: DetectorContext): Finding[] {
    const { db } = ctx;
    // Per endpoint: every attempt, those the server never answered with a SYN-ACK, and those
    // answered whose client never acknowledged the SYN-ACK (reset or silent).
    const rows = db.prepare(`SELECT capture_id, server_addr, server_port, count(*) AS attempts,
        sum(synack_count = 0 AND answer = 'none') AS unanswered,
        sum(synack_count > 0 AND handshake_acked = 0) AS not_completed,
        sum(synack_count > 0) AS answered_synack, sum(answer = 'rst') AS refused,
        sum(handshake_acked = 1) AS completed,
        sum(${craftedSynSql('c')}) AS crafted,
        count(DISTINCT client_addr) AS sources, count(DISTINCT client_port) AS source_ports,
        min(syn_ts_usec) AS t0, max(syn_ts_usec) AS t1
      FROM connections c WHERE syn_count > 0 GROUP BY capture_id, server_addr, server_port`).all() as Record<string, any>[];
    const times = db.prepare(`SELECT syn_ts_usec FROM connections WHERE capture_id = ? AND server_addr = ? AND server_port = ?
        AND syn_count > 0 AND handshake_acked = 0 AND (synack_count > 0 OR answer = 'none') ORDER BY syn_ts_usec`).pluck();
    const framesStmt = db.prepare(`SELECT syn_frame FROM connections WHERE capture_id = ? AND server_addr = ? AND server_port = ?
        AND syn_count > 0 AND handshake_acked = 0 AND (synack_count > 0 OR answer = 'none') ORDER BY syn_ts_usec LIMIT 10`).pluck();
    const topSources = db.prepare(`SELECT client_addr, count(*) AS n FROM connections WHERE capture_id = ? AND server_addr = ? AND server_port = ?
        AND syn_count > 0 GROUP BY client_addr ORDER BY n DESC, client_addr LIMIT 5`);
    const out: Finding[] = [];
    const untrusted = untrustedCaptures(db);
    for (const r of rows) {
      const failed = r.unanswered + r.not_completed;
      if (failed < FLOOD_MIN_ATTEMPTS || failed * 2 < r.attempts) continue;
      const server = ep(r.server_addr, r.server_port);
      const ts = times.all(r.capture_id, r.server_addr, r.server_port) as number[];
      const spanUsec = ts.length > 1 ? ts[ts.length - 1] - ts[0] : 0;
      // The rate by the one rule (rate.ts): N SYNs over the span from the first to the last are N - 1 intervals.
      const rate = spanRate(ts);
      const perSecond = peakInWindow(ts, MIN_RATE_WINDOW_USEC).peak;
      // No rate where the capture clock is not elapsed time (clock.ts).
      const clockOk = !untrusted.has(r.capture_id);
      const ratePerS = clockOk && rate.kind === 'rate' ? rate.perS : null;
      const sources = (topSources.all(r.capture_id, r.server_addr, r.server_port) as { client_addr: string; n: number }[])
        .map((s) => ({ address: s.client_addr, attempts: s.n }));
      const parts: string[] = [];
      parts.push(`${failed} of ${r.attempts} SYNs to ${server} never became a connection`);
      if (r.unanswered) parts.push(`${r.unanswered} got no answer at all`);
      if (r.not_completed) parts.push(`${r.not_completed} got a SYN-ACK the sender never acknowledged`);
      parts.push(!clockOk ? NO_CLOCK_TEXT : `${rateText(rate, 'SYNs')}${rate.kind === 'rate' ? ` (busiest second: ${perSecond})` : ''}`);
      parts.push(`from ${r.sources} source address${r.sources === 1 ? '' : 'es'} and ${r.source_ports} source ports`);
      if (r.crafted) parts.push(`${r.crafted} SYNs crafted (non-zero ack without ACK, or a new ISN on a live attempt)`);
      parts.push(r.completed > 0 ? `${r.completed} connections did complete` : 'no connection completed');
      out.push({
        id: `syn-flood/${r.capture_id}/${server}`,
        detector: 'syn-flood',
        severity: 'error',
        captureId: r.capture_id,
        connId: null,
        tsUsec: r.t0,
        summary: `${parts.join('; ')}. A SYN flood (or a host retrying a dead service at that rate): no TIME_WAIT or port pressure comes of it`,
        evidence: {
          frames: firstN(framesStmt.all(r.capture_id, r.server_addr, r.server_port) as number[]),
          server, attempts: r.attempts, unanswered: r.unanswered, answeredNotCompleted: r.not_completed,
          answeredBySynAck: r.answered_synack, refused: r.refused, completed: r.completed, anyAnswered: r.answered_synack + r.refused > 0,
          crafted: r.crafted, sources: r.sources, sourcePorts: r.source_ports, topSources: sources,
          spanUsec: clockOk ? spanUsec : null, ratePerS, busiestSecond: clockOk ? perSecond : null, burst: clockOk && ratePerS === null,
        },
      });
    }
    return out;
  },
};
