import type Database from 'better-sqlite3';
import { seqAdd, seqAfter } from '../flows/seq.js';
import { pagedRows } from './batch.js';
import { ep } from './format.js';
import { fmtGap, fmtMs } from './stats.js';
import { STRIPPED_NOP_RUN } from './tsStripped.js';
import { frameRef, type Detector, type DetectorContext, type Finding, type RenderContext, type TypedFinding } from './types.js';

/**
 * stale-ack: a SYN answered by an ACK without SYN whose ack is not SYN.seq + 1.
 *
 * A SYN that reaches a TIME_WAIT socket and is not acceptable (sequence not after the
 * old rcv_nxt, and no newer timestamp: RFC 6191; net/ipv4/tcp_minisocks.c,
 * tcp_timewait_state_process) is answered with an ACK of the *old* connection:
 * seq = old server FIN + 1, ack = old client FIN + 1. The client in SYN_SENT answers
 * that with RST (seq = the ACK's ack, RFC 9293 §3.10.7.3), which also ends the
 * TIME_WAIT, and Linux retransmits the SYN ~10 ms later (TCP_TIMEOUT_MIN).
 *
 * A SYN on a tuple whose previous connection never closed gets the same kind of ACK
 * for a different reason: RFC 5961 §4 challenge ACK (client restarted, NAT mapping
 * reused). That is reported separately as challenge-ack.
 */

/**
 * Why the TIME_WAIT socket refused the SYN (tcp_timewait_state_process), as a typed fact:
 *  - paws-backwards: its TSval went backwards from the old connection's last (PAWS, RFC 7323 §5);
 *  - seq-no-ts: sequence not after the old rcv_nxt and timestamps not in use on the old connection;
 *  - same-tick: sequence not after, TSval equal to the last one (same 1 ms tick; RFC 6191 wants newer);
 *  - ts-not-intact: sequence not after, TSval newer as seen here, so it did not reach the server intact;
 *  - ts-absent-here: sequence not after, and the SYN carries no timestamp at this capture point.
 */
export type RejectReason = 'paws-backwards' | 'seq-no-ts' | 'same-tick' | 'ts-not-intact' | 'ts-absent-here';

// What classify() reads, then what expand() adds to render the finding.
const CLASSIFY_COLUMNS = 'id, capture_id, syn_frame, client_isn, syn_ts, syn_tsval, foreign_ack_ts_usec, foreign_ack_seq, foreign_ack_ack';
const CLASSIFY_PREV = 'id, closed_ts_usec, client_next, server_next, client_last_tsval, syn_ts, synack_ts';
const RENDER_COLUMNS = `${CLASSIFY_COLUMNS}, client_addr, client_port, server_addr, server_port, synack_ts_usec, synack_frame, connect_usec, prev_id,
  prev_gap_usec, syn_nop_run, foreign_ack_count, foreign_ack_frame, foreign_ack_ts, foreign_ack_syn_frame, foreign_rst_frame, foreign_rst_seq,
  foreign_retry_frame, foreign_retry_ts_usec, attempt_id, first_frame`;
const RENDER_PREV = `${CLASSIFY_PREV}, first_frame, first_fin_by`;

/** A candidate's columns and its previous incarnation's (p_*), from `from` (which names the connection c). */
const rowSql = (columns: string, prev: string, from: string): string => `SELECT ${columns.split(',').map((x) => `c.${x.trim()}`).join(', ')},
    ${prev.split(',').map((x) => `p.${x.trim()} AS p_${x.trim()}`).join(', ')}
  FROM ${from} LEFT JOIN connections p ON p.id = c.prev_id`;

type Relation = 'time-wait' | 'old-connection' | 'half-open' | 'not-captured';

