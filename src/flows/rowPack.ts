import { EV_FIELDS, type Conn, type SynOptions } from './conn.js';
import { AN_FIELDS, anomalyNumbers } from './anomalies.js';
import { CLIENT, connState, NONE, SERVER, type Side } from './history.js';

/**
 * Connection and event rows packed for the writer thread: numbers into a Float64Array
 * (NaN for NULL: every numeric column holds integers, so NaN is free), strings into a
 * plain array. A batch then crosses to the worker as one transferred buffer and one
 * small array, and building it allocates no per-row arrays.
 *
 * Both sides walk the connections columns in schema order: a TEXT column (PRAGMA
 * table_info) takes the next string, any other column the next number. schema.ts stays
 * the single definition of the layout.
 */

/** Numeric and TEXT columns of the connections table (schema.ts). */
export const CONN_NUMS = 90;
export const CONN_STRS = 12;

/** Events columns, all numbers: dir and kind as codes (DIRS, EVENT_KINDS). */
export const EVENT_NUMS = 14;
export const DIRS = ['s2c', 'c2s'];
/** Anomalies columns, all numbers: kind (2), dir (5) and detail (13) as codes (anomalies.ts). */
export const ANOMALY_NUMS = 2 + AN_FIELDS;

const sideName = (s: Side): string | null => (s === CLIENT ? 'client' : s === SERVER ? 'server' : null);
/** -1 (absent) to NULL. */
const neg = (n: number): number => (n < 0 ? NaN : n);
/** 0 (no frame) to NULL. */
const zero = (n: number): number => (n === 0 ? NaN : n);

/**
 * Write one connection row at nums[n..n+CONN_NUMS) and strs[s..s+CONN_STRS), in the
 * column order of the connections table. Meaning of each value: schema.ts.
 */
export function packConn(c: Conn, nums: Float64Array, n: number, strs: (string | null)[], s: number): void {
  const syn = c.synOpts;
  const sa = c.synAckOpts;
  const prev = c.prev;
  nums[n++] = c.id; nums[n++] = c.captureId; nums[n++] = c.ipVersion;
  strs[s++] = c.clientAddr; nums[n++] = c.aPort; strs[s++] = c.serverAddr; nums[n++] = c.bPort;
  nums[n++] = c.rolesInferred ? 1 : 0; nums[n++] = c.incarnation;
  if (prev !== null) {
    nums[n++] = prev.id; nums[n++] = c.firstTsUsec - prev.closedTsUsec; strs[s++] = sideName(prev.activeCloser);
    nums[n++] = prev.clientNext; nums[n++] = prev.serverNext;
  } else {
    nums[n++] = NaN; nums[n++] = NaN; strs[s++] = null; nums[n++] = NaN; nums[n++] = NaN;
  }
  nums[n++] = c.firstTsUsec; nums[n++] = c.lastTsUsec; nums[n++] = c.firstFrame;
  strs[s++] = connState({
    sawSyn: c.synCount > 0, sawSynAck: c.synAckCount > 0 || c.handshakeAcked, sawClientAfterSynAck: c.sawClientAfterSynAck,
    sawServerPkt: c.sawServerPkt, clientFin: c.finFrameC > 0, serverFin: c.finFrameS > 0, decidingRst: c.decidingRst,
  });
  strs[s++] = c.history.text;
  nums[n++] = neg(c.clientIsn); nums[n++] = neg(c.serverIsn);
  nums[n++] = c.synCount; nums[n++] = zero(c.firstSynFrame); nums[n++] = neg(c.firstSynTsUsec); nums[n++] = neg(c.lastSynTsUsec);
  nums[n++] = c.synAckCount; nums[n++] = zero(c.synAckFrame); nums[n++] = neg(c.synAckTsUsec); nums[n++] = c.serverSynCount;
  strs[s++] = c.answer;
  nums[n++] = zero(c.answerFrame); nums[n++] = neg(c.answerTsUsec); nums[n++] = neg(c.answerSeq); nums[n++] = neg(c.answerAck);
  nums[n++] = c.answer === 'none' ? NaN : c.answerFlags;
  nums[n++] = neg(c.rttSynUsec); nums[n++] = neg(c.rttAckUsec);
  const taken = c.connectedTsUsec;
  nums[n++] = c.firstSynTsUsec >= 0 && taken >= 0 ? taken - c.firstSynTsUsec : NaN;
  nums[n++] = c.handshakeAcked ? 1 : 0;
  n = packOpts(syn, nums, n, strs, s++);
  n = packOpts(sa, nums, n, strs, s++);
  nums[n++] = c.tsLaterC ? 1 : 0; nums[n++] = c.tsLaterS ? 1 : 0;
  nums[n++] = c.pktsC; nums[n++] = c.bytesC; nums[n++] = c.payloadC; nums[n++] = c.pktsS; nums[n++] = c.bytesS; nums[n++] = c.payloadS;
  nums[n++] = c.retransC; nums[n++] = c.retransS;
  nums[n++] = neg(c.lastTsValC); nums[n++] = neg(c.lastTsValS);
  nums[n++] = c.haveNextC ? c.nextC : NaN; nums[n++] = c.haveNextS ? c.nextS : NaN;
  strs[s++] = sideName(c.firstFinBy);
  nums[n++] = zero(c.finFrameC); nums[n++] = neg(c.finTsUsecC); nums[n++] = zero(c.finFrameS); nums[n++] = neg(c.finTsUsecS);
  strs[s++] = sideName(c.firstRstBy); nums[n++] = zero(c.firstRstFrame); nums[n++] = neg(c.firstRstTsUsec);
  strs[s++] = c.firstRstBy === NONE ? null : c.firstRstState;
  nums[n++] = c.rstCountC; nums[n++] = c.rstCountS;
  nums[n++] = neg(c.closedTsUsec); nums[n++] = c.eventsDropped;
  nums[n++] = syn ? syn.ttl : NaN; nums[n++] = syn ? neg(syn.ipId) : NaN; nums[n++] = sa ? sa.ttl : NaN;
  nums[n++] = c.rtxAfterAck; nums[n++] = c.rtxAfterSynAck; nums[n++] = c.rtxUnanswered;
  const fa = c.foreignAckFrame !== 0;
  nums[n++] = c.foreignAckCount; nums[n++] = zero(c.foreignAckFrame);
  nums[n++] = fa ? c.foreignAckTsUsec : NaN; nums[n++] = fa ? c.foreignAckSeq : NaN; nums[n++] = fa ? c.foreignAckAck : NaN;
  nums[n++] = fa ? (c.foreignAckTs ? 1 : 0) : NaN; nums[n++] = zero(c.foreignAckSynFrame);
  nums[n++] = zero(c.foreignRstFrame); nums[n++] = c.foreignRstFrame !== 0 ? c.foreignRstSeq : NaN;
  nums[n++] = zero(c.foreignRetryFrame); nums[n++] = c.foreignRetryFrame !== 0 ? c.foreignRetryTsUsec : NaN;
  // Its own attempt until attempts.ts links it to an earlier row.
  nums[n++] = c.synCount > 0 ? c.id : NaN;
  strs[s++] = c.tunnel;
  nums[n++] = c.tunnelVxlanPort ?? NaN;
}

