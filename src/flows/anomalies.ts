import type { TcpPacket } from '../decode/packet.js';
import type { Conn } from './conn.js';
import { seqAdd } from './seq.js';

/**
 * The anomaly stage: per-connection things a capture shows that are not a plain TCP exchange,
 * named once here so detectors consume them instead of re-deriving them, and so a reader can
 * tell the capture's own holes (packets the capture point missed) from the network's.
 *
 * Names follow Wireshark's expert info and Zeek's weird.log where those exist; the kind list
 * below says which for each (schema.ts documents the columns).
 *
 * The tracker records an anomaly as packets arrive (record(), no allocation on the common
 * path: a connection's first occurrence of a kind pushes a few numbers, later ones only count),
 * and derived() adds those that need the whole connection (the SYN-ACK's ack of a SYN's data,
 * a capture of one direction) when the connection is written out.
 */
export type AnomalyKind =
  // Capture loss (Wireshark tcp.analysis.*; Zeek's CaptureLoss counts the same "ACK above a gap").
  | 'synack-not-captured' // the client acknowledged a SYN-ACK the capture does not hold
  | 'previous-segment-not-captured' // Wireshark tcp.analysis.lost_segment: a gap in one direction's sequence
  | 'ack-of-unseen-data' // Wireshark tcp.analysis.ack_lost_segment: an ACK beyond anything the other side was seen sending
  // Crafted or unusual SYNs.
  | 'syn-with-nonzero-ack' // Wireshark tcp.ack.nonzero on a SYN: ack field set without the ACK flag
  | 'syn-with-data' // Zeek SYN_with_data; with TFO (RFC 7413) the SYN-ACK says whether the data was taken
  | 'syn-isn-change' // Zeek SYN_seq_jump: a SYN with another ISN while an attempt on the tuple is unanswered
  // Handshakes that are not SYN, SYN-ACK, ACK.
  | 'simultaneous-open' // Zeek simultaneous_open: the responder sent a SYN without ACK (RFC 9293 §3.5)
  | 'split-handshake' // Zeek connection_originator_SYN_ack: the SYN's sender sent the SYN-ACK, the peer never did
  | 'missing-syn' // handshake seen from the SYN-ACK on (Zeek history starting with "h")
  | 'synack-resent-before-ack' // a SYN-ACK sent again before the client's ACK of it was captured
  | 'synack-resent-after-ack' // a SYN-ACK sent again after the client's ACK of it was captured
  | 'synack-isn-change' // a later SYN-ACK from another ISN than the first
  // Resets.
  | 'rst-from-syn-sender' // the SYN's sender reset before it acknowledged any SYN-ACK
  | 'rst-then-synack' // an RST answered the SYN, then a SYN-ACK for it came from the same peer
  // One direction only (Zeek possible_split_routing).
  | 'one-sided-capture';

/** Kinds by code, as Conn.an and the writer carry them. */
export const ANOMALY_KINDS: readonly AnomalyKind[] = [
  'synack-not-captured', 'previous-segment-not-captured', 'ack-of-unseen-data',
  'syn-with-nonzero-ack', 'syn-with-data', 'syn-isn-change',
  'simultaneous-open', 'split-handshake', 'missing-syn',
  'synack-resent-before-ack', 'synack-resent-after-ack', 'synack-isn-change',
  'rst-from-syn-sender', 'rst-then-synack', 'one-sided-capture',
];

export const enum An {
  SynAckNotCaptured = 0, LostSegment, AckUnseen,
  SynNonzeroAck, SynWithData, SynIsnChange,
  SimultaneousOpen, SplitHandshake, MissingSyn,
  SynAckBeforeAck, SynAckAfterAck, SynAckIsnChange,
  RstFromSynSender, RstThenSynAck, OneSided,
}

/** Kinds that show the capture point missed packets its receiver got (the evidence has holes). */
export const CAPTURE_LOSS_KINDS: readonly AnomalyKind[] = ['synack-not-captured', 'ack-of-unseen-data'];
/** Kinds that mark a SYN as crafted or spoofed rather than a host's own connect(). */
export const CRAFTED_SYN_KINDS: readonly AnomalyKind[] = ['syn-with-nonzero-ack', 'syn-isn-change'];

/**
 * Numbers per anomaly in Conn.an, in the anomalies table's column order after conn_id and
 * capture_id (schema.ts gives each kind's meaning of them): kind code, frame, ts_usec, dir
 * (1 client, 0 server, NaN none), count, seq, ack, bytes, value, ref_frame, gap_usec, detail
 * code. NaN is NULL.
 */
export const AN_FIELDS = 12;
const F_COUNT = 4;
const F_BYTES = 7;

