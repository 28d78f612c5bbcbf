import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACK, RST, SYN } from '../../src/decode/packet.js';
import type { Store } from '../../src/flows/store.js';
import { craftedStore, type Step } from '../helpers/steps.js';
import { hasTshark, pipeline, ROOT, SAMPLES, tsharkFields } from '../helpers/pipeline.js';

/**
 * Split handshakes and simultaneous opens (RFC 9293 §3.5): the responder sends a SYN of its own.
 * The expected values are worked out here from tshark's fields of each frame with RFC 9293's
 * rules, not from the tracker:
 *  - a client in SYN-SENT that receives a SYN without ACK enters SYN-RECEIVED and sends
 *    SYN,ACK with its own ISN (§3.10.7.3, "fourth, check the SYN bit"); an ACK without SYN or RST
 *    is dropped there ("fifth");
 *  - in SYN-RECEIVED an acceptable ACK moves it to ESTABLISHED (§3.10.7.4).
 * So the connection is established when each side acknowledged the other's SYN, the server's
 * acknowledgement counting only after its own SYN, and the client connected at that ACK.
 */

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

const FILES = ['corpus/suricata-tcp-split-handshake-01-4whs.pcap', 'corpus/suricata-tcp-split-handshake-02-5whs.pcap'];

interface Frame { n: number; src: string; flags: number; seq: number; ack: number; len: number; tUsec: number }
/** Each frame as tshark decodes it: raw sequence numbers, flags, payload length, time in µs (from the text, no float rounding). */
function tsharkFrames(file: string): Frame[] {
  return tsharkFields(join(SAMPLES, file), 'tcp', ['frame.number', 'ip.src', 'tcp.flags', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'frame.time_epoch'])
    .map(([n, src, flags, seq, ack, len, t]) => {
      const [s, frac = ''] = t.split('.');
      return { n: Number(n), src, flags: Number(flags), seq: Number(seq), ack: Number(ack), len: Number(len), tUsec: Number(s) * 1e6 + Number(frac.padEnd(6, '0').slice(0, 6)) };
    });
}

/** What RFC 9293 says of these frames (see the file comment). */
function rfcReading(fr: Frame[]) {
  const has = (f: Frame, bits: number): boolean => (f.flags & bits) === bits;
  const syn = fr.find((f) => has(f, SYN) && !has(f, ACK))!;
  const client = syn.src;
  const server = fr.find((f) => f.src !== client)!.src;
  const fromServer = fr.filter((f) => f.src === server);
  const serverSyn = fromServer.find((f) => has(f, SYN) && !has(f, ACK))!;
  const isnC = syn.seq, isnS = serverSyn.seq;
  const acks = (f: Frame, isn: number): boolean => has(f, ACK) && !has(f, RST) && f.ack === (isn + 1) % 2 ** 32;
  const clientAck = fr.find((f) => f.src === client && acks(f, isnS));
  const serverAckAfterSyn = fromServer.find((f) => f.n > serverSyn.n && acks(f, isnC));
  const serverAckBeforeSyn = fromServer.filter((f) => f.n < serverSyn.n && !has(f, SYN) && acks(f, isnC));
  const rst = fr.find((f) => has(f, RST))!;
  return { syn, client, server, serverSyn, clientAck, serverAckAfterSyn, serverAckBeforeSyn, rst, firstAnswer: fromServer[0] };
}