/** The eight syn_* or synack_* columns (seven numbers, then the kinds string); returns the next n. */
function packOpts(o: SynOptions | null, nums: Float64Array, n: number, strs: (string | null)[], s: number): number {
  if (o === null) {
    for (let i = 0; i < 7; i++) nums[n++] = NaN;
    strs[s] = null;
    return n;
  }
  nums[n++] = o.mss; nums[n++] = o.wscale; nums[n++] = o.sackPerm ? 1 : 0; nums[n++] = o.ts ? 1 : 0;
  nums[n++] = o.ts ? o.tsVal : NaN; nums[n++] = o.ts ? o.tsEcr : NaN; nums[n++] = o.nopRun;
  strs[s] = o.kinds;
  return n;
}

/**
 * Write a connection's events as rows at nums[n..): the connection and capture ids, then its
 * EV_FIELDS numbers per event (already in the events table's column order). Returns the next n.
 */
export function packEvents(c: Conn, nums: Float64Array, n: number): number {
  const ev = c.ev;
  for (let i = 0; i < ev.length; i += EV_FIELDS) {
    nums[n++] = c.id; nums[n++] = c.captureId;
    for (let j = 0; j < EV_FIELDS; j++) nums[n++] = ev[i + j];
  }
  return n;
}

/** A connection's anomaly numbers (anomalies.ts), computed once per write. */
export function connAnomalies(c: Conn): number[] {
  return anomalyNumbers(c);
}

/** Write anomaly rows (the connection and capture ids, then AN_FIELDS numbers each) at nums[n..); returns the next n. */
export function packAnomalies(c: Conn, an: number[], nums: Float64Array, n: number): number {
  for (let i = 0; i < an.length; i += AN_FIELDS) {
    nums[n++] = c.id; nums[n++] = c.captureId;
    for (let j = 0; j < AN_FIELDS; j++) nums[n++] = an[i + j];
  }
  return n;
}
