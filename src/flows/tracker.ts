import { ACK, FIN, RST, SYN, type TcpPacket } from '../decode/packet.js';
import { formatAddress } from '../decode/addr.js';
import { retransmitCause } from './retransmitCause.js';
import { tunnelText, tunnelVxlanPort } from '../decode/tunnelText.js';
import { Conn, SEEN_ANSWER_ACK, SEEN_SYNACK, snapshotOptions, type Tomb } from './conn.js';
import { CLIENT, NONE, SERVER } from './history.js';
import { aLooksLikeServer } from './roles.js';
import { An, Det, record, tfoOptionKind } from './anomalies.js';
import { seqAdd, seqAfter, seqBefore, seqDiff } from './seq.js';
import { TupleMap, type TupleWords } from './tupleMap.js';

/** Where finished connections go (the SQLite store, or a test's array). */
export interface ConnSink {
  flush(c: Conn): void;
}

export interface TrackerOptions {
  /** TIME_WAIT length: how long a closed tuple's summary is kept to link a reuse. */
  timeWaitUsec: number;
  /** First connection id to hand out (ids are unique across captures in one store). */
  firstId: number;
}

/** A closed connection stays live this long after its last packet, for late FIN/ACK retransmits. */
const CLOSED_GRACE_USEC = 10e6;
/**
 * An unanswered or half-open attempt stays live this long after its last packet: the longest
 * SYN backoff of older kernels (1, 3, 7, 15, 31, 63 s: RFC 6298 doubling from tcp_timeout_init) must not split it.
 */
const ATTEMPT_IDLE_USEC = 130e6;
/** An established connection with no packet for this long is written out (Zeek uses 5 min). */
const ESTABLISHED_IDLE_USEC = 3600e6;
/** IPv4 address texts kept (a bound, not a tuning: past it the cache starts over). */
const MAX_ADDRESS_TEXTS = 65536;
/** How often, in capture time, live connections are checked for eviction. */
const SWEEP_EVERY_USEC = 1e6;
/**
 * A SYN with another ISN this soon after the first SYN of an unanswered attempt on the same
 * tuple, which the attempt never retransmitted, is not the same host trying again: a stack
 * retransmits its SYN with the same ISN after the initial RTO, 1 s (RFC 6298 §2.1;
 * TCP_TIMEOUT_INIT), and a new connect() from the same port follows only an abandoned attempt
 * (an application's connect timeout, which the lab's syn-drop-gateway shows after 4.5 s and
 * five SYNs). Within this window the earlier attempt is kept aside (parked), not ended, so that
 * its own retransmits, arriving between crafted or spoofed SYNs, still land on it (Zeek names
 * the new ISN SYN_seq_jump).
 */
const ISN_JUMP_USEC = 1e6;
/** Attempts kept aside per tuple; beyond it the one with the fewest SYNs is written out. */
const MAX_PARKED = 4;

/**
 * Folds packets into connections, one incarnation at a time per 4-tuple, and hands each
 * finished connection to the sink. Memory holds live connections plus a small summary of
 * recently closed tuples, so it is bounded by concurrency, not by capture length.
 */
export class Tracker {
  private readonly live = new TupleMap<Conn>();
  private readonly tombs = new TupleMap<Tomb & TupleWords>();
  /** Unanswered attempts set aside by a SYN with another ISN on their tuple (ISN_JUMP_USEC). */
  private readonly parked = new TupleMap<Conn[]>();
  private nextId: number;
  private readonly v4Text = new Map<number, string>();
  private nextSweepUsec = -1;
  private nowUsec = 0;
  connections = 0;

  constructor(private readonly captureId: number, private readonly sink: ConnSink, private readonly opts: TrackerOptions) {
    this.nextId = opts.firstId;
  }

  get lastId(): number { return this.nextId - 1; }
  get liveCount(): number { return this.live.size; }
  get tombCount(): number { return this.tombs.size; }

  onPacket(p: TcpPacket): void {
    this.track(p);
    // Sweep after the packet is applied, so a packet whose clock jumped ahead still lands
    // on its own connection before anything idle is written out.
    if (p.tsUsec > this.nowUsec) this.nowUsec = p.tsUsec;
    if (this.nowUsec >= this.nextSweepUsec) {
      if (this.nextSweepUsec >= 0) this.sweep(this.nowUsec);
      this.nextSweepUsec = this.nowUsec + SWEEP_EVERY_USEC;
    }
  }

