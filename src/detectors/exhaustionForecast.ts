import { ep } from './format.js';
import type { Detector, DetectorContext, Finding } from './types.js';
import { peakDistinctInWindow } from './window.js';

/**
 * exhaustion-forecast: per client address -> server endpoint, the distinct source ports in
 * use within one TIME_WAIT period against the ephemeral range (--port-range). A client that
 * holds TIME_WAIT cannot reuse a port for the same server for 2*MSL, so the range sustains
 * range / TIME_WAIT new connections per second (28 232 / 60 s = 470/s for Linux's default
 * 32768-60999); beyond that connect() fails with EADDRNOTAVAIL, and when the server holds
 * TIME_WAIT, reuse sooner meets it. Which lever helps: more source addresses (each brings
 * the whole range again), a wider range, or fewer connections (pooling).
 */

/** Report a path once its busiest window uses this share of the range. */
const REPORT_SHARE = 0.25;

export const exhaustionForecast: Detector = {
  id: 'exhaustion-forecast',
  title: 'Ephemeral port headroom per client and server',
  run(ctx: DetectorContext): Finding[] {
    const { db, timeWaitUsec } = ctx;
    const range = ctx.portHi - ctx.portLo + 1;
    const sustain = range / (timeWaitUsec / 1e6);
    const findings: Finding[] = [];
    const paths = db.prepare(`SELECT capture_id, client_addr, server_addr, server_port, count(*) AS n, count(DISTINCT client_port) AS ports
      FROM connections WHERE syn_count > 0 GROUP BY capture_id, client_addr, server_addr, server_port HAVING n > 1`).all() as Record<string, any>[];
    // One ordered pass over all SYNs, cut into paths here: a query per path would scan the
    // whole table each time when every connection goes to the same server.
    const byPath = new Map<string, { t: number; key: number }[]>();
    for (const r of db.prepare(`SELECT capture_id, client_addr, server_addr, server_port, syn_ts_usec AS t, client_port AS key FROM connections
        WHERE syn_count > 0 ORDER BY capture_id, client_addr, server_addr, server_port, syn_ts_usec`).raw().iterate() as Iterable<unknown[]>) {
      const k = `${r[0]}|${r[1]}|${r[2]}|${r[3]}`;
      const l = byPath.get(k);
      const ev = { t: r[4] as number, key: r[5] as number };
      if (l) l.push(ev); else byPath.set(k, [ev]);
    }
    for (const p of paths) {
      const events = byPath.get(`${p.capture_id}|${p.client_addr}|${p.server_addr}|${p.server_port}`) ?? [];
      if (events.length < 2) continue;
      const { peak, atUsec } = peakDistinctInWindow(events, timeWaitUsec);
      // New connections in the busiest window, as a rate.
      let most = 0;
      for (let lo = 0, hi = 0; hi < events.length; hi++) {
        while (events[hi].t - events[lo].t >= timeWaitUsec) lo++;
        most = Math.max(most, hi - lo + 1);
      }
      const spanUsec = events[events.length - 1].t - events[0].t;
      const windowUsec = Math.min(timeWaitUsec, Math.max(spanUsec, 1));
      const rate = most / (windowUsec / 1e6);
      const used = peak / range;
      // Ports came back within one period while most of the range stayed unused: the range the
      // client really draws from (its setting, a bind(), a NAT pool) is narrower than assumed.
      const narrow = most > peak && p.ports < range / 4;
      const burst = spanUsec < 10e6;
      if (used < REPORT_SHARE && rate < sustain * REPORT_SHARE && !narrow) continue;
      if (burst && !narrow && used < REPORT_SHARE) continue; // a short burst alone forecasts nothing
      const path = `${p.client_addr} -> ${ep(p.server_addr, p.server_port)}`;
      const lever = narrow
        ? `ports were reused within TIME_WAIT while only ${p.ports} distinct ones appeared: the range the client draws from (its ip_local_port_range, an explicit bind(), a NAT port pool) is far narrower than ${ctx.portLo}-${ctx.portHi}; widen it or add source addresses`
        : rate > sustain * 2
        ? `the rate is ${(rate / sustain).toFixed(1)}x what one address sustains: more source addresses (${Math.ceil(rate / sustain)} or more) or pooling`
        : 'a wider ip_local_port_range buys headroom; pooling removes the need';
      findings.push({
        id: `exhaustion-forecast/${ctx.captureName(p.capture_id)}/${path}`,
        detector: 'exhaustion-forecast',
        severity: used > 0.8 || (rate > sustain && !burst) ? 'warning' : 'info',
        captureId: p.capture_id,
        connId: null,
        tsUsec: atUsec,
        summary: `${path}: up to ${peak} distinct source ports within one ${timeWaitUsec / 1e6} s TIME_WAIT period (${(used * 100).toPrecision(2)}% of ${range}), new connections at up to ${rate.toFixed(1)}/s against ${sustain.toFixed(0)}/s that the range sustains${burst ? ` (over a ${(spanUsec / 1e6).toFixed(2)} s burst only)` : ''}; ${lever}`,
        evidence: {
          frames: [], path, peakPorts: peak, range, usedShare: used, headroomPorts: Math.max(0, range - peak), peakAtUsec: atUsec,
          ratePerS: rate, sustainablePerS: sustain, distinctPorts: p.ports, connections: p.n, lever,
        },
      });
    }
    return findings;
  },
};
