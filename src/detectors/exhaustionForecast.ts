import { ep } from './format.js';
import type { Detector, DetectorContext, Finding } from './types.js';
import { pathConns, pathKey } from './paths.js';
import { compareRate, comparisonText, isHot, peakRate, rateText } from './rate.js';
import { reuseWithinTimeWaitSql } from './timeWait.js';
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
  *run(ctx: DetectorContext): Generator<Finding> {
    const { db, timeWaitUsec } = ctx;
    const range = ctx.portHi - ctx.portLo + 1;
    const sustain = range / (timeWaitUsec / 1e6);
    // Paths where a port really came back within TIME_WAIT (a synchronized previous incarnation
    // closed with a FIN: timeWait.ts), read before pathConns so no statement is open at a yield.
    const twReuses = new Map<string, number>();
    for (const r of db.prepare(`SELECT capture_id, client_addr, server_addr, server_port, count(*) AS n FROM connections c
        WHERE ${reuseWithinTimeWaitSql('c')} GROUP BY capture_id, client_addr, server_addr, server_port`).all(timeWaitUsec) as Record<string, any>[]) {
      twReuses.set(pathKey(r.capture_id, r.client_addr, r.server_addr, r.server_port), r.n);
    }
    for (const s of pathConns(db)) {
      if (s.t.length < 2) continue;
      const p = { capture_id: s.captureId, client_addr: s.client, server_addr: s.server, server_port: s.port, n: s.t.length, ports: s.distinctPorts };
      const events = s.t.map((t, i) => ({ t, key: s.ports[i] }));
      const { peak, atUsec } = peakDistinctInWindow(events, timeWaitUsec);
      const rate = peakRate(s.t, timeWaitUsec);
      const cmp = compareRate(rate, sustain);
      const used = peak / range;
      // The most connections in one TIME_WAIT period, against the distinct ports among them.
      const most = rate.connections;
      // Ports came back within one period while most of the range stayed unused: the range the
      // client really draws from (its setting, a bind(), a NAT pool) is narrower than assumed.
      // Only a port that came back after a close into TIME_WAIT shows it (a retry after an
      // unanswered attempt reuses a port that nothing holds).
      const narrow = most > peak && p.ports < range / 4 && (twReuses.get(pathKey(p.capture_id, p.client_addr, p.server_addr, p.server_port)) ?? 0) > 0;
      // Only a rate held over a whole TIME_WAIT period forecasts exhaustion.
      const sustained = rate.kind === 'rate' && rate.windowUsec >= timeWaitUsec;
      if (used < REPORT_SHARE && !isHot(rate, sustain) && !narrow) continue;
      if (rate.kind === 'burst' && !narrow && used < REPORT_SHARE) continue; // a short burst alone forecasts nothing
      const path = `${p.client_addr} -> ${ep(p.server_addr, p.server_port)}`;
      const lever = narrow
        ? `ports were reused within TIME_WAIT while only ${p.ports} distinct one${p.ports === 1 ? '' : 's'} appeared: the range the client draws from (its ip_local_port_range, an explicit bind(), a NAT port pool) is far narrower than ${ctx.portLo}-${ctx.portHi}; widen it or add source addresses`
        : rate.kind === 'rate' && sustained && rate.perS > sustain * 2
        ? `the rate is ${(rate.perS / sustain).toFixed(1)}x what one address sustains: more source addresses (${Math.ceil(rate.perS / sustain)} or more) or pooling`
        : 'a wider ip_local_port_range buys headroom; pooling removes the need';
      yield {
        id: `exhaustion-forecast/${p.capture_id}/${path}`,
        detector: 'exhaustion-forecast',
        severity: used > 0.8 || (cmp === 'above' && sustained) ? 'warning' : 'info',
        captureId: p.capture_id,
        connId: null,
        tsUsec: atUsec,
        summary: `${path}: up to ${peak} distinct source port${peak === 1 ? '' : 's'} within one ${timeWaitUsec / 1e6} s TIME_WAIT period (${(used * 100).toPrecision(2)}% of ${range}), new connections at ${rateText(rate)}${cmp ? `, ${comparisonText(cmp)} the ${sustain.toFixed(0)}/s that the range sustains${sustained ? '' : ' (not held for a whole TIME_WAIT period)'}` : ''}; ${lever}`,
        evidence: {
          frames: [], path, peakPorts: peak, range, usedShare: used, headroomPorts: Math.max(0, range - peak), peakAtUsec: atUsec,
          rate, comparison: cmp, sustained, sustainablePerS: sustain, distinctPorts: p.ports, connections: p.n, narrowRange: narrow, lever,
        },
      };
    }
  },
};