  private track(p: TcpPacket): void {
    const f = p.flags;
    const isSyn = (f & SYN) !== 0 && (f & ACK) === 0;
    const isSynAck = (f & SYN) !== 0 && (f & ACK) !== 0;
    let c = this.live.get(p);
    if (c !== undefined) {
      const fromClient = isFromA(c, p);
      if (isSyn) {
        // A new ISN from the client, or a SYN from either side after a close, starts a new
        // incarnation; the same ISN again is a retransmission of this one.
        // A SYN captured after its own SYN-ACK (merged or reordered captures) belongs to it.
        const lateSyn = fromClient && c.synCount === 0 && c.synAckCount > 0 && c.synAckAck === seqAdd(p.seq, 1);
        if (!lateSyn && fromClient && c.synCount > 0 && p.seq !== c.clientIsn && this.parked.size > 0) {
          const back = this.unpark(c, p, (x) => x.clientIsn === p.seq);
          if (back !== undefined) { applyPacket(back, p, true); return; }
        }
        if (!lateSyn && (fromClient ? c.synCount === 0 || p.seq !== c.clientIsn : c.closed)) {
          const jump = fromClient && c.synCount === 1 && isOpenAttempt(c) && p.tsUsec - c.firstSynTsUsec < ISN_JUMP_USEC;
          c = jump ? this.jump(c, p) : this.replace(c, p, true);
        }
      } else if (isSynAck && !fromClient && c.synCount > 0 && p.ack !== seqAdd(c.clientIsn, 1) && this.parked.size > 0) {
        // A SYN-ACK for an attempt set aside: that one is the tuple's connection again.
        const back = this.unpark(c, p, (x) => p.ack === seqAdd(x.clientIsn, 1));
        if (back !== undefined) c = back;
      } else if (isSynAck && !fromClient && c.closed && c.synAckCount > 0 && p.seq !== c.serverIsn) {
        c = this.replace(c, p, false); // a new handshake whose SYN the capture missed
      }
      applyPacket(c, p, isFromA(c, p));
      return;
    }
    c = this.create(p, isSyn ? true : isSynAck ? false : !aLooksLikeServer(p.srcPort, p.dstPort), !isSyn && !isSynAck);
    const tomb = this.tombs.get(p);
    if (tomb !== undefined) {
      c.prev = tomb;
      c.incarnation = tomb.incarnation + 1;
      this.tombs.deleteTuple(tomb);
    }
    applyPacket(c, p, isFromA(c, p));
  }

  /** Write out every live connection (end of capture). */
  finish(): void {
    for (const c of this.live.values()) this.sink.flush(c);
    for (const l of this.parked.values()) for (const c of l) this.sink.flush(c);
    this.parked.clear();
    this.live.clear();
    this.tombs.clear();
  }

  private create(p: TcpPacket, srcIsClient: boolean, inferred: boolean): Conn {
    const c = new Conn(this.nextId++, this.captureId);
    this.connections++;
    c.ipVersion = p.ipVersion;
    if (srcIsClient) {
      c.a0 = p.src0; c.a1 = p.src1; c.a2 = p.src2; c.a3 = p.src3; c.aPort = p.srcPort;
      c.b0 = p.dst0; c.b1 = p.dst1; c.b2 = p.dst2; c.b3 = p.dst3; c.bPort = p.dstPort;
    } else {
      c.a0 = p.dst0; c.a1 = p.dst1; c.a2 = p.dst2; c.a3 = p.dst3; c.aPort = p.dstPort;
      c.b0 = p.src0; c.b1 = p.src1; c.b2 = p.src2; c.b3 = p.src3; c.bPort = p.srcPort;
    }
    c.clientAddr = this.addressText(c.ipVersion, c.a0, c.a1, c.a2, c.a3);
    c.serverAddr = this.addressText(c.ipVersion, c.b0, c.b1, c.b2, c.b3);
    c.rolesInferred = inferred;
    c.firstTsUsec = p.tsUsec;
    c.firstFrame = p.frame;
    if (p.tunnelCount > 0) { c.tunnel = tunnelText(p); c.tunnelVxlanPort = tunnelVxlanPort(p); }
    this.live.set(p, c);
    return c;
  }