/** What the ACK answered and why TIME_WAIT refused the SYN: the finding's typed columns. */
function classify(c: Record<string, any>): { detector: 'stale-ack' | 'challenge-ack'; relation: Relation; rejectReason: RejectReason | null; seqOk: boolean } {
  let relation: Relation;
  if (c.p_id === null) relation = 'not-captured';
  else if (c.p_closed_ts_usec === null) relation = 'half-open';
  else if (c.foreign_ack_ack === c.p_client_next && c.foreign_ack_seq === c.p_server_next) relation = 'time-wait';
  else relation = 'old-connection';
  // Why TIME_WAIT refused it (tcp_timewait_state_process): the SYN's sequence was not after the old
  // rcv_nxt, and its timestamp, if both sides used them, was not strictly newer than ts_recent.
  let rejectReason: RejectReason | null = null;
  let seqOk = false;
  if (relation === 'time-wait' || relation === 'old-connection') {
    seqOk = seqAfter(c.client_isn, c.p_client_next);
    const tsBoth = c.p_syn_ts === 1 && c.p_synack_ts === 1;
    const d = tsBoth && c.syn_ts === 1 && c.p_client_last_tsval !== null ? ((c.syn_tsval - c.p_client_last_tsval) | 0) : null;
    // PAWS (RFC 7323 §5) rejects an older TSval in TIME_WAIT whatever the sequence.
    if (d !== null && d < 0) rejectReason = 'paws-backwards';
    else if (!seqOk && !tsBoth) rejectReason = 'seq-no-ts';
    else if (!seqOk && d !== null) rejectReason = d === 0 ? 'same-tick' : 'ts-not-intact';
    else if (!seqOk && c.syn_ts !== 1) rejectReason = 'ts-absent-here';
  }
  return { detector: relation === 'half-open' ? 'challenge-ack' : 'stale-ack', relation, rejectReason, seqOk };
}

const findingId = (detector: string, c: Record<string, any>): string => `${detector}/${c.capture_id}/${c.syn_frame}`;

/** Statements expand() reuses on one store. */
const renderStmts = new WeakMap<Database.Database, { row: Database.Statement; next: Database.Statement; retry: Database.Statement; acks: Database.Statement }>();

