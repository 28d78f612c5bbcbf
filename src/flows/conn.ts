import type { TcpPacket } from '../decode/packet.js';
import { History, NONE, type Side } from './history.js';
import type { TupleWords } from './tupleMap.js';

/** Options of a SYN or SYN-ACK, as the store keeps them. */
export interface SynOptions {
  mss: number; // -1 absent
  wscale: number; // -1 absent
  sackPerm: boolean;
  ts: boolean;
  tsVal: number;
  tsEcr: number;
  nopRun: number; // longest run of NOP bytes
  kinds: string; // option kinds in order, e.g. "2,4,8,1,3"
  ttl: number; // IP TTL or IPv6 hop limit of the packet
  ipId: number; // IPv4 identification; -1 for IPv6
}

/**
 * Option-kind strings by layout: most SYNs of a capture share a handful of layouts, so each
 * string is built once. The key packs up to 6 kinds a byte each (exact in a double).
 */
const kindStrings = new Map<number, string>();

function kindsOf(p: TcpPacket): string {
  const n = p.optKindCount;
  let key = n;
  if (n <= 6) for (let i = 0; i < n; i++) key = key * 256 + p.optKinds[i];
  const known = n <= 6 ? kindStrings.get(key) : undefined;
  if (known !== undefined) return known;
  let kinds = '';
  for (let i = 0; i < n; i++) kinds += i === 0 ? `${p.optKinds[i]}` : `,${p.optKinds[i]}`;
  if (n <= 6 && kindStrings.size < 4096) kindStrings.set(key, kinds);
  return kinds;
}

export function snapshotOptions(p: TcpPacket): SynOptions {
  const kinds = kindsOf(p);
  return {
    mss: p.mss, wscale: p.wscale, sackPerm: p.sackPerm, ts: p.hasTimestamp,
    tsVal: p.tsVal, tsEcr: p.tsEcr, nopRun: p.nopRunMax, kinds,
    ttl: p.ipTtl, ipId: p.ipVersion === 4 ? p.ipId : -1,
  };
}

/** A key packet kept in the events table so reports can point at frames. */
export type EventKind =
  | 'syn' | 'syn-rtx' | 'synack' | 'synack-rtx' | 'server-syn'
  | 'answer-ack' // a server packet without SYN answering the SYN (stale or challenge ACK)
  | 'handshake-ack' | 'fin' | 'rst';

/** Event kinds by code, as Conn.ev and the writer carry them. */
export const EVENT_KINDS: readonly EventKind[] = [
  'syn', 'syn-rtx', 'synack', 'synack-rtx', 'server-syn', 'answer-ack', 'handshake-ack', 'fin', 'rst',
];
const KIND_CODE = new Map(EVENT_KINDS.map((k, i) => [k, i]));

/**
 * Numbers per event in Conn.ev: frame, time, from client (1/0), kind code, seq, ack, flags,
 * timestamp option (1/0), TSval, TSecr (NaN without the option), NOP run, window.
 */
export const EV_FIELDS = 12;

/** What a connection saw since the client's last SYN (seenSinceSyn). */
export const SEEN_ANSWER_ACK = 1;
export const SEEN_SYNACK = 2;

/** At most this many events per connection; the rest are counted, not kept. */
export const MAX_EVENTS = 48;

/** Summary of a flushed incarnation, kept briefly to link the next one on the same tuple. */
export interface Tomb {
  id: number;
  incarnation: number;
  closedTsUsec: number; // when it closed (second FIN or deciding RST), or its last packet
  lastTsUsec: number;
  clientNext: number; // client's next sequence number after its last byte and FIN
  serverNext: number;
  activeCloser: Side;
  clientIsn: number;
  clientPort: number; // the side that was client, to tell a role swap
  clientWord3: number;
  hadTs: boolean;
}

/**
 * One connection incarnation while it is tracked. Per-direction figures are pairs of scalar
 * fields (…C client, …S server) and key packets one flat number array, so a connection is a
 * few allocations, not dozens: at 100 000 connections the garbage collector's share of ingest
 * was most of a second with per-direction arrays and an object per event.
 */
export class Conn implements TupleWords {
  readonly history = new History();
  /** Key packets, EV_FIELDS numbers each (at most MAX_EVENTS). */
  ev: number[] = [];
  eventsDropped = 0;
  /** Anomalies (anomalies.ts), AN_FIELDS numbers each, one entry per kind; anSeen has a bit per kind. */
  an: number[] = [];
  anSeen = 0;