  /**
   * An address as text, IPv4 ones built once: a capture's connections come from few
   * addresses, and two new strings per connection were a measurable share of ingest.
   */
  private addressText(version: 4 | 6, w0: number, w1: number, w2: number, w3: number): string {
    if (version === 6) return formatAddress(6, w0, w1, w2, w3);
    let text = this.v4Text.get(w3);
    if (text === undefined) {
      if (this.v4Text.size >= MAX_ADDRESS_TEXTS) this.v4Text.clear();
      text = formatAddress(4, 0, 0, 0, w3);
      this.v4Text.set(w3, text);
    }
    return text;
  }

  /** Close out `old` and start the next incarnation of its tuple with this packet. */
  private replace(old: Conn, p: TcpPacket, srcIsClient: boolean): Conn {
    this.sink.flush(old);
    const c = this.create(p, srcIsClient, false);
    c.prev = old.toTomb();
    c.incarnation = old.incarnation + 1;
    return c;
  }

  /**
   * A SYN with a new ISN on a tuple whose attempt is unanswered and recent: set that attempt
   * aside and start the new one, named syn-isn-change with the ISN it replaced.
   */
  private jump(old: Conn, p: TcpPacket): Conn {
    let l = this.parked.get(p);
    if (l === undefined) { l = []; this.parked.setTuple(old, l); }
    l.push(old);
    if (l.length > MAX_PARKED) {
      // Keep the attempts that retransmitted (a host's own SYNs) and, among equals, the oldest.
      let worst = 0;
      for (let i = 1; i < l.length; i++) if (l[i].synCount <= l[worst].synCount) worst = i;
      this.sink.flush(l.splice(worst, 1)[0]);
    }
    const c = this.create(p, true, false);
    c.prev = old.toTomb();
    c.incarnation = old.incarnation + 1;
    c.isnRun = old.isnRun + 1;
    record(c, p.frame, p.tsUsec, true, An.SynIsnChange, p.seq, p.ack, NaN, old.clientIsn, old.lastSynFrame, p.tsUsec - old.lastSynTsUsec, NaN, c.isnRun);
    return c;
  }

  /** The parked attempt `match` picks becomes the tuple's live one again; the live one is parked or written out. */
  private unpark(live: Conn, p: TcpPacket, match: (c: Conn) => boolean): Conn | undefined {
    const l = this.parked.get(p);
    if (l === undefined) return undefined;
    const i = l.findIndex(match);
    if (i < 0) return undefined;
    const back = l.splice(i, 1)[0];
    if (isOpenAttempt(live)) l.push(live); else this.sink.flush(live);
    if (l.length === 0) this.parked.deleteTuple(back);
    this.live.set(p, back);
    return back;
  }

  private sweep(now: number): void {
    if (this.parked.size > 0) {
      const emptied: Conn[] = [];
      for (const l of this.parked.values()) {
        for (let i = l.length - 1; i >= 0; i--) {
          if (now - l[i].lastTsUsec <= ATTEMPT_IDLE_USEC) continue;
          const gone = l.splice(i, 1)[0];
          this.sink.flush(gone);
          if (l.length === 0) emptied.push(gone);
        }
      }
      for (const c of emptied) this.parked.deleteTuple(c);
    }
    for (const c of this.live.values()) {
      const idle = now - c.lastTsUsec;
      const limit = c.closed ? CLOSED_GRACE_USEC : c.synAckCount > 0 || c.handshakeAcked || c.rolesInferred ? ESTABLISHED_IDLE_USEC : ATTEMPT_IDLE_USEC;
      if (idle <= limit) continue;
      this.sink.flush(c);
      this.live.deleteTuple(c);
      const tomb = Object.assign(c.toTomb(), tupleOf(c));
      this.tombs.setTuple(tomb, tomb);
    }
    // A tuple's summary matters while a reuse could still meet its TIME_WAIT; keep it two periods.
    for (const tb of this.tombs.values()) {
      if (now - tb.closedTsUsec > 2 * this.opts.timeWaitUsec) this.tombs.deleteTuple(tb);
    }
  }
}