export const staleAck: Detector = {
  id: 'stale-ack',
  title: 'SYN answered by an ACK of an older connection',
  ids: ['stale-ack', 'challenge-ack'],
  // One typed row per connection whose SYN drew an ACK for another sequence space (the flows
  // columns foreign_*), in the order of those ACKs; expand() renders the ones a report reads.
  *run(ctx: DetectorContext): Generator<TypedFinding> {
    const candidates = pagedRows(ctx.db, 'SELECT id FROM connections WHERE foreign_ack_count > 0 ORDER BY capture_id, foreign_ack_frame', [],
      (k) => rowSql(CLASSIFY_COLUMNS, CLASSIFY_PREV, `${k} JOIN connections c ON c.id = k.id`));
    for (const c of candidates) {
      const v = classify(c);
      yield { id: findingId(v.detector, c), detector: v.detector, severity: 'error', captureId: c.capture_id, connId: c.id, tsUsec: c.foreign_ack_ts_usec,
        summary: null, evidence: null, kind: v.relation, reason: v.rejectReason };
    }
  },
  expand(ctx: RenderContext, connId: number): Finding {
    const { db } = ctx;
    let s = renderStmts.get(db);
    if (s === undefined) {
      s = {
        row: db.prepare(`${rowSql(RENDER_COLUMNS, RENDER_PREV, 'connections c')} WHERE c.id = ?`),
        // The next incarnation on the tuple: a filter for this one and its previous stops before it
        // (prev_id links incarnations of one tuple at one capture point; conn_prev covers this).
        next: db.prepare('SELECT min(first_frame) FROM connections WHERE prev_id = ?').pluck(),
        // The retry of the same attempt from another source port (flows/attempts.ts linked it).
        retry: db.prepare(`SELECT id, client_port, syn_frame, synack_ts_usec FROM connections
          WHERE attempt_id = ? AND capture_id = ? AND id != ? AND syn_ts_usec > ? ORDER BY syn_ts_usec LIMIT 1`),
        // Every such ACK, for the few connections that drew more than one.
        acks: db.prepare("SELECT frame, seq, ack FROM events WHERE conn_id = ? AND kind = 'answer-ack' ORDER BY frame"),
      };
      renderStmts.set(db, s);
    }
    const c = s.row.get(connId) as Record<string, any> | undefined;
    if (c === undefined || !(c.foreign_ack_count > 0)) throw new Error(`stale-ack: connection ${connId} drew no ACK for another sequence space`);
    const { detector, relation, rejectReason, seqOk } = classify(c);
    const prev = c.p_id === null ? null : { id: c.p_id, first_fin_by: c.p_first_fin_by, client_next: c.p_client_next, server_next: c.p_server_next, client_last_tsval: c.p_client_last_tsval };
    const expectedAck = seqAdd(c.client_isn, 1);
    const first = { frame: c.foreign_ack_frame as number, ts_usec: c.foreign_ack_ts_usec as number, seq: c.foreign_ack_seq as number, ack: c.foreign_ack_ack as number, ts: c.foreign_ack_ts as number };
    const stale = c.foreign_ack_count === 1 ? [first]
      : (s.acks.all(connId) as { frame: number; seq: number; ack: number }[]).filter((a) => a.ack !== expectedAck);
    const synBefore = c.foreign_ack_syn_frame === null ? undefined : { frame: c.foreign_ack_syn_frame as number };
    const rst = c.foreign_rst_frame === null ? undefined : { frame: c.foreign_rst_frame as number, seq: c.foreign_rst_seq as number };
    const retransmit = c.foreign_retry_frame === null ? undefined : { frame: c.foreign_retry_frame as number, ts_usec: c.foreign_retry_ts_usec as number };
    const tuple = `${ep(c.client_addr, c.client_port)} -> ${ep(c.server_addr, c.server_port)}`;

    let retryOtherPort: Record<string, unknown> | null = null;
    if (c.synack_ts_usec === null) {
      const r = s.retry.get(c.attempt_id, c.capture_id, connId, first.ts_usec) as Record<string, any> | undefined;
      if (r) retryOtherPort = { connId: r.id, clientPort: r.client_port, synFrame: r.syn_frame, established: r.synack_ts_usec !== null };
    }

    const fr = (n: number): string => frameRef(ctx, c.capture_id, n);
    const parts: string[] = [];
    parts.push(`SYN seq=${c.client_isn}${synBefore ? ` (frame ${fr(synBefore.frame)})` : ''} answered by ACK seq=${first.seq} ack=${first.ack} (frame ${fr(first.frame)}), not ack=${expectedAck}`);
    if (relation === 'time-wait') {
      parts.push(`these are the FIN sequence numbers of the previous connection on this tuple (id ${prev!.id}), closed ${fmtGap(c.prev_gap_usec)} earlier${prev!.first_fin_by === 'server' ? ' by the server, which therefore still held it in TIME_WAIT' : prev!.first_fin_by === 'client' ? ' by the client first' : ''}`);
    } else if (relation === 'old-connection') {
      parts.push(`the previous connection on this tuple (id ${prev!.id}) closed ${fmtGap(c.prev_gap_usec)} earlier; its FIN numbers were seq ${prev!.server_next} / ack ${prev!.client_next}`);
    } else if (relation === 'half-open') {
      parts.push(`the previous connection on this tuple (id ${prev!.id}) was never closed in the capture: RFC 5961 challenge ACK to a SYN on a synchronized connection (client restarted, or a NAT mapping reused)`);
    } else {
      parts.push('the earlier connection on this tuple is not in the capture (server state such as TIME_WAIT from before the capture started)');
    }
    const whyRejected = rejectReason === null ? null : rejectText(rejectReason, { isn: c.client_isn, oldNext: prev!.client_next, tsval: c.syn_tsval,
      oldTsval: prev!.client_last_tsval, seqOk, nopRun: c.syn_nop_run });
    if (whyRejected) parts.push(`rejected because ${whyRejected}`);
    if (rst) parts.push(`client reset it (frame ${fr(rst.frame)}${rst.seq === first.ack ? ', seq = that ack' : ''})`);
    if (retransmit) parts.push(`retransmitted the SYN ${fmtMs(retransmit.ts_usec - first.ts_usec)} after the ACK (frame ${fr(retransmit.frame)})`);
    if (c.synack_ts_usec !== null) parts.push(`connected after ${fmtMs(c.connect_usec)} (SYN-ACK frame ${fr(c.synack_frame)})`);
    else if (retryOtherPort) parts.push(`the same ISN was retried from port ${retryOtherPort.clientPort} (frame ${fr(retryOtherPort.synFrame as number)}): a NAT gave the retry another source port`);
    else parts.push('no SYN-ACK seen');

    const frames = [synBefore?.frame, first.frame, rst?.frame, retransmit?.frame, c.synack_frame ?? undefined]
      .filter((x): x is number => typeof x === 'number');
    return {
      id: findingId(detector, c),
      detector,
      severity: 'error',
      captureId: c.capture_id,
      connId,
      tsUsec: first.ts_usec,
      summary: `${tuple}: ${parts.join('; ')}`,
      kind: relation,
      reason: rejectReason,
      evidence: {
        frames,
        tuple: { client: c.client_addr, clientPort: c.client_port, server: c.server_addr, serverPort: c.server_port },
        // The frames of this connection and the previous one it blames: [first, next incarnation's first).
        frameRange: [c.p_first_frame ?? c.first_frame, (s.next.get(connId) as number | null) ?? null],
        frameRangeHasPrevious: c.p_first_frame !== null && c.p_first_frame !== undefined,
        synSeq: c.client_isn, synFrame: synBefore?.frame ?? c.syn_frame,
        ackFrame: first.frame, ackSeq: first.seq, ackAck: first.ack, ackHasTimestamp: first.ts === 1,
        staleAcks: stale.map((a) => ({ frame: a.frame, seq: a.seq, ack: a.ack })),
        relation,
        previous: prev ? { connId: prev.id, gapUsec: c.prev_gap_usec, activeCloser: prev.first_fin_by, clientNext: prev.client_next, serverNext: prev.server_next } : null,
        clientRst: rst ? { frame: rst.frame, seq: rst.seq, seqIsAck: rst.seq === first.ack } : null,
        synRetransmit: retransmit ? { frame: retransmit.frame, afterAckUsec: retransmit.ts_usec - first.ts_usec } : null,
        established: c.synack_ts_usec !== null,
        connectUsec: c.connect_usec,
        retryOtherPort,
        rejectReason,
        whyRejected,
        attemptId: c.attempt_id,
        synTsval: c.syn_ts === 1 ? c.syn_tsval : null,
        previousLastTsval: prev ? prev.client_last_tsval : null,
        synHadTimestamp: c.syn_ts === 1,
        synNopRun: c.syn_nop_run,
      },
    };
  },
};


