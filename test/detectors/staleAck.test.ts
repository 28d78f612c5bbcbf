import { afterAll, describe, expect, it } from 'vitest';
import { ACK, FIN, RST, SYN } from '../../src/decode/packet.js';
import { FINDING_COLUMNS, findingReader, runDetectors, type FindingTableRow } from '../../src/detectors/index.js';
import { staleAck } from '../../src/detectors/staleAck.js';
import type { Store } from '../../src/flows/store.js';
import { craftedStore, type Step } from '../helpers/steps.js';

/**
 * stale-ack and challenge-ack are stored by their typed columns (kind, reason) and rendered when
 * read. Crafted sequences for the relations no lab sample has: the answering ACK of a connection
 * that never closed (RFC 5961 §4 challenge ACK: seq = the server's snd_nxt, ack = its rcv_nxt)
 * and of a connection the capture does not hold; and, for comparison, TIME_WAIT's ACK of the old
 * FIN numbers (tcp_timewait_state_process, net/ipv4/tcp_minisocks.c).
 */

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

function analysed(steps: Step[]): Store {
  const store = craftedStore(steps);
  stores.push(store);
  runDetectors(store.db, { timeWaitUsec: 60e6, portLo: 32768, portHi: 60999 });
  return store;
}

const rows = (s: Store, detector: string) =>
  s.db.prepare(`SELECT ${FINDING_COLUMNS}, kind, reason FROM findings WHERE detector = ? ORDER BY rowid`).all(detector) as (FindingTableRow & { kind: string; reason: string | null })[];

// A new SYN (ISN 500, below the old one's sequence) on the tuple, answered by an ACK of other numbers; the client resets and retries.
const retry = (t: number, ackSeq: number, ackAck: number): Step[] => [
  [true, SYN, 500, 0, 0, t],
  [false, ACK, ackSeq, ackAck, 0, t + 1],
  [true, RST, ackAck, 0, 0, t + 2],
  [true, SYN, 500, 0, 0, t + 1002],
  [false, SYN | ACK, 9000, 501, 0, t + 1003],
  [true, ACK, 501, 9001, 0, t + 1004],
];

describe('stale-ack relations, stored typed and rendered on read', () => {
  it('a connection that never closed: challenge-ack (half-open), its previous connection named', () => {
    const s = analysed([
      [true, SYN, 1000, 0, 0, 0], [false, SYN | ACK, 5000, 1001, 0, 1], [true, ACK, 1001, 5001, 0, 2],
      [true, ACK, 1001, 5001, 100, 3], [false, ACK, 5001, 1101, 0, 4],
      ...retry(100, 5001, 1101),
    ]);
    const [r] = rows(s, 'challenge-ack');
    expect(rows(s, 'stale-ack')).toEqual([]);
    expect([r.kind, r.reason, r.summary, r.evidence]).toEqual(['half-open', null, null, null]);
    const f = findingReader(s.db)(r);
    expect(f.id).toBe(r.id);
    expect(f.evidence).toMatchObject({ relation: 'half-open', ackFrame: 7, ackSeq: 5001, ackAck: 1101, synSeq: 500, previous: { connId: 1 }, rejectReason: null });
    expect(f.summary).toMatch(/^198\.18\.1\.2:40000 -> 198\.19\.2\.2:3306: SYN seq=500 \(frame 6\) answered by ACK seq=5001 ack=1101 \(frame 7\), not ack=501; the previous connection on this tuple \(id 1\) was never closed in the capture: RFC 5961 challenge ACK/);
  });

  it('no earlier connection in the capture: not-captured, no reason', () => {
    const s = analysed(retry(0, 7000, 3000));
    const [r] = rows(s, 'stale-ack');
    expect([r.kind, r.reason]).toEqual(['not-captured', null]);
    const f = findingReader(s.db)(r);
    expect(f.evidence).toMatchObject({ relation: 'not-captured', previous: null, established: true, clientRst: { frame: 3, seq: 3000, seqIsAck: true }, synRetransmit: { frame: 4, afterAckUsec: 1_001_000 } });
    expect(f.summary).toMatch(/the earlier connection on this tuple is not in the capture/);
  });

  it('closed by the server first: time-wait, rejected for its sequence without timestamps', () => {
    const s = analysed([
      [true, SYN, 1000, 0, 0, 0], [false, SYN | ACK, 5000, 1001, 0, 1], [true, ACK, 1001, 5001, 0, 2],
      [false, FIN | ACK, 5001, 1001, 0, 3], [true, FIN | ACK, 1001, 5002, 0, 4], [false, ACK, 5002, 1002, 0, 5],
      ...retry(100, 5002, 1002),
    ]);
    const [r] = rows(s, 'stale-ack');
    expect([r.kind, r.reason]).toEqual(['time-wait', 'seq-no-ts']);
    const f = findingReader(s.db)(r);
    expect(f.evidence).toMatchObject({ relation: 'time-wait', previous: { connId: 1, activeCloser: 'server', clientNext: 1002, serverNext: 5002 }, frameRange: [1, null], frameRangeHasPrevious: true });
    expect(f.evidence.whyRejected).toBe("the SYN's sequence 500 is not after the old connection's 1002 and timestamps were not in use on it");
    // A reader asked for a row the detector did not write says so.
    expect(() => staleAck.expand!({ db: s.db, captureName: () => 'x' }, 1)).toThrow(/connection 1 drew no ACK/);
  });
});