/** An attempt nothing answered yet: no SYN-ACK, no answer, not closed, roles from a SYN. */
function isOpenAttempt(c: Conn): boolean {
  return c.synAckCount === 0 && c.answer === 'none' && !c.closed && !c.rolesInferred && c.serverSynCount === 0 && c.pktsS === 0;
}

function tupleOf(c: Conn): TupleWords {
  return { ipVersion: c.ipVersion, a0: c.a0, a1: c.a1, a2: c.a2, a3: c.a3, aPort: c.aPort, b0: c.b0, b1: c.b1, b2: c.b2, b3: c.b3, bPort: c.bPort };
}

function isFromA(c: Conn, p: TcpPacket): boolean {
  return p.srcPort === c.aPort && p.src3 === c.a3 && p.src2 === c.a2 && p.src1 === c.a1 && p.src0 === c.a0;
}

function stateAt(c: Conn): string {
  if (c.synCount === 0 && c.synAckCount === 0) return 'midstream';
  // A client that sent a SYN-ACK took the server's SYN: SYN-RECEIVED (RFC 9293 §3.10.7.3).
  if (c.synAckCount === 0 && !c.handshakeAcked) return c.clientSynAckCount > 0 ? 'syn-received' : 'syn-sent';
  if (c.firstFinBy !== NONE) return 'closing';
  if (!c.handshakeAcked && c.synCount > 0) return 'syn-received';
  return 'established';
}

/**
 * A split handshake or simultaneous open (RFC 9293 §3.5): the server sent its own SYN. An ACK
 * (with or without SYN, no RST) from either side that acknowledges the other's SYN is that
 * side's half of the handshake; once both halves are seen the connection is established
 * (handshakeAcked). The client in SYN-RECEIVED takes the server's acceptable ACK and enters
 * ESTABLISHED (RFC 9293 §3.10.7.4): the first such ACK after the server's SYN is its connect time.
 * Called only after the server's SYN, so an ACK before it (dropped by a client in SYN-SENT) is not one.
 */
function splitAck(c: Conn, p: TcpPacket, fromClient: boolean): void {
  if (fromClient) {
    if (c.splitClientAckFrame === 0 && p.ack === seqAdd(c.serverSynIsn, 1)) c.splitClientAckFrame = p.frame;
  } else if (c.splitServerAckFrame === 0 && p.ack === seqAdd(c.clientIsn, 1)) {
    c.splitServerAckFrame = p.frame; c.splitServerAckTsUsec = p.tsUsec;
  }
  if (c.splitClientAckFrame !== 0 && c.splitServerAckFrame !== 0) { c.handshakeAcked = true; c.splitDone = true; }
}

