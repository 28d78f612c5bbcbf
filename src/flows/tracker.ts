import { ACK, FIN, RST, SYN, type TcpPacket } from '../decode/packet.js';
import { formatAddress } from '../decode/addr.js';
import { retransmitCause } from './retransmitCause.js';
import { tunnelText } from '../decode/tunnelText.js';
import { Conn, SEEN_ANSWER_ACK, SEEN_SYNACK, snapshotOptions, type Tomb } from './conn.js';
import { CLIENT, NONE, SERVER } from './history.js';
import { aLooksLikeServer } from './roles.js';
import { seqAdd, seqAfter, seqBefore } from './seq.js';
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
 * SYN backoff of older kernels (1, 3, 7, 15, 31, 63 s; TCP-FACTS.md) must not split it.
 */
const ATTEMPT_IDLE_USEC = 130e6;
/** An established connection with no packet for this long is written out (Zeek uses 5 min). */
const ESTABLISHED_IDLE_USEC = 3600e6;
/** IPv4 address texts kept (a bound, not a tuning: past it the cache starts over). */
const MAX_ADDRESS_TEXTS = 65536;
/** How often, in capture time, live connections are checked for eviction. */
const SWEEP_EVERY_USEC = 1e6;

/**
 * Folds packets into connections, one incarnation at a time per 4-tuple, and hands each
 * finished connection to the sink. Memory holds live connections plus a small summary of
 * recently closed tuples, so it is bounded by concurrency, not by capture length.
 */
export class Tracker {
  private readonly live = new TupleMap<Conn>();
  private readonly tombs = new TupleMap<Tomb & TupleWords>();
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
        if (!lateSyn && (fromClient ? c.synCount === 0 || p.seq !== c.clientIsn : c.closed)) c = this.replace(c, p, true);
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
    if (p.tunnelCount > 0) c.tunnel = tunnelText(p);
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

  private sweep(now: number): void {
    for (const c of this.live.values()) {
      const idle = now - c.lastTsUsec;
      const limit = c.closed ? CLOSED_GRACE_USEC : c.synAckCount > 0 || c.rolesInferred ? ESTABLISHED_IDLE_USEC : ATTEMPT_IDLE_USEC;
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

function tupleOf(c: Conn): TupleWords {
  return { ipVersion: c.ipVersion, a0: c.a0, a1: c.a1, a2: c.a2, a3: c.a3, aPort: c.aPort, b0: c.b0, b1: c.b1, b2: c.b2, b3: c.b3, bPort: c.bPort };
}

function isFromA(c: Conn, p: TcpPacket): boolean {
  return p.srcPort === c.aPort && p.src3 === c.a3 && p.src2 === c.a2 && p.src1 === c.a1 && p.src0 === c.a0;
}

function stateAt(c: Conn): string {
  if (c.synCount === 0 && c.synAckCount === 0) return 'midstream';
  if (c.synAckCount === 0) return 'syn-sent';
  if (c.firstFinBy !== NONE) return 'closing';
  if (!c.handshakeAcked && c.synCount > 0) return 'syn-received';
  return 'established';
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
      if (fromClient) {
        if (c.synCount === 0) {
          c.clientIsn = p.seq;
          c.firstSynFrame = p.frame;
          c.firstSynTsUsec = t;
          c.synOpts = snapshotOptions(p);
          if (c.synAckCount > 0 && c.answer === 'none') {
            // The SYN-ACK was captured first: it is still the answer.
            c.answer = 'synack'; c.answerFrame = c.synAckFrame; c.answerTsUsec = c.synAckTsUsec; c.answerSeq = c.serverIsn; c.answerAck = c.synAckAck; c.answerFlags = SYN | ACK;
          }
          c.nextC = seqAdd(p.seq, 1 + p.payloadBytes);
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
        c.addEvent(p, false, 'server-syn');
      }
    } else {
      h.once('H', fromClient);
      if (fromClient) c.clientSynAckCount++; // simultaneous open or a split handshake
      else {
        if (c.synAckCount === 0) {
          c.serverIsn = p.seq;
          c.synAckAck = p.ack;
          c.synAckFrame = p.frame;
          c.synAckTsUsec = t;
          c.synAckOpts = snapshotOptions(p);
          if (c.lastSynTsUsec >= 0) c.rttSynUsec = t - c.lastSynTsUsec;
          // The server's sequence space starts here, whatever stale ACK came before.
          c.nextS = seqAdd(p.seq, 1 + p.payloadBytes);
          c.haveNextS = true;
          trackSeq = false;
          if (c.decidingRst !== NONE) { c.decidingRst = NONE; c.closedTsUsec = -1; }
          c.addEvent(p, false, 'synack');
        } else {
          c.addEvent(p, false, 'synack-rtx');
        }
        c.seenSinceSyn |= SEEN_SYNACK;
        c.synAckCount++;
      }
    }
  }

  // The first thing the server sends after a SYN is its answer.
  if (!fromClient && c.synCount > 0 && c.synAckCount <= 1) {
    if (c.answer === 'none') {
      c.answer = (f & SYN) !== 0 && (f & ACK) !== 0 ? 'synack' : (f & RST) !== 0 ? 'rst' : (f & SYN) === 0 ? 'ack' : 'none';
      if (c.answer !== 'none') {
        c.answerFrame = p.frame; c.answerTsUsec = t; c.answerSeq = p.seq; c.answerAck = p.ack; c.answerFlags = f;
      }
    }
    // After a server SYN or a client SYN-ACK the handshake is a simultaneous open or split
    // handshake (RFC 9293 §3.5), where plain ACKs are part of it, not answers from old state.
    if (c.synAckCount === 0 && c.serverSynCount === 0 && c.clientSynAckCount === 0 && (f & (SYN | RST)) === 0) {
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
    && p.ack === seqAdd(c.serverIsn, 1)) {
    c.handshakeAcked = true;
    c.rttAckUsec = t - c.synAckTsUsec;
    c.addEvent(p, true, 'handshake-ack');
  }

  if (trackSeq) {
    const have = fromClient ? c.haveNextC : c.haveNextS;
    const next = fromClient ? c.nextC : c.nextS;
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
    }
    const established = c.synAckCount > 0 || (c.synCount === 0);
    if (!established || c.decidingRst === NONE) {
      c.decidingRst = side;
      if (c.closedTsUsec < 0) c.closedTsUsec = t;
    }
  }
}