  // Tuple: a = client, b = server.
  ipVersion: 4 | 6 = 4;
  a0 = 0; a1 = 0; a2 = 0; a3 = 0; aPort = 0;
  b0 = 0; b1 = 0; b2 = 0; b3 = 0; bPort = 0;
  clientAddr = '';
  serverAddr = '';
  rolesInferred = false;

  incarnation = 0;
  prev: Tomb | null = null;

  firstTsUsec = 0;
  lastTsUsec = 0;
  firstFrame = 0;

  // Handshake
  clientIsn = -1;
  serverIsn = -1;
  synCount = 0;
  firstSynFrame = 0;
  firstSynTsUsec = -1;
  lastSynTsUsec = -1;
  synOpts: SynOptions | null = null;
  synAckCount = 0;
  synAckFrame = 0;
  synAckTsUsec = -1;
  synAckOpts: SynOptions | null = null;
  rttSynUsec = -1; // the client's last SYN before the SYN-ACK it took -> that SYN-ACK
  // The SYN-ACK the client took: the first one after its last SYN before its handshake ACK. A
  // client that sends its SYN again after a SYN-ACK passed this point had not taken that one
  // (tcp_rcv_synsent_state_process moves it to ESTABLISHED on the first acceptable SYN-ACK).
  takenSynAckTsUsec = -1;
  /** The SYN-ACK the client took, else the first one (a SYN-ACK captured before its SYN: the capture reordered them); -1 for none. */
  get connectSynAckTsUsec(): number { return this.takenSynAckTsUsec >= 0 ? this.takenSynAckTsUsec : this.synAckTsUsec; }
  /**
   * When the client became ESTABLISHED at this capture point: the SYN-ACK it took; in a split
   * handshake or simultaneous open that completed (splitDone), the server's first ACK of its SYN
   * after the server's own SYN (splitServerAckTsUsec: the server's SYN-ACK in a simultaneous
   * open, a bare ACK in a split handshake); -1 when neither is known.
   */
  get connectedTsUsec(): number {
    return this.splitDone ? this.splitServerAckTsUsec : this.connectSynAckTsUsec;
  }
  rttAckUsec = -1; // the SYN-ACK the client took -> its ACK of it
  answer: 'synack' | 'rst' | 'ack' | 'syn' | 'none' = 'none';
  answerFrame = 0;
  answerTsUsec = -1;
  answerSeq = -1;
  answerAck = -1;
  answerFlags = 0;
  serverSynCount = 0; // SYN without ACK from the server side (simultaneous open, split handshake)
  clientSynAckCount = 0; // SYN+ACK from the client side (same)
  serverSynIsn = -1; // the server's first SYN without ACK: its ISN
  // A split handshake or simultaneous open (RFC 9293 §3.5) completes when each side's SYN is
  // acknowledged: the client's ack of serverSynIsn + 1 (in its SYN-ACK or an ACK), and the
  // server's ack of clientIsn + 1 after its own SYN. An ACK without SYN that comes before the
  // server's SYN does not count: the client, still in SYN-SENT, drops it (RFC 9293 §3.10.7.3,
  // "fifth, if neither of the SYN or RST bits is set"; Linux tcp_rcv_synsent_state_process).
  splitClientAckFrame = 0;
  splitServerAckFrame = 0;
  /** The server's first ACK of the client's SYN after its own SYN: it moves the client from SYN-RECEIVED to ESTABLISHED (RFC 9293 §3.10.7.4). */
  splitServerAckTsUsec = -1;
  /** Both SYNs of a split handshake or simultaneous open were acknowledged (splitAck in tracker.ts). */
  splitDone = false;
  synAckAck = -1; // ack field of the first SYN-ACK
  /** The client acknowledged the SYN-ACK; in a split handshake or simultaneous open, both SYNs were acknowledged (split* fields). */
  handshakeAcked = false;

  // SYN retransmits by what the capture saw since the client's previous SYN.
  lastSynFrame = 0;
  seenSinceSyn = 0; // SEEN_* bits
  rtxAfterAck = 0;
  rtxAfterSynAck = 0;
  rtxUnanswered = 0;

  // The first answer to the SYN that is an ACK without SYN for another sequence space (its ack
  // is not SYN.seq + 1), and what the client did after it.
  foreignAckCount = 0;
  foreignAckFrame = 0;
  foreignAckTsUsec = -1;
  foreignAckSeq = -1;
  foreignAckAck = -1;
  foreignAckTs = false;
  foreignAckSynFrame = 0; // the client SYN it answered (the last before it)
  foreignRstFrame = 0; // the client's first RST after it
  foreignRstSeq = -1;
  foreignRetryFrame = 0; // the client's first SYN retransmit after it
  foreignRetryTsUsec = -1;

