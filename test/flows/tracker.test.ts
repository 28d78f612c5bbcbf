import { describe, expect, it } from 'vitest';
import { ACK, FIN, RST, SYN } from '../../src/decode/packet.js';
import type { Conn } from '../../src/flows/conn.js';
import { Tracker } from '../../src/flows/tracker.js';
import { feedSteps, type Step } from '../helpers/steps.js';

// Packet sequences written from the kernel behaviour of tcp_timewait_state_process (net/ipv4/tcp_minisocks.c):
// the unit under test is the tracker's bookkeeping; real captures are checked in tracker-captures tests.

function run(steps: Step[]): Conn[] {
  const out: Conn[] = [];
  feedSteps(new Tracker(1, { flush: (c) => out.push(c) }, { timeWaitUsec: 60e6, firstId: 1 }), steps);
  return out.sort((a, b) => a.id - b.id);
}

describe('Tracker incarnations', () => {
  it('links a reused tuple to its predecessor and keeps the stale ACK, RST and retry in one connection', () => {
    const conns = run([
      [true, SYN, 1000, 0, 0, 0],
      [false, SYN | ACK, 5000, 1001, 0, 1],
      [true, ACK, 1001, 5001, 0, 2],
      [true, ACK, 1001, 5001, 200, 3],
      [false, ACK | FIN, 5001, 1201, 0, 4], // server closes first: it holds TIME_WAIT
      [true, ACK | FIN, 1201, 5002, 0, 5],
      [false, ACK, 5002, 1202, 0, 6],
      [true, SYN, 900, 0, 0, 1000], // ISN before old rcv_nxt 1202: not acceptable
      [false, ACK, 5002, 1202, 0, 1001], // stale ACK: old FIN numbers
      [true, RST, 1202, 0, 0, 1002],
      [true, SYN, 900, 0, 0, 1012], // retransmit ~10 ms later (TCP_TIMEOUT_MIN)
      [false, SYN | ACK, 70539, 901, 0, 1013],
      [true, ACK, 901, 70540, 0, 1014],
    ]);
    expect(conns).toHaveLength(2);
    const [old, cur] = conns;
    expect(old.firstFinBy).toBe(2); // server
    expect([old.nextC, old.nextS]).toEqual([1202, 5002]);
    expect(cur.prev?.id).toBe(old.id);
    expect(cur.prev?.clientNext).toBe(1202);
    expect(cur.prev?.serverNext).toBe(5002);
    expect(cur.synCount).toBe(2);
    expect(cur.answer).toBe('ack');
    expect(cur.answerAck).toBe(1202);
    expect(cur.answerFrame).toBe(9);
    expect(cur.synAckCount).toBe(1);
    expect(cur.decidingRst).toBe(0); // the RST in SYN_SENT did not end the connection
    expect(cur.eventKinds()).toEqual(['syn', 'answer-ack', 'rst', 'syn-rtx', 'synack', 'handshake-ack']);
    // The same facts as columns: the ACK for the old sequence space, the client's RST and retry.
    expect([cur.foreignAckCount, cur.foreignAckFrame, cur.foreignAckSeq, cur.foreignAckAck]).toEqual([1, 9, 5002, 1202]);
    expect([cur.foreignAckSynFrame, cur.foreignRstFrame, cur.foreignRstSeq, cur.foreignRetryFrame]).toEqual([8, 10, 1202, 11]);
    expect([cur.rtxAfterAck, cur.rtxAfterSynAck, cur.rtxUnanswered]).toEqual([1, 0, 0]);
    expect(cur.incarnation).toBe(1);
    expect(cur.firstTsUsec - old.closedTsUsec).toBe(995_000);
  });

  it('treats the same ISN as a retransmission and a new ISN as a new incarnation', () => {
    const conns = run([
      [true, SYN, 1, 0, 0, 0],
      [true, SYN, 1, 0, 0, 1000],
      [true, SYN, 777, 0, 0, 5000],
      [false, RST | ACK, 0, 778, 0, 5001],
    ]);
    expect(conns.map((c) => c.synCount)).toEqual([2, 1]);
    expect(conns[1].answer).toBe('rst');
    expect(conns[1].prev?.id).toBe(conns[0].id);
  });

  it('counts payload retransmissions per direction', () => {
    const conns = run([
      [true, SYN, 10, 0, 0, 0],
      [false, SYN | ACK, 20, 11, 0, 1],
      [true, ACK, 11, 21, 100, 2],
      [true, ACK, 11, 21, 100, 300],
      [true, ACK, 111, 21, 100, 301],
    ]);
    expect([conns[0].retransC, conns[0].retransS]).toEqual([1, 0]);
    expect([conns[0].payloadC, conns[0].payloadS]).toEqual([300, 0]);
    expect(conns[0].history.text).toBe('ShDT');
  });
});