/** The detail column: a closed vocabulary, by code (Det), so Conn.an stays numeric. */
export const ANOMALY_DETAILS: readonly string[] = [
  'after-synack', 'after-foreign-ack', 'after-nothing',
  'data-acked', 'syn-only-acked', 'no-synack', 'other-ack',
  'acceptable', 'not-acceptable',
  'after-syn-retransmit', 'server-timer',
  'client-only', 'server-only',
];
export const enum Det {
  AfterSynAck = 0, AfterForeignAck, AfterNothing,
  DataAcked, SynOnlyAcked, NoSynAck, OtherAck,
  Acceptable, NotAcceptable,
  AfterSynRtx, ServerTimer,
  ClientOnly, ServerOnly,
}

/** First occurrence of a kind on a connection: where its numbers start in c.an, or -1. */
function find(c: Conn, kind: An): number {
  const an = c.an;
  for (let i = 0; i < an.length; i += AN_FIELDS) if (an[i] === kind) return i;
  return -1;
}

/**
 * Record one packet showing `kind`: its first occurrence keeps the packet's numbers, later
 * ones add to count (and to bytes for kinds that sum them).
 */
export function record(c: Conn, frame: number, tsUsec: number, fromClient: boolean, kind: An, seq: number, ack: number, bytes: number,
  value: number, refFrame: number, gapUsec: number, detail: number, count = 1): void {
  if ((c.anSeen & (1 << kind)) !== 0) {
    const i = find(c, kind);
    c.an[i + F_COUNT]++;
    if (bytes === bytes && kind === An.LostSegment) c.an[i + F_BYTES] += bytes;
    return;
  }
  c.anSeen |= 1 << kind;
  c.an.push(kind, frame, tsUsec, fromClient ? 1 : 0, count, seq, ack, bytes, value, refFrame, gapUsec, detail);
}

/** Whether the connection has shown this kind. */
export const has = (c: Conn, kind: An): boolean => (c.anSeen & (1 << kind)) !== 0;

/** The TFO option (RFC 7413 kind 34, or the experimental kind 254 it started as) in a SYN, else 0. */
export function tfoOptionKind(p: TcpPacket): number {
  for (let i = 0; i < p.optKindCount; i++) {
    const k = p.optKinds[i];
    if (k === 34 || k === 254) return k;
  }
  return 0;
}

/**
 * Anomalies that need the whole connection, appended to a copy of c.an when it is written:
 * - syn-with-data: whether the first SYN-ACK acknowledged the SYN's data (ack = ISN + 1 +
 *   length: the server took it, RFC 7413 §4.2) or only the SYN (ack = ISN + 1: it ignored the
 *   data, which the client then sends again after the handshake; not a lost SYN);
 * - missing-syn: a SYN-ACK but no SYN from the client;
 * - one-sided-capture: packets of one direction only, of which some acknowledge the other
 *   side (an ACK without SYN): that side was alive, its packets took another path or were not
 *   captured (Zeek's possible_split_routing asks the same: acking data never seen sent). A SYN
 *   left unanswered, or a lone SYN-ACK, is not one.
 */
export function anomalyNumbers(c: Conn): number[] {
  const out = c.an.slice();
  if (c.synDataFrame !== 0) {
    const sa = c.synAckCount > 0;
    const acked = !sa ? Det.NoSynAck
      : c.synAckAck === seqAdd(c.clientIsn, 1 + c.synDataBytes) ? Det.DataAcked
        : c.synAckAck === seqAdd(c.clientIsn, 1) ? Det.SynOnlyAcked : Det.OtherAck;
    out.push(An.SynWithData, c.synDataFrame, c.synDataTsUsec, 1, 1, c.clientIsn, sa ? c.synAckAck : NaN,
      c.synDataBytes, c.synDataTfo, sa ? c.synAckFrame : NaN, sa ? c.synAckTsUsec - c.synDataTsUsec : NaN, acked);
  }
  if (c.clientSynAckFrame !== 0 && c.synAckCount === 0) {
    // The SYN's sender answered the peer's SYN with a SYN-ACK and the peer never sent one: the
    // roles of a handshake split across both ends (in a true simultaneous open both send one).
    out.push(An.SplitHandshake, c.clientSynAckFrame, c.clientSynAckTsUsec, 1, c.clientSynAckCount, NaN, NaN, NaN, NaN,
      c.serverSynFrame !== 0 ? c.serverSynFrame : NaN, NaN, NaN);
  }
  if (c.synCount === 0 && c.synAckCount > 0) {
    out.push(An.MissingSyn, c.synAckFrame, c.synAckTsUsec, 0, 1, c.serverIsn, c.synAckAck, NaN, NaN, NaN, NaN, NaN);
  }
  const packets = c.pktsC + c.pktsS;
  // A client seen alone counts only once its ACKs prove a SYN-ACK came (or it started midstream).
  if ((c.pktsS === 0 && c.ackSentC && (c.synAckUnseen || c.synCount === 0)) || (c.pktsC === 0 && c.ackSentS)) {
    out.push(An.OneSided, c.firstFrame, c.firstTsUsec, c.pktsC > 0 ? 1 : 0, packets, NaN, NaN, NaN, NaN, NaN, NaN,
      c.pktsC > 0 ? Det.ClientOnly : Det.ServerOnly);
  }
  return out;
}