describe.skipIf(!hasTshark())('split handshakes (suricata 4whs, 5whs) against tshark\'s fields and RFC 9293', () => {
  for (const file of FILES) {
    it(`${file}: established by both SYNs acknowledged, connected at the server's ACK after its SYN`, async () => {
      const fr = tsharkFrames(file);
      const rfc = rfcReading(fr);
      // What the capture shows (checked here so the reading above is about these packets).
      expect(rfc.clientAck?.flags).toBe(SYN | ACK); // the client's SYN-ACK: it took the server's SYN
      expect(rfc.clientAck?.seq).toBe(rfc.syn.seq); // with its own ISN again (§3.10.7.3)
      expect(rfc.serverAckAfterSyn).toBeDefined();
      const { store } = await pipeline([join(SAMPLES, file)]);
      stores.push(store);
      const db = store.db;
      const conns = db.prepare('SELECT * FROM connections').all() as Record<string, any>[];
      expect(conns).toHaveLength(1);
      const c = conns[0];
      expect([c.client_addr, c.server_addr]).toEqual([rfc.client, rfc.server]);
      expect([c.client_isn, c.syn_frame, c.syn_ts_usec]).toEqual([rfc.syn.seq, rfc.syn.n, rfc.syn.tUsec]);
      // Per direction, every frame tshark shows, and its payload.
      const side = (who: string): Frame[] => fr.filter((f) => f.src === who);
      expect([c.client_pkts, c.client_payload]).toEqual([side(rfc.client).length, side(rfc.client).reduce((n, f) => n + f.len, 0)]);
      expect([c.server_pkts, c.server_payload]).toEqual([side(rfc.server).length, side(rfc.server).reduce((n, f) => n + f.len, 0)]);
      // Key packets kept as events: each one's numbers are tshark's for that frame.
      const events = db.prepare('SELECT frame, ts_usec, dir, kind, seq, ack, flags FROM events ORDER BY frame').all() as Record<string, any>[];
      for (const e of events) {
        const f = fr.find((x) => x.n === e.frame)!;
        expect([e.ts_usec, e.dir, e.seq, e.ack, e.flags & 0xff]).toEqual([f.tUsec, f.src === rfc.client ? 'c2s' : 's2c', f.seq, f.ack, f.flags & 0xff]);
      }
      const kindAt = (n: number): string | undefined => events.find((e) => e.frame === n)?.kind;
      expect(kindAt(rfc.syn.n)).toBe('syn');
      expect(kindAt(rfc.serverSyn.n)).toBe('server-syn');
      expect(kindAt(rfc.rst.n)).toBe('rst');
      expect(c.server_syn_count).toBe(fr.filter((f) => f.src === rfc.server && (f.flags & (SYN | ACK)) === SYN).length);

      // The first server frame is the answer: its own SYN (4whs) or a bare ACK (5whs).
      const a = rfc.firstAnswer;
      expect([c.answer, c.answer_frame, c.answer_seq, c.answer_ack]).toEqual([(a.flags & SYN) !== 0 ? 'syn' : 'ack', a.n, a.seq, a.ack]);
      // 5whs: that ACK acknowledges this SYN (ack = ISN + 1): not another connection's numbers,
      // so no stale ACK; a client in SYN-SENT drops it, so it does not complete anything either.
      for (const f of rfc.serverAckBeforeSyn) expect(kindAt(f.n)).toBe('answer-ack');
      expect(c.foreign_ack_count).toBe(0);
      expect(db.prepare("SELECT count(*) FROM findings WHERE detector = 'stale-ack'").pluck().get()).toBe(0);

      // Established: both SYNs acknowledged. Connect time: first SYN -> the server's first ACK of
      // the SYN after its own SYN (the client's move to ESTABLISHED). No SYN-ACK from the server: no SYN RTT.
      expect(c.handshake_acked).toBe(1);
      expect(c.connect_usec).toBe(rfc.serverAckAfterSyn!.tUsec - rfc.syn.tUsec);
      expect(c.rtt_syn_usec).toBeNull();
      expect(c.synack_count).toBe(0);
      // The client's RST came after the handshake: an established connection the client aborted (Zeek RSTO).
      expect(rfc.rst.src).toBe(rfc.client);
      expect(rfc.rst.n).toBeGreaterThan(rfc.serverAckAfterSyn!.n);
      expect([c.first_rst_by, c.first_rst_frame, c.first_rst_state, c.conn_state]).toEqual(['client', rfc.rst.n, 'established', 'RSTO']);
      const att = db.prepare('SELECT outcome, connect_usec, rtt_syn_usec FROM attempts').all();
      expect(att).toEqual([{ outcome: 'established', connect_usec: c.connect_usec, rtt_syn_usec: null }]);

      // The report: totals, verdict and worst-connection row say the same.
      const r = JSON.parse(execFileSync('node', ['dist/cli.js', 'analyze', join(SAMPLES, file), '--format', 'json'], { cwd: ROOT, encoding: 'utf8' }));
      expect([r.totals.attempts, r.totals.established, r.totals.unanswered, r.totals.staleAcks]).toEqual([1, 1, 0, 0]);
      expect(r.totals.otherAnswer).toBeUndefined();
      expect(r.verdict.headline).toContain('1 connection attempt, 1 established');
      expect(r.worstConnections).toHaveLength(1);
      expect(r.worstConnections[0]).toMatchObject({ state: 'RSTO', answer: c.answer, established: true, connectMs: c.connect_usec / 1000, synFrame: rfc.syn.n });
    });
  }
});

