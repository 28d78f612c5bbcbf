import { hasAnomalySql } from './anomalySql.js';
import { usualCloser } from './closer.js';
import { ep, firstN } from './format.js';
import { pathConns, pathKey, type PathConns } from './paths.js';
import { compareRate, comparisonText, isHot, peakRate, rateSpanText, rateText } from './rate.js';
import { fmtS } from './stats.js';
import { reuseWithinTimeWaitSql } from './timeWait.js';
import type { Detector, DetectorContext, Finding } from './types.js';

/**
 * port-reuse: a new SYN on a 4-tuple within the TIME_WAIT period after the previous
 * incarnation closed.
 *
 * The active closer (first FIN) holds TIME_WAIT for 2*MSL: 60 s on Linux
 * (TCP_TIMEWAIT_LEN), 120 s or 240 s on Windows (TcpTimedWaitDelay). When the server
 * holds it, only a SYN whose sequence is after the old rcv_nxt, or whose timestamp is
 * newer, is accepted (RFC 6191; tcp_timewait_state_process), and the accepted SYN gets
 * server ISN = old snd_nxt + 65537 (tcp_timewait_state_process sets tw_snd_nxt + 65535 + 2).
 * A SYN that is not accepted gets a stale ACK: the reuse failed.
 *
 * Per client -> server endpoint the rate of new connections is set against what the
 * port range sustains: ports / TIME_WAIT (28 232 / 60 s = 470 per s for Linux's
 * default 32768-60999).
 */

type Row = Record<string, any>;

/** What a client -> server path's summary needs of its reuses. */
interface PathReuse { reuses: number; failed: number; failedFrames: number[]; fromTw: number; outcomes: Record<string, number>; minGap: number; maxGap: number }

export type ReuseOutcome = 'accepted-from-time-wait' | 'accepted' | 'stale-ack' | 'refused' | 'no-answer' | 'other';

/** Paths whose reuse figures are read together (one key range). */
const PATH_BATCH = 512;

/** Items in lists of up to n, in order. */
function* inBatches<T>(items: Iterable<T>, n: number): Generator<T[]> {
  let b: T[] = [];
  for (const x of items) { b.push(x); if (b.length === n) { yield b; b = []; } }
  if (b.length > 0) yield b;
}

/** Outcomes that count as a failed reuse. */
const FAILED = new Set<ReuseOutcome>(['stale-ack', 'no-answer', 'refused']);

/**
 * How the server answered a reused tuple's SYN (a ReuseOutcome), as SQL over a connections row,
 * so that it runs where the rows are: a SYN accepted from TIME_WAIT gets ISN = old snd_nxt +
 * 65537 mod 2^32.
 */
export const OUTCOME_SQL = `CASE answer
  WHEN 'synack' THEN CASE WHEN prev_server_next IS NOT NULL AND server_isn = (prev_server_next + 65537) % 4294967296
    THEN 'accepted-from-time-wait' ELSE 'accepted' END
  WHEN 'ack' THEN CASE WHEN foreign_ack_count > 0 THEN 'stale-ack'
    WHEN ${hasAnomalySql('id', ['synack-not-captured'])} THEN 'accepted' ELSE 'other' END
  WHEN 'rst' THEN 'refused' WHEN 'none' THEN 'no-answer' ELSE 'other' END`;

