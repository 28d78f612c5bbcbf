import { MIN_CLOSED, usualCloser } from './closer.js';
import { ep } from './format.js';
import { fmtS } from './stats.js';
import type { Detector, DetectorContext, Finding } from './types.js';
import { peakInWindow } from './window.js';

/**
 * server-closes-first: per server endpoint, the share of connections whose first FIN came
 * from the server (MySQL answering COM_QUIT, HTTP/1.0 servers, Redis QUIT). The active
 * closer holds TIME_WAIT (RFC 9293 §3.6), so these connections leave TIME_WAIT entries on the
 * server: their peak count within one TIME_WAIT period is the population the server carries,
 * to set against net.ipv4.tcp_max_tw_buckets (beyond it the kernel destroys new TIME_WAIT
 * sockets and logs "TCP: time wait bucket table overflow").
 */

/** A common tcp_max_tw_buckets value (it scales with memory; read the host's sysctl). */
export const TYPICAL_MAX_TW_BUCKETS = 262_144;

export const serverClosesFirst: Detector = {
  id: 'server-closes-first',
  title: 'Server closes first and holds TIME_WAIT',
  run(ctx: DetectorContext): Finding[] {
    const { db, timeWaitUsec } = ctx;
    const findings: Finding[] = [];
    const rows = db.prepare(`SELECT capture_id, server_addr, server_port, count(*) AS closed, sum(first_fin_by = 'server') AS server_first,
        min(CASE WHEN first_fin_by = 'server' THEN server_fin_frame END) AS frame
      FROM connections WHERE first_fin_by IS NOT NULL GROUP BY capture_id, server_addr, server_port HAVING closed >= ${MIN_CLOSED}`).all() as Record<string, any>[];
    const closes = db.prepare(`SELECT coalesce(closed_ts_usec, server_fin_ts_usec) FROM connections
      WHERE capture_id = ? AND server_addr = ? AND server_port = ? AND first_fin_by = 'server' ORDER BY 1`).pluck();
    for (const r of rows) {
      const share = r.server_first / r.closed;
      if (usualCloser(r.closed, r.server_first) !== 'server') continue;
      // Streamed: a busy server closes millions of connections; only one window's are held.
      const { peak, atUsec } = peakInWindow(closes.iterate(r.capture_id, r.server_addr, r.server_port) as Iterable<number>, timeWaitUsec);
      const server = ep(r.server_addr, r.server_port);
      findings.push({
        id: `server-closes-first/${r.capture_id}/${server}`,
        detector: 'server-closes-first',
        severity: 'info',
        captureId: r.capture_id,
        connId: null,
        tsUsec: atUsec,
        summary: `${server} sent the first FIN on ${r.server_first} of ${r.closed} closed connections (${Math.round(share * 100)}%), so it holds their TIME_WAIT for ${fmtS(timeWaitUsec)}: up to ${peak} such entries at once in this capture${peak * 10 > TYPICAL_MAX_TW_BUCKETS ? `, near net.ipv4.tcp_max_tw_buckets (commonly ${TYPICAL_MAX_TW_BUCKETS})` : ''}`,
        evidence: {
          frames: r.frame !== null ? [r.frame] : [], server, closed: r.closed, serverFirst: r.server_first, share,
          peakTimeWait: peak, peakAtUsec: atUsec, timeWaitS: timeWaitUsec / 1e6,
        },
      });
    }
    return findings;
  },
};