  // Per direction: C from the client, S from the server.
  pktsC = 0; pktsS = 0;
  bytesC = 0; bytesS = 0;
  payloadC = 0; payloadS = 0;
  retransC = 0; retransS = 0;
  nextC = 0; nextS = 0; // next expected sequence number (highest seq end seen)
  // Highest seq end seen without a gap before it, per direction (Wireshark's maxseqtobeacked):
  // an ACK beyond it acknowledges data the capture missed.
  contigC = 0; contigS = 0;
  // The open hole after contig, per direction: where the segment after it started (-1 none). A
  // segment that covers [contig, holeEnd] fills it (a reordered one, as GRO at the capture
  // point delivers them), and the data up to next counts as seen again.
  holeEndC = -1; holeEndS = -1;
  haveNextC = false; haveNextS = false;
  tsLaterC = false; tsLaterS = false; // timestamps on non-SYN segments
  lastTsValC = -1; lastTsValS = -1; // TSval of the last segment with timestamps
  finFrameC = 0; finFrameS = 0;
  finTsUsecC = -1; finTsUsecS = -1;
  rstCountC = 0; rstCountS = 0;

  firstFinBy: Side = NONE;
  firstRstBy: Side = NONE;
  firstRstFrame = 0;
  firstRstTsUsec = -1;
  firstRstState = '';
  decidingRst: Side = NONE;
  closedTsUsec = -1; // second FIN or deciding RST
  sawServerPkt = false;
  sawClientAfterSynAck = false;
  ackSentC = false; ackSentS = false; // an ACK without SYN from that side (one-sided-capture)

  // Anomaly-stage state (anomalies.ts).
  synDataFrame = 0; // the first client SYN's payload, when it carried any (TFO, RFC 7413)
  synDataTsUsec = -1;
  synDataBytes = 0;
  synDataTfo = 0; // TFO option kind in that SYN (34, 254) or 0
  synAckUnseen = false; // the client acknowledged a SYN-ACK this capture does not hold
  lastSynAckTsUsec = -1;
  synAckOtherIsn = 0; // SYN-ACKs with another ISN than the first (not retransmits of it)
  serverIsnLatest = -1; // the ISN of the latest of those
  /** Distinct client ISNs on this tuple in a run of unanswered attempts (syn-isn-change). */
  isnRun = 1;
  handshakeAckFrame = 0;
  handshakeAckTsUsec = -1;
  firstRstAck = -1;
  firstRstFlags = 0;
  serverSynFrame = 0;
  clientSynAckFrame = 0;
  clientSynAckTsUsec = -1;
  /** The encapsulation of the first packet (tunnelText), null when it came plain. */
  tunnel: string | null = null;
  /** The UDP port of the first packet's VXLAN (tunnelVxlanPort), null without VXLAN. */
  tunnelVxlanPort: number | null = null;

  constructor(readonly id: number, readonly captureId: number) {}

  get closed(): boolean {
    return this.closedTsUsec >= 0;
  }

  get eventCount(): number {
    return this.ev.length / EV_FIELDS;
  }

  /** Event kinds in order (for tests and debugging). */
  eventKinds(): EventKind[] {
    const out: EventKind[] = [];
    for (let i = 3; i < this.ev.length; i += EV_FIELDS) out.push(EVENT_KINDS[this.ev[i]]);
    return out;
  }

  addEvent(p: TcpPacket, fromClient: boolean, kind: EventKind): void {
    if (this.ev.length >= MAX_EVENTS * EV_FIELDS) { this.eventsDropped++; return; }
    const ts = p.hasTimestamp;
    this.ev.push(p.frame, p.tsUsec, fromClient ? 1 : 0, KIND_CODE.get(kind)!, p.seq, p.ack, p.flags,
      ts ? 1 : 0, ts ? p.tsVal : NaN, ts ? p.tsEcr : NaN, p.nopRunMax, p.window);
  }

  toTomb(): Tomb {
    return {
      id: this.id,
      incarnation: this.incarnation,
      closedTsUsec: this.closedTsUsec >= 0 ? this.closedTsUsec : this.lastTsUsec,
      lastTsUsec: this.lastTsUsec,
      clientNext: this.nextC, serverNext: this.nextS,
      activeCloser: this.firstFinBy,
      clientIsn: this.clientIsn,
      clientPort: this.aPort, clientWord3: this.a3,
      hadTs: this.synOpts?.ts === true && this.synAckOpts?.ts === true,
    };
  }
}