export const portReuse: Detector = {
  id: 'port-reuse',
  title: 'Source ports reused within TIME_WAIT',
  *run(ctx: DetectorContext): Generator<Finding> {
    const { db, timeWaitUsec } = ctx;
    // A client's SYN after a synchronized previous incarnation closed with a FIN (timeWait.ts):
    // an earlier attempt that was never answered, or crafted SYNs, hold no TIME_WAIT.
    const reuses = `FROM connections c WHERE ${reuseWithinTimeWaitSql('c')}`;
    // Reuse figures are read for a batch of paths at a time (a key range along conn_path), so
    // memory holds one batch's, not every path's.
    const inRange = '(c.capture_id, c.client_addr, c.server_addr, c.server_port) BETWEEN (?, ?, ?, ?) AND (?, ?, ?, ?)';
    // Per path and outcome, in SQL: on a busy capture most connections are reuses, and reading
    // each into JavaScript cost more than the rest of this detector.
    // Outcomes are listed per path in the order they first happened.
    const perOutcome = db.prepare(`SELECT capture_id, client_addr, server_addr, server_port, ${OUTCOME_SQL} AS outcome, count(*) AS n,
        min(prev_gap_usec) AS min_gap, max(prev_gap_usec) AS max_gap, min(first_ts_usec) AS t
      ${reuses} AND ${inRange} GROUP BY capture_id, client_addr, server_addr, server_port, outcome
      ORDER BY capture_id, client_addr, server_addr, server_port, t`);
    // The first failed reuses of each path, as frames to open.
    const failedFrames = db.prepare(`SELECT capture_id, client_addr, server_addr, server_port, syn_frame FROM (
        SELECT capture_id, client_addr, server_addr, server_port, syn_frame, first_ts_usec, id,
          row_number() OVER (PARTITION BY capture_id, client_addr, server_addr, server_port ORDER BY first_ts_usec, id) AS k
        ${reuses} AND ${inRange} AND ${OUTCOME_SQL} IN (${[...FAILED].map((o) => `'${o}'`).join(', ')}))
      WHERE k <= 10 ORDER BY capture_id, client_addr, server_addr, server_port, first_ts_usec, id`);
    const reusesOf = (lo: PathConns, hi: PathConns): Map<string, PathReuse> => {
      const byPath = new Map<string, PathReuse>();
      const pathOf = (r: Row): PathReuse => {
        const key = pathKey(r.capture_id, r.client_addr, r.server_addr, r.server_port);
        let l = byPath.get(key);
        if (!l) { l = { reuses: 0, failed: 0, failedFrames: [], fromTw: 0, outcomes: {}, minGap: Infinity, maxGap: -Infinity }; byPath.set(key, l); }
        return l;
      };
      const range = [timeWaitUsec, lo.captureId, lo.client, lo.server, lo.port, hi.captureId, hi.client, hi.server, hi.port];
      for (const r of perOutcome.all(...range) as Row[]) {
        const l = pathOf(r);
        l.reuses += r.n;
        if (FAILED.has(r.outcome)) l.failed += r.n;
        if (r.outcome === 'accepted-from-time-wait') l.fromTw += r.n;
        l.outcomes[r.outcome] = r.n;
        if (r.min_gap < l.minGap) l.minGap = r.min_gap;
        if (r.max_gap > l.maxGap) l.maxGap = r.max_gap;
      }
      for (const r of failedFrames.all(...range) as Row[]) pathOf(r).failedFrames.push(r.syn_frame);
      return byPath;
    };

    // A reuse that went through is counted in its path's summary, and one that drew a stale ACK
    // is the stale-ack finding; the others that failed (refused, unanswered) get one each.
    const own = db.prepare(`SELECT c.id, c.capture_id, c.client_addr, c.client_port, c.server_addr, c.server_port, c.answer, c.answer_frame,
        c.server_isn, c.syn_frame, c.syn_ts_usec, c.prev_id, c.prev_gap_usec, c.prev_active_closer, c.prev_server_next,
        ${OUTCOME_SQL} AS outcome
      ${reuses} AND c.answer IN ('rst', 'none') ORDER BY c.capture_id, c.first_ts_usec, c.id`).all(timeWaitUsec) as Row[];
    for (const r of own) {
      const outcome = r.outcome as ReuseOutcome;
      const holder = `TIME_WAIT held by the ${r.prev_active_closer}`; // set for every reuse (timeWait.ts)
      yield {
        id: `port-reuse/${r.capture_id}/${r.syn_frame}`,
        detector: 'port-reuse',
        severity: 'warning',
        captureId: r.capture_id,
        connId: r.id,
        tsUsec: r.syn_ts_usec,
        summary: `${ep(r.client_addr, r.client_port)} -> ${ep(r.server_addr, r.server_port)} reused ${fmtS(r.prev_gap_usec)} after the previous connection closed (${holder}): ${outcome.replace(/-/g, ' ')}`,
        evidence: {
          frames: [r.syn_frame, r.answer_frame].filter((x) => x !== null),
          gapUsec: r.prev_gap_usec, timeWaitHolder: r.prev_active_closer, outcome, acceptedBy: null,
          previousConnId: r.prev_id, serverIsn: r.server_isn, previousServerNext: r.prev_server_next,
        },
      };
    }

    // Aggregate per client -> server endpoint, including paths with no reuse when they run hot.
    const rangePorts = ctx.portHi - ctx.portLo + 1;
    const twS = timeWaitUsec / 1e6;
    const sustainable = rangePorts / twS;
    for (const batch of inBatches(pathConns(db), PATH_BATCH)) {
      const byPath = reusesOf(batch[0], batch[batch.length - 1]);
      for (const s of batch) {
        const p = { capture_id: s.captureId, client_addr: s.client, server_addr: s.server, server_port: s.port, n: s.t.length, ports: s.distinctPorts,
          t0: s.t0, t1: s.t1, server_closed: s.serverClosed, closed: s.closed, established: s.established };
        const key = pathKey(p.capture_id, p.client_addr, p.server_addr, p.server_port);
        const agg = byPath.get(key);
        const nReuses = agg?.reuses ?? 0;
        const spanS = (p.t1 - p.t0) / 1e6;
        const rate = peakRate(s.t, timeWaitUsec);
        if (nReuses === 0 && !isHot(rate, sustainable)) continue;
        // Only a synchronized connection ends in TIME_WAIT (RFC 9293 §3.3.2): a path whose SYNs were
        // never answered holds no ports in it, whatever its rate (that is syn-flood's finding).
        if (nReuses === 0 && p.established === 0) continue;
        const cmp = compareRate(rate, sustainable);
        const inUsePerS = p.ports / twS;
        const cmpInUse = p.ports < rangePorts / 2 ? compareRate(rate, inUsePerS) : null;
        const nFailed = agg?.failed ?? 0;
        const fromTw = agg?.fromTw ?? 0;
        const outcomes: Record<string, number> = agg?.outcomes ?? {};
        const minGap = nReuses ? agg!.minGap : null;
        const maxGap = nReuses ? agg!.maxGap : null;
        const path = `${p.client_addr} -> ${ep(p.server_addr, p.server_port)}`;
        const holder = usualCloser(p.closed, p.server_closed);
        const rateWords = `peak ${rateText(rate)}${cmp ? `, ${comparisonText(cmp)} the ${Math.round(sustainable)}/s that ${rangePorts} ports sustain with a ${twS} s TIME_WAIT` : ''}`
          + `${cmpInUse ? `; ${comparisonText(cmpInUse)} the ${inUsePerS.toFixed(2)}/s that the ${p.ports} port${p.ports === 1 ? ' seen in use sustains' : 's seen in use sustain'}` : ''}`;
        yield {
          id: `port-reuse/${p.capture_id}/summary/${path}`,
          detector: 'port-reuse',
          severity: nFailed > 0 || cmp === 'above' ? 'warning' : 'info',
          captureId: p.capture_id,
          connId: null,
          tsUsec: p.t0,
          summary: `${path}: ${p.n} new connection${p.n === 1 ? '' : 's'} from ${p.ports} source port${p.ports === 1 ? '' : 's'} in ${rate.kind === 'rate' && rate.spanUsec === p.t1 - p.t0 ? rateSpanText(rate) : spanS.toFixed(1)} s (${rateWords}); ${nReuses} reused a tuple within TIME_WAIT${nReuses ? ` (${fmtS(minGap!) === fmtS(maxGap!) ? `gap ${fmtS(minGap!)}` : `gaps ${fmtS(minGap!)}-${fmtS(maxGap!)}`}), ${nFailed} of them failed` : ''}${fromTw ? `, ${fromTw} accepted from the server's TIME_WAIT (ISN = old + 65537)` : ''}; ${holder ? `the ${holder} usually closes first and holds TIME_WAIT` : 'who usually closes first cannot be told here'}`,
          evidence: {
            frames: agg ? firstN(agg.failedFrames) : [],
            path, client: p.client_addr, server: ep(p.server_addr, p.server_port), connections: p.n, distinctPorts: p.ports, spanS,
            rate, comparison: cmp, sustainablePerS: sustainable, portsInUseSustainPerS: inUsePerS, inUseComparison: cmpInUse, portRange: [ctx.portLo, ctx.portHi],
            timeWaitS: timeWaitUsec / 1e6, reuses: nReuses, failed: nFailed, acceptedFromTimeWait: fromTw, outcomes,
            minGapUsec: minGap, maxGapUsec: maxGap,
            serverClosedShare: p.closed > 0 ? p.server_closed / p.closed : null, timeWaitHolder: holder,
          },
        };
      }
    }
  },
};