// Packet sequences written from RFC 9293 §3.10.7.3 (SYN-SENT) for the split handshakes that do
// not complete, and from tcp_timewait_state_process (net/ipv4/tcp_minisocks.c) for a stale ACK.
function crafted(steps: Step[]): { conn: Record<string, any>; outcome: string } {
  const store = craftedStore(steps);
  stores.push(store);
  const conns = store.db.prepare('SELECT * FROM connections').all() as Record<string, any>[];
  expect(conns).toHaveLength(1);
  return { conn: conns[0], outcome: store.db.prepare('SELECT outcome FROM attempts').pluck().get() as string };
}

describe('split handshakes that do not complete, and a stale ACK (crafted sequences)', () => {
  it('the server\'s SYN and the client\'s SYN-ACK, no ACK of the client\'s SYN: answered, not established, no connect time', () => {
    const { conn, outcome } = crafted([
      [true, SYN, 1000, 0, 0, 0],
      [false, SYN, 3000, 0, 0, 1],
      [true, SYN | ACK, 1000, 3001, 0, 2], // SYN-SENT -> SYN-RECEIVED
      [true, RST, 1001, 0, 0, 3000],
    ]);
    expect([conn.answer, conn.answer_frame, conn.handshake_acked, conn.connect_usec]).toEqual(['syn', 2, 0, null]);
    expect(conn.first_rst_state).toBe('syn-received');
    expect(outcome).toBe('other-answer');
  });

  it('a simultaneous open as RFC 9293 §3.5 draws it (both send SYN, then SYN-ACK): established at the server\'s SYN-ACK, no ACK needed after it', () => {
    const { conn, outcome } = crafted([
      [true, SYN, 1000, 0, 0, 0],
      [false, SYN, 3000, 0, 0, 1],
      [true, SYN | ACK, 1000, 3001, 0, 2],
      [false, SYN | ACK, 3000, 1001, 0, 3], // the client, in SYN-RECEIVED, takes it: ESTABLISHED (§3.10.7.4)
      [true, RST, 1001, 0, 0, 4],
    ]);
    expect([conn.answer, conn.synack_count, conn.handshake_acked, conn.connect_usec, conn.conn_state]).toEqual(['syn', 1, 1, 3000, 'RSTO']);
    expect(outcome).toBe('established');
  });

  it('a bare ACK of the SYN (ack = ISN + 1) and nothing else: answered, not a stale ACK, not established', () => {
    const { conn, outcome } = crafted([
      [true, SYN, 1000, 0, 0, 0],
      [false, ACK, 2000, 1001, 0, 1], // dropped by a client in SYN-SENT ("fifth")
      [true, SYN, 1000, 0, 0, 1000], // so it retransmits its SYN
    ]);
    expect([conn.answer, conn.foreign_ack_count, conn.handshake_acked]).toEqual(['ack', 0, 0]);
    expect(outcome).toBe('other-answer');
  });

  it('an ACK before the server\'s SYN does not complete the handshake: only one after it does', () => {
    const { conn, outcome } = crafted([
      [true, SYN, 1000, 0, 0, 0],
      [false, ACK, 2000, 1001, 0, 1],
      [false, SYN, 3000, 0, 0, 2],
      [true, SYN | ACK, 1000, 3001, 0, 3],
    ]);
    expect([conn.handshake_acked, conn.connect_usec]).toEqual([0, null]);
    expect(outcome).toBe('other-answer');
  });

  it('a stale ACK (the old connection\'s numbers) is still a foreign ACK, with no server SYN in sight', () => {
    const { conn, outcome } = crafted([
      [true, SYN, 900, 0, 0, 0],
      [false, ACK, 5002, 1202, 0, 1], // old FIN numbers: ack != ISN + 1
      [true, RST, 1202, 0, 0, 2],
    ]);
    expect([conn.answer, conn.foreign_ack_count, conn.foreign_ack_ack, conn.server_syn_count, conn.handshake_acked]).toEqual(['ack', 1, 1202, 0, 0]);
    expect(outcome).toBe('foreign-ack');
  });
});