/** The sentence for a RejectReason, from the figures it rests on. */
function rejectText(r: RejectReason, x: { isn: number; oldNext: number; tsval: number; oldTsval: number | null; seqOk: boolean; nopRun: number }): string {
  switch (r) {
    case 'paws-backwards':
      return `its TSval ${x.tsval} went backwards from the old connection's last ${x.oldTsval}${x.seqOk ? ' (its sequence was past the old one, but PAWS rejects an older timestamp first)' : ''}: another connection or host took the tuple over with its own timestamp clock`;
    case 'seq-no-ts':
      return `the SYN's sequence ${x.isn} is not after the old connection's ${x.oldNext} and timestamps were not in use on it`;
    case 'same-tick':
      return `the SYN's sequence is not after the old connection's, and its TSval ${x.tsval} is not newer than the old connection's last ${x.oldTsval} (same clock tick: reused within a millisecond)`;
    case 'ts-not-intact':
      return `the SYN's sequence is not after the old connection's; its TSval ${x.tsval} is newer than the old ${x.oldTsval} as seen here, so the timestamp did not reach the server intact`;
    case 'ts-absent-here':
      return `the SYN carries no timestamp here${x.nopRun >= STRIPPED_NOP_RUN ? ` (a ${x.nopRun}-byte NOP run where it was)` : ''}, and its sequence ${x.isn} is not after the old connection's ${x.oldNext}`;
  }
}
