import { NO_CLOCK_TEXT, untrustedCaptures } from './clock.js';
import { ep, firstN } from './format.js';
import { peakRate, rateText } from './rate.js';
import type { Detector, DetectorContext, Finding } from './types.js';

/**
 * refused: SYNs answered by RST (Zeek REJ), per server endpoint. A host answers a SYN with
 * RST when nothing listens on the port (RFC 9293 §3.10.7.1), or a firewall REJECT does it
 * for it; a backend that went down shows as a burst of these.
 */
export const refused: Detector = {
  id: 'refused',
  title: 'Connections refused',
  run(ctx: DetectorContext): Finding[] {
    const rows = ctx.db.prepare(`SELECT capture_id, server_addr, server_port, count(*) AS attempts, sum(conn_state = 'REJ') AS refused,
        min(CASE WHEN conn_state = 'REJ' THEN syn_ts_usec END) AS t0, max(CASE WHEN conn_state = 'REJ' THEN syn_ts_usec END) AS t1,
        group_concat(CASE WHEN conn_state = 'REJ' THEN answer_frame END) AS frames,
        group_concat(CASE WHEN conn_state = 'REJ' THEN syn_ts_usec END) AS times
      FROM connections WHERE syn_count > 0 GROUP BY capture_id, server_addr, server_port HAVING refused > 0`).all() as Record<string, any>[];
    const untrusted = untrustedCaptures(ctx.db);
    return rows.map((r): Finding => {
      const server = ep(r.server_addr, r.server_port);
      // The rate by the one rule (rate.ts): under a second of refusals is a burst, never a rate per second.
      // No rate where the capture clock is not elapsed time (clock.ts).
      const rate = untrusted.has(r.capture_id) ? null : peakRate(String(r.times).split(',').map(Number).sort((a, b) => a - b), ctx.timeWaitUsec);
      const frames = String(r.frames).split(',').map(Number).sort((a, b) => a - b);
      return {
        id: `refused/${r.capture_id}/${server}`,
        detector: 'refused',
        severity: 'error',
        captureId: r.capture_id,
        connId: null,
        tsUsec: r.t0,
        summary: `${server} refused ${r.refused} of ${r.attempts} connection attempts (SYN answered by RST)${r.refused > 1 ? `, ${rate === null ? NO_CLOCK_TEXT : rate.kind === 'burst' ? rateText(rate) : `peak ${rateText(rate, 'refusals')}`}` : ''}: nothing listening there, or a firewall rejecting`,
        evidence: { frames: firstN(frames), server, refused: r.refused, attempts: r.attempts, firstUsec: r.t0, lastUsec: r.t1, rate, ratePerS: rate?.kind === 'rate' ? rate.perS : null },
      };
    });
  },
};
