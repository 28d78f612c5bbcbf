import { POINT_SYN_FIGURES } from '../flows/attempts.js';
import { retransmitCause, type RetransmitCause } from '../flows/retransmitCause.js';
import { eventsJsonSql, pagedRows, parseEvents } from './batch.js';
import { ep } from './format.js';
import { distributionMs, fmtMs } from './stats.js';
import { frameRef, type Detector, type DetectorContext, type Finding } from './types.js';

/**
 * syn-retransmit: the same ISN sent again in a SYN, and SYN-ACKs sent again by a server.
 *
 * Each retransmit is classified by what the capture saw before it:
 *  - after-stale-ack: the server answered with an ACK of an old connection and the
 *    client reset; Linux re-arms the SYN timer at TCP_TIMEOUT_MIN, so it follows in ~10 ms.
 *  - after-synack: a SYN-ACK was captured, yet the client sent the SYN again: its TCP had not
 *    taken the SYN-ACK when the SYN timer fired (a client in SYN_SENT that takes one moves to
 *    ESTABLISHED, tcp_rcv_synsent_state_process): lost or dropped beyond the capture point, or
 *    later than the timer.
 *  - no-answer: nothing came back (firewall or gateway drop, full SYN queue, PAWS rejection
 *    of the SYN's timestamp).
 * Gaps are reported as measured: Linux >= 6.5 retries 1 s apart at first
 * (tcp_syn_linear_timeouts), older Linux doubles from 1 s, Windows and BSD differ.
 */


/** What preceded one SYN retransmit, from the events seen since the previous SYN (the tracker's rule). */
export function classifyRetransmit(between: { kind: string; dir: string }[]): RetransmitCause {
  return retransmitCause(between.some((e) => e.kind === 'answer-ack'), between.some((e) => e.kind === 'synack' || e.kind === 'synack-rtx'));
}

/** Retry schedules by name, as offsets of each retransmit from the first SYN (ms). */
const SCHEDULES: [string, number[]][] = [
  // tcp_syn_linear_timeouts=4: four more retries 1 s apart, then the gap doubles (2, 4, 8, 16 s).
  ['Linux >= 6.5 (1 s linear, then doubling)', [1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000, 35000, 67000]],
  ['Linux before 6.5 / BSD (1 s, doubling)', [1000, 3000, 7000, 15000, 31000, 63000]],
  ['Windows (3 s, doubling)', [3000, 9000, 21000]],
];

/**
 * Name the retry schedule a list of gaps (from the first SYN, ms) follows, only when the gaps
 * identify one: a single retransmit at +1 s fits both Linux schedules, so it names none.
 */
export function scheduleName(gapsFromFirstMs: number[]): string | null {
  if (gapsFromFirstMs.length === 0) return null;
  const near = (x: number, y: number): boolean => Math.abs(x - y) <= Math.max(150, y * 0.1);
  const matches = SCHEDULES.filter(([, expected]) => gapsFromFirstMs.every((g, i) => i < expected.length && near(g, expected[i])));
  return matches.length === 1 ? matches[0][0] : null;
}

/**
 * One schedule per sending host: the one its connections' gaps identified, when they agree;
 * null when none identified one or two disagreed (one host runs one kernel).
 */
export function hostSchedules(perConn: { host: string; schedule: string | null }[]): Record<string, string | null> {
  const seen = new Map<string, Set<string>>();
  for (const { host, schedule } of perConn) {
    let s = seen.get(host);
    if (!s) { s = new Set(); seen.set(host, s); }
    if (schedule !== null) s.add(schedule);
  }
  return Object.fromEntries([...seen].map(([h, s]) => [h, s.size === 1 ? [...s][0] : null]));
}

/** The share of attempts retransmitting a SYN from which it is an error, not a warning. */
export const RETRANSMIT_ERROR_SHARE = 0.01;