/** Fold one packet into its connection. Allocates only for key packets (events). */
export function applyPacket(c: Conn, p: TcpPacket, fromClient: boolean): void {
  const side = fromClient ? CLIENT : SERVER;
  const f = p.flags;
  const t = p.tsUsec;
  const h = c.history;
  if (fromClient) { c.pktsC++; c.bytesC += p.origLenBytes; c.payloadC += p.payloadBytes; }
  else { c.pktsS++; c.bytesS += p.origLenBytes; c.payloadS += p.payloadBytes; }
  if (t > c.lastTsUsec) c.lastTsUsec = t;
  if (!fromClient) c.sawServerPkt = true;
  else if (c.synAckCount > 0) c.sawClientAfterSynAck = true;

  if ((f & SYN) !== 0 && (f & (FIN | RST)) !== 0) h.once('Q', fromClient);
  let trackSeq = (f & RST) === 0;

  if ((f & SYN) !== 0) {
    if ((f & ACK) === 0) {
      h.withSeq('S', fromClient, p.seq);
      // The ack field of a segment without ACK is meaningless and a stack sends zero there
      // (RFC 9293 §3.1); tools that craft SYNs often leave it random (Wireshark: tcp.ack.nonzero).
      if (p.ack !== 0) record(c, p.frame, t, fromClient, An.SynNonzeroAck, p.seq, p.ack, NaN, NaN, NaN, NaN, NaN);
      if (fromClient) {
        if (c.synCount === 0) {
          c.clientIsn = p.seq;
          c.firstSynFrame = p.frame;
          c.firstSynTsUsec = t;
          c.synOpts = snapshotOptions(p);
          if (p.payloadBytes > 0) {
            c.synDataFrame = p.frame; c.synDataTsUsec = t; c.synDataBytes = p.payloadBytes; c.synDataTfo = tfoOptionKind(p);
          }
          if (c.synAckCount > 0 && c.answer === 'none') {
            // The SYN-ACK was captured first: it is still the answer.
            c.answer = 'synack'; c.answerFrame = c.synAckFrame; c.answerTsUsec = c.synAckTsUsec; c.answerSeq = c.serverIsn; c.answerAck = c.synAckAck; c.answerFlags = SYN | ACK;
          }
          c.nextC = seqAdd(p.seq, 1 + p.payloadBytes); c.contigC = c.nextC;
          c.haveNextC = true;
          trackSeq = false;
          c.addEvent(p, true, 'syn');
        } else {
          c.addEvent(p, true, 'syn-rtx');
          const seen = c.seenSinceSyn;
          const cause = retransmitCause((seen & SEEN_ANSWER_ACK) !== 0, (seen & SEEN_SYNACK) !== 0);
          if (cause === 'after-stale-ack') c.rtxAfterAck++;
          else if (cause === 'after-synack') c.rtxAfterSynAck++;
          else c.rtxUnanswered++;
          if (c.foreignAckFrame !== 0 && c.foreignRetryFrame === 0) { c.foreignRetryFrame = p.frame; c.foreignRetryTsUsec = t; }
          // A client RST in SYN_SENT (answering a stale ACK) is followed by this retransmit.
          if (c.synAckCount === 0 && c.decidingRst !== NONE) { c.decidingRst = NONE; c.closedTsUsec = -1; }
        }
        c.synCount++;
        c.lastSynTsUsec = t;
        c.lastSynFrame = p.frame;
        c.seenSinceSyn = 0;
      } else {
        c.serverSynCount++;
        if (c.serverSynFrame === 0) {
          c.serverSynFrame = p.frame;
          c.serverSynIsn = p.seq;
          if (c.synCount > 0) record(c, p.frame, t, false, An.SimultaneousOpen, p.seq, NaN, NaN, NaN, c.firstSynFrame, t - c.firstSynTsUsec, NaN);
        }
        c.addEvent(p, false, 'server-syn');
      }
    } else {
      h.once('H', fromClient);
      if (fromClient) {
        c.clientSynAckCount++; // simultaneous open or a split handshake
        if (c.clientSynAckFrame === 0) { c.clientSynAckFrame = p.frame; c.clientSynAckTsUsec = t; }
      } else {
        if (c.synAckCount === 0) {
          // An RST came first from this side, then the SYN-ACK: the RST was not the server's
          // (an injected or middlebox RST; RFC 5961 §3 describes the blind variant).
          if (c.rstCountS > 0 && c.synCount > 0) {
            const acceptable = (c.firstRstFlags & ACK) !== 0 && c.firstRstAck === seqAdd(c.clientIsn, 1);
            record(c, c.firstRstFrame, c.firstRstTsUsec, false, An.RstThenSynAck, NaN, c.firstRstAck, NaN, NaN, p.frame,
              t - c.firstRstTsUsec, acceptable ? Det.Acceptable : Det.NotAcceptable);
          }
          c.serverIsn = p.seq;
          c.synAckAck = p.ack;
          c.synAckFrame = p.frame;
          c.synAckTsUsec = t;
          c.synAckOpts = snapshotOptions(p);
          // The server's sequence space starts here, whatever stale ACK came before.
          c.nextS = seqAdd(p.seq, 1 + p.payloadBytes); c.contigS = c.nextS;
          c.haveNextS = true;
          trackSeq = false;
          if (c.decidingRst !== NONE) { c.decidingRst = NONE; c.closedTsUsec = -1; }
          c.addEvent(p, false, 'synack');
        } else {
          c.addEvent(p, false, 'synack-rtx');
          if (p.seq !== c.serverIsn) {
            // Another ISN: the server answered from another request (a retransmitted SYN it took
            // for a new one, a TFO server restarting the handshake), not a retransmit of the first.
            c.synAckOtherIsn++;
            c.serverIsnLatest = p.seq;
            record(c, p.frame, t, false, An.SynAckIsnChange, p.seq, p.ack, NaN, c.serverIsn, c.synAckFrame, t - c.synAckTsUsec, NaN);
            // Before the handshake completes, the server's sequence space is the new request's
            // (the client acknowledges whichever SYN-ACK reached it).
            if (!c.handshakeAcked) { c.nextS = seqAdd(p.seq, 1); c.contigS = c.nextS; c.haveNextS = true; trackSeq = false; }
          } else if (c.handshakeAcked) {
            // The client's ACK reached this point and the server still resends: it did not take
            // the ACK (a full accept queue drops it in tcp_check_req, TcpExtListenOverflows). A
            // split handshake completed without that ACK (splitAck): nothing to name here.
            if (c.handshakeAckFrame !== 0) record(c, p.frame, t, false, An.SynAckAfterAck, p.seq, p.ack, NaN, NaN, c.handshakeAckFrame, t - c.handshakeAckTsUsec, NaN);
          } else {
            // Linux resends the SYN-ACK when the SYN comes again (tcp_check_req) or when its own
            // timer fires (reqsk_timer_handler): either way the SYN-ACK or the ACK was lost.
            const afterSyn = c.lastSynTsUsec > c.lastSynAckTsUsec;
            record(c, p.frame, t, false, An.SynAckBeforeAck, p.seq, p.ack, NaN, NaN, afterSyn ? c.lastSynFrame : c.synAckFrame,
              t - (afterSyn ? c.lastSynTsUsec : c.lastSynAckTsUsec), afterSyn ? Det.AfterSynRtx : Det.ServerTimer);
          }
        }
        if ((c.seenSinceSyn & SEEN_SYNACK) === 0 && !c.handshakeAcked && c.lastSynTsUsec >= 0) {
          c.takenSynAckTsUsec = t;
          c.rttSynUsec = t - c.lastSynTsUsec;
        }
        c.lastSynAckTsUsec = t;
        c.seenSinceSyn |= SEEN_SYNACK;
        c.synAckCount++;
      }
    }
  }

  // The first thing the server sends after a SYN is its answer.
  if (!fromClient && c.synCount > 0 && c.synAckCount <= 1) {
    if (c.answer === 'none') {
      // A SYN without ACK is the responder's own SYN (simultaneous open or split handshake).
      c.answer = (f & SYN) !== 0 && (f & ACK) !== 0 ? 'synack' : (f & RST) !== 0 ? 'rst' : (f & SYN) === 0 ? 'ack' : 'syn';
      c.answerFrame = p.frame; c.answerTsUsec = t; c.answerSeq = p.seq; c.answerAck = p.ack; c.answerFlags = f;
    }
    // After a server SYN or a client SYN-ACK the handshake is a simultaneous open or split
    // handshake (RFC 9293 §3.5), where plain ACKs are part of it, not answers from old state.
    if (c.synAckCount === 0 && c.serverSynCount === 0 && c.clientSynAckCount === 0 && (f & (SYN | RST)) === 0
      && !c.synAckUnseen && seqAfter(p.ack, seqAdd(c.clientIsn, 1)) && !seqAfter(p.ack, c.nextC)) {
      // It acknowledges data this client sent after its SYN: the client had the SYN-ACK, the
      // capture did not (Wireshark: "ACKed segment that wasn't captured"). Not another
      // connection's numbers: this connection's own, so its sequence space starts here.
      c.synAckUnseen = true;
      record(c, p.frame, t, false, An.SynAckNotCaptured, p.seq, p.ack, NaN, NaN, c.lastSynFrame, t - c.lastSynTsUsec, NaN);
    }
    if (c.synAckCount === 0 && c.serverSynCount === 0 && c.clientSynAckCount === 0 && (f & (SYN | RST)) === 0 && !c.synAckUnseen) {
      // A non-SYN answer to a SYN carries another connection's sequence numbers (stale or
      // challenge ACK): keep it as evidence and out of this connection's sequence space.
      c.addEvent(p, false, 'answer-ack');
      c.seenSinceSyn |= SEEN_ANSWER_ACK;
      if (p.ack !== seqAdd(c.clientIsn, 1)) {
        c.foreignAckCount++;
        if (c.foreignAckFrame === 0) {
          c.foreignAckFrame = p.frame; c.foreignAckTsUsec = t; c.foreignAckSeq = p.seq; c.foreignAckAck = p.ack;
          c.foreignAckTs = p.hasTimestamp; c.foreignAckSynFrame = c.lastSynFrame;
        }
      }
      trackSeq = false;
    }
  }

  if (fromClient && c.synAckCount > 0 && !c.handshakeAcked && (f & SYN) === 0 && (f & ACK) !== 0 && (f & RST) === 0
    && (p.ack === seqAdd(c.serverIsn, 1) || (c.synAckOtherIsn > 0 && p.ack === seqAdd(c.serverIsnLatest, 1)))) {
    c.handshakeAcked = true;
    c.rttAckUsec = t - c.connectSynAckTsUsec;
    c.handshakeAckFrame = p.frame; c.handshakeAckTsUsec = t;
    c.addEvent(p, true, 'handshake-ack');
  }
  if (c.serverSynCount > 0 && c.synCount > 0 && !c.handshakeAcked && (f & (ACK | RST)) === ACK) splitAck(c, p, fromClient);
  if (fromClient && c.synCount > 0 && c.synAckCount === 0 && c.serverSynCount === 0 && c.clientSynAckCount === 0 && !c.synAckUnseen
    && (f & (SYN | RST)) === 0 && (f & ACK) !== 0 && p.ack !== 0
    && seqAfter(p.seq, c.clientIsn) && !seqAfter(p.seq, c.nextC)) {
    // An ACK from a client in SYN-SENT means it took a SYN-ACK (RFC 9293 §3.10.7.3): the
    // capture missed it. Its ack is the server's ISN + 1.
    c.synAckUnseen = true;
    record(c, p.frame, t, true, An.SynAckNotCaptured, p.seq, p.ack, NaN, NaN, c.lastSynFrame, t - c.lastSynTsUsec, NaN);
  }
  if ((f & (SYN | ACK)) === ACK && p.ack !== 0) { if (fromClient) c.ackSentC = true; else c.ackSentS = true; }

  if (trackSeq) {
    const have = fromClient ? c.haveNextC : c.haveNextS;
    const next = fromClient ? c.nextC : c.nextS;
    // Wireshark's two capture-gap flags (tcp_analyze_sequence_number): a segment starting past
    // everything this side was seen sending ("previous segment not captured": lost before the
    // capture point or by it), and an ACK past everything the other side was seen sending
    // ("ACKed segment that wasn't captured": the receiver got what the capture missed).
    if (have && (f & SYN) === 0 && seqAfter(p.seq, next)) {
      record(c, p.frame, t, fromClient, An.LostSegment, p.seq, p.ack, seqDiff(next, p.seq), NaN, NaN, NaN, NaN);
    }
    if ((f & ACK) !== 0 && (fromClient ? c.haveNextS : c.haveNextC) && seqAfter(p.ack, fromClient ? c.contigS : c.contigC)) {
      const contig = fromClient ? c.contigS : c.contigC;
      record(c, p.frame, t, fromClient, An.AckUnseen, p.seq, p.ack, seqDiff(contig, p.ack), NaN, NaN, NaN, NaN);
      // As Wireshark does: the other side's data up to its highest segment counts as seen now,
      // so one hole is named once, not on every ACK after it.
      if (fromClient) { c.contigS = c.nextS; c.holeEndS = -1; } else { c.contigC = c.nextC; c.holeEndC = -1; }
    }
    if (p.payloadBytes > 0) {
      if (have && seqBefore(p.seq, next)) {
        if (fromClient) c.retransC++; else c.retransS++;
        h.counted('T', fromClient);
      } else {
        h.once('D', fromClient);
      }
    }
    const end = seqAdd(p.seq, p.payloadBytes + ((f & SYN) !== 0 ? 1 : 0) + ((f & FIN) !== 0 ? 1 : 0));
    if (!have || seqAfter(end, next)) {
      if (fromClient) { c.nextC = end; c.haveNextC = true; } else { c.nextS = end; c.haveNextS = true; }
    }
    const contig = fromClient ? c.contigC : c.contigS;
    const holeEnd = fromClient ? c.holeEndC : c.holeEndS;
    if (!have || (!seqAfter(p.seq, contig) && seqAfter(end, contig))) {
      // In order past the seen data, or filling the hole after it: seen up to here, or, once the
      // hole is covered, up to the highest segment seen.
      const filled = holeEnd >= 0 && !seqBefore(end, holeEnd);
      const upTo = filled ? (fromClient ? c.nextC : c.nextS) : end;
      if (fromClient) { c.contigC = upTo; if (filled) c.holeEndC = -1; } else { c.contigS = upTo; if (filled) c.holeEndS = -1; }
    } else if (have && seqAfter(p.seq, contig) && holeEnd < 0) {
      if (fromClient) c.holeEndC = p.seq; else c.holeEndS = p.seq;
    }
  }

  if ((f & (SYN | FIN | RST)) === 0 && (f & ACK) !== 0 && p.payloadBytes === 0) h.once('A', fromClient);
  if (p.window === 0 && (f & (SYN | RST)) === 0) h.counted('W', fromClient);
  if (p.hasTimestamp) {
    if ((f & SYN) === 0) { if (fromClient) c.tsLaterC = true; else c.tsLaterS = true; }
    if (trackSeq || (f & SYN) !== 0) { if (fromClient) c.lastTsValC = p.tsVal; else c.lastTsValS = p.tsVal; }
  }

  if ((f & FIN) !== 0) {
    h.withSeq('F', fromClient, p.seq);
    if ((fromClient ? c.finFrameC : c.finFrameS) === 0) {
      if (fromClient) { c.finFrameC = p.frame; c.finTsUsecC = t; } else { c.finFrameS = p.frame; c.finTsUsecS = t; }
      c.addEvent(p, fromClient, 'fin');
      if (c.firstFinBy === NONE) c.firstFinBy = side;
      else if (c.closedTsUsec < 0) c.closedTsUsec = t;
    }
  }

  if ((f & RST) !== 0) {
    h.withSeq('R', fromClient, p.seq);
    if (fromClient) c.rstCountC++; else c.rstCountS++;
    c.addEvent(p, fromClient, 'rst');
    if (fromClient && c.foreignAckFrame !== 0 && c.foreignRstFrame === 0) { c.foreignRstFrame = p.frame; c.foreignRstSeq = p.seq; }
    if (c.firstRstBy === NONE) {
      c.firstRstBy = side; c.firstRstFrame = p.frame; c.firstRstTsUsec = t; c.firstRstState = stateAt(c);
      c.firstRstAck = p.ack; c.firstRstFlags = f;
    }
    // The SYN's own sender resets before acknowledging any SYN-ACK: a half-open scan (SYN,
    // SYN-ACK, RST from a raw-socket sender) or an attempt abandoned with nothing back. The
    // kernel's RST to a stale ACK (RFC 9293 §3.10.7.3) is the stale-ack finding's, not this.
    if (fromClient && c.synCount > 0 && !c.handshakeAcked && !c.synAckUnseen && c.foreignAckFrame === 0 && c.clientSynAckCount === 0) {
      const after = (c.seenSinceSyn & SEEN_SYNACK) !== 0 || c.synAckCount > 0 ? Det.AfterSynAck : Det.AfterNothing;
      record(c, p.frame, t, true, An.RstFromSynSender, p.seq, p.ack, NaN, NaN, after === Det.AfterSynAck ? c.synAckFrame : c.lastSynFrame,
        t - (after === Det.AfterSynAck ? c.synAckTsUsec : c.lastSynTsUsec), after);
    }
    const established = c.synAckCount > 0 || c.handshakeAcked || (c.synCount === 0);
    if (!established || c.decidingRst === NONE) {
      c.decidingRst = side;
      if (c.closedTsUsec < 0) c.closedTsUsec = t;
    }
  }
}