export const synRetransmit: Detector = {
  id: 'syn-retransmit',
  title: 'SYN and SYN-ACK retransmissions',
  *run(ctx: DetectorContext): Generator<Finding> {
    const { db } = ctx;
    const captures = db.prepare('SELECT id FROM captures ORDER BY id').pluck().all() as number[];
    // Per attempt (one client ISN) at this capture point: a retry a NAT moved to another source
    // port is a retransmit of the attempt, as the attempts table counts it (POINT_SYN_FIGURES).
    const perAttempt = (what: string): string => `SELECT ${what} FROM (SELECT ${POINT_SYN_FIGURES} FROM connections
      WHERE capture_id = ? AND syn_count > 0 AND attempt_id IS NOT NULL GROUP BY attempt_id)`;
    for (const capId of captures) {
      // SYN-ACK counts come from the flows columns. A later SYN-ACK with another ISN (anomaly
      // synack-isn-change) answers another request, it is not a retransmit of the first.
      const acks = db.prepare(`SELECT coalesce(sum(max(synack_count - 1 - coalesce((SELECT a.count FROM anomalies a
            WHERE a.conn_id = c.id AND a.kind = 'synack-isn-change'), 0), 0)), 0) AS synack_rtx,
          coalesce(sum((SELECT a.count FROM anomalies a WHERE a.conn_id = c.id AND a.kind = 'synack-isn-change')), 0) AS synack_other_isn
        FROM connections c WHERE capture_id = ? AND synack_count > 1`).get(capId) as Record<string, number>;
      // The connect time a retransmit added is the wait from the first SYN to the SYN that worked;
      // gathered in the same pass over the attempts as the sums (grouping them is most of the cost).
      const sums = db.prepare(perAttempt(`count(*) AS attempts, coalesce(sum(syns - 1), 0) AS syn_rtx, coalesce(sum(syns > 1), 0) AS affected,
          coalesce(sum(after_ack), 0) AS after_ack, coalesce(sum(n - 1), 0) AS moved, coalesce(sum(after_synack), 0) AS after_synack,
          coalesce(sum(unanswered), 0) AS unanswered, json_group_array(t_last - t0) FILTER (WHERE syns > 1 AND answered) AS added`))
        .get(capId) as Record<string, number> & { added: string };
      const attempts = sums.attempts;
      const causes: Record<RetransmitCause, number> = { 'after-stale-ack': sums.after_ack, 'after-synack': sums.after_synack, 'no-answer': sums.unanswered };
      const synRtx = sums.syn_rtx;
      const synAckRtx = acks.synack_rtx;
      const affected = sums.affected;
      const added = JSON.parse(sums.added) as number[];
      const gapsFirst: number[] = [];
      const unansweredFrames: number[] = [];
      const schedules = new Map<string, number>();
      const perHost: { host: string; schedule: string | null }[] = [];
      // Retransmits that only follow a stale ACK are that finding's consequence: counted in the
      // summary, not repeated as one finding per connection. The others get one each, from events.
      const rows = pagedRows(db, `SELECT id FROM connections WHERE capture_id = ?
          AND (synack_count > 1 OR syn_rtx_after_synack > 0 OR syn_rtx_unanswered > 0) ORDER BY first_ts_usec, id`, [capId],
        (k) => `SELECT c.id, c.client_addr, c.client_port, c.server_addr, c.server_port, c.syn_count, c.synack_count, c.syn_frame,
            c.synack_frame, c.syn_ts_usec, c.synack_ts_usec, c.connect_usec, c.handshake_acked, ${eventsJsonSql('c')} AS events
          FROM ${k} JOIN connections c ON c.id = k.id`);
      for (const c of rows) {
        const ev = parseEvents(c.id, c.events);
        const syns = ev.filter((e) => e.kind === 'syn' || e.kind === 'syn-rtx');
        const perRtx: { frame: number; gapUsec: number; sinceFirstUsec: number; cause: RetransmitCause }[] = [];
        for (let i = 1; i < syns.length; i++) {
          const between = ev.filter((e) => e.frame > syns[i - 1].frame && e.frame < syns[i].frame);
          perRtx.push({ frame: syns[i].frame, gapUsec: syns[i].ts_usec - syns[i - 1].ts_usec, sinceFirstUsec: syns[i].ts_usec - syns[0].ts_usec, cause: classifyRetransmit(between) });
        }
        const allSynAcks = ev.filter((e) => e.kind === 'synack' || e.kind === 'synack-rtx');
        // Retransmits of the first SYN-ACK carry its ISN; one with another ISN answers another request.
        const synAcks = allSynAcks.filter((e) => e.seq === allSynAcks[0].seq);
        const otherIsn = allSynAcks.filter((e) => e.seq !== allSynAcks[0].seq);
        const rtxAcks = Math.max(0, synAcks.length - 1);
        const noAnswerGaps = perRtx.filter((r) => r.cause === 'no-answer').map((r) => r.sinceFirstUsec / 1000);
        const sched = scheduleName(noAnswerGaps);
        if (sched) schedules.set(sched, (schedules.get(sched) ?? 0) + 1);
        if (noAnswerGaps.length > 0) perHost.push({ host: c.client_addr, schedule: sched });
        for (const r of perRtx) if (r.cause === 'no-answer') { gapsFirst.push(r.sinceFirstUsec); unansweredFrames.push(r.frame); }
        const tuple = `${ep(c.client_addr, c.client_port)} -> ${ep(c.server_addr, c.server_port)}`;
        const parts: string[] = [];
        if (perRtx.length > 0) {
          parts.push(`SYN sent ${c.syn_count} times (${perRtx.map((r) => `+${fmtMs(r.sinceFirstUsec)} ${r.cause}`).join(', ')})`);
          parts.push(c.synack_ts_usec !== null ? `connected after ${fmtMs(c.connect_usec)}` : 'never answered with SYN-ACK');
        }
        if (otherIsn.length > 0) parts.push(`server answered from ${otherIsn.length} more ISN${otherIsn.length > 1 ? 's' : ''} (SYN-ACK frame ${otherIsn.map((e) => frameRef(ctx, capId, e.frame)).join(', ')}): not retransmits`);
        if (rtxAcks > 0) parts.push(`server sent the SYN-ACK ${synAcks.length} times (${synAcks.slice(1).map((e) => `+${fmtMs(e.ts_usec - synAcks[0].ts_usec)}`).join(', ')})${c.handshake_acked ? '' : ', the client ACK never seen'}`);
        const worst = perRtx.some((r) => r.cause !== 'after-synack') || c.synack_ts_usec === null;
        yield {
          id: `syn-retransmit/${capId}/${c.syn_frame ?? c.synack_frame}`,
          detector: 'syn-retransmit',
          severity: worst && perRtx.length > 0 ? 'error' : 'warning',
          captureId: capId,
          connId: c.id,
          tsUsec: c.syn_ts_usec ?? c.synack_ts_usec,
          summary: `${tuple}: ${parts.join('; ')}`,
          evidence: {
            frames: [...syns.map((s) => s.frame), ...allSynAcks.map((s) => s.frame)],
            synAckOtherIsn: otherIsn.map((e) => ({ frame: e.frame, seq: e.seq })),
            retransmits: perRtx,
            synAckRetransmits: synAcks.slice(1).map((e) => ({ frame: e.frame, afterFirstUsec: e.ts_usec - synAcks[0].ts_usec })),
            schedule: sched,
            established: c.synack_ts_usec !== null,
            connectUsec: c.connect_usec,
          },
        };
      }
      if (synRtx + synAckRtx === 0) continue;
      const lat = distributionMs(added);
      const share = attempts > 0 ? affected / attempts : 0;
      yield {
        id: `syn-retransmit/${capId}/summary`,
        detector: 'syn-retransmit',
        severity: share >= RETRANSMIT_ERROR_SHARE ? 'error' : 'warning',
        captureId: capId,
        connId: null,
        tsUsec: null,
        summary: `${affected} of ${attempts} connection attempts (${(share * 100).toFixed(1)}%) retransmitted the SYN (${synRtx} retransmits: ${causes['after-stale-ack']} after a stale ACK${sums.moved ? ` (${sums.moved} of them from another source port)` : ''}, ${causes['after-synack']} after a SYN-ACK, ${causes['no-answer']} unanswered)${synAckRtx ? `; ${synAckRtx} SYN-ACK retransmits` : ''}${lat.n ? `; connect time added p50 ${lat.p50Ms} ms, p99 ${lat.p99Ms} ms, max ${lat.maxMs} ms` : ''}`,
        evidence: {
          frames: unansweredFrames.sort((a, b) => a - b).slice(0, 10),
          attempts, affected, share, synRetransmits: synRtx, movedRetries: sums.moved, synAckRetransmits: synAckRtx, causes,
          addedConnectMs: lat, unansweredRetransmitOffsetsMs: distributionMs(gapsFirst), schedules: Object.fromEntries(schedules),
          schedulesByHost: hostSchedules(perHost), synAckOtherIsn: acks.synack_other_isn,
        },
      };
    }
  },
};

