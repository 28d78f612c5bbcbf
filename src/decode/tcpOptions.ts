/**
 * TCP option walk (RFC 9293 §3.2) into the packet record. Every option is
 * recorded by kind in order, NOPs included, so a consumer can tell a stripped
 * timestamp (iptables TCPOPTSTRIP overwrites the 10-byte option with 10 NOPs)
 * from one never sent.
 *
 * Speed (bench/decode.mjs): this walk was the largest self time of a
 * count-only decode. The walk keeps its results in locals and writes every
 * option field of the record once at the end, so the decoder need not reset
 * them first; the Linux data-segment layout NOP,NOP,TS (RFC 7323 Appendix A)
 * is matched with one 32-bit compare, and NOP,NOP,SACK after it with three;
 * the generic loop goes on from there.
 */
import { TcpOpt, TcpOptLimit, type TcpPacket } from './packet.js';

/** RFC 7413 §4.1.1: before kind 34, Fast Open used experimental kind 254 with this ExID (RFC 6994). */
const TFO_EXID = 0xf989;

/** NOP, NOP, kind 8, length 10: what Linux puts first on every segment once timestamps are on. */
const NOP_NOP_TS = 0x0101080a;

/** The option fields of a header without options. */
export function noTcpOptions(pkt: TcpPacket): void {
  pkt.clearOptions();
}

/**
 * Walk options in v[at, end) and set every option field of `pkt` (the
 * previous packet's values need not be cleared). `hdrEnd` is where the header
 * says they end; when end < hdrEnd the snaplen cut them, and an option running
 * past `end` is cut, not malformed. Sets `pkt.truncated` (never clears it).
 */
export function walkTcpOptions(pkt: TcpPacket, v: DataView, at: number, end: number, hdrEnd: number): void {
  const kinds = pkt.optKinds;
  let p = at;
  let n = 0;
  let nopBytes = 0;
  let nopRunMax = 0;
  let nopRunAt = -1;
  let mss = -1;
  let wscale = -1;
  let sackPerm = false;
  let hasTs = false;
  let tsVal = 0;
  let tsEcr = 0;
  let sackBlocks = 0;
  let hasTfo = false;
  let tfoBytes = 0;
  let hasMptcp = false;
  let mptcpSubtype = -1;
  let eol = false;
  let malformed = false;
  let truncated = false;
  // Fast path: exactly what the loop below does for these 12 bytes.
  if (end - at >= 12 && v.getUint32(at) === NOP_NOP_TS) {
    kinds[0] = TcpOpt.NOP; kinds[1] = TcpOpt.NOP; kinds[2] = TcpOpt.TIMESTAMP; n = 3;
    nopBytes = 2; nopRunMax = 2; nopRunAt = 0;
    hasTs = true; tsVal = v.getUint32(at + 4); tsEcr = v.getUint32(at + 8);
    p = at + 12;
    // ...then NOP,NOP,SACK when the receiver has holes (RFC 2018 §3), if it fits whole.
    if (end - p >= 12 && v.getUint8(p) === TcpOpt.NOP && v.getUint8(p + 1) === TcpOpt.NOP && v.getUint8(p + 2) === TcpOpt.SACK) {
      const len = v.getUint8(p + 3);
      if (len >= 10 && p + 2 + len <= end) {
        kinds[3] = TcpOpt.NOP; kinds[4] = TcpOpt.NOP; kinds[5] = TcpOpt.SACK; n = 6;
        nopBytes = 4; // a second run of 2: nopRunMax and nopRunAt stay with the first
        const edges = pkt.sackEdges;
        let k = 0;
        for (let q = p + 4; q + 8 <= p + 2 + len && k < TcpOptLimit.SACK_BLOCKS; q += 8, k++) {
          edges[2 * k] = v.getUint32(q);
          edges[2 * k + 1] = v.getUint32(q + 4);
        }
        sackBlocks = k;
        p += 2 + len;
      }
    }
  }
  while (p < end) {
    const kind = v.getUint8(p);
    if (kind === TcpOpt.NOP) {
      // A whole run in one tight loop: a timestamp option a gateway blanked
      // leaves 10-12 NOPs on every segment, and was the walk's costliest case.
      const runAt = p;
      do {
        // At most 40 option bytes fit a header, so only a caller's oversized range reaches the limit.
        if (n < TcpOptLimit.KINDS) kinds[n++] = TcpOpt.NOP;
        p++;
      } while (p < end && v.getUint8(p) === TcpOpt.NOP);
      const run = p - runAt;
      nopBytes += run;
      if (run > nopRunMax) { nopRunMax = run; nopRunAt = runAt - at; }
      continue;
    }
    if (n < TcpOptLimit.KINDS) kinds[n++] = kind;
    // EOL ends the list (RFC 9293 §3.2); the zero bytes after it are padding.
    // They are still walked one by one, as tshark lists each as an option kind.
    if (kind === TcpOpt.EOL) { eol = true; p++; continue; }
    if (p + 1 >= end) {
      if (end < hdrEnd) truncated = true; else malformed = true;
      break;
    }
    const len = v.getUint8(p + 1);
    if (len < 2) { malformed = true; break; }
    if (p + len > end) {
      if (p + len <= hdrEnd) truncated = true; else malformed = true;
      break;
    }
    switch (kind) {
      case TcpOpt.MSS:
        if (len === 4) mss = v.getUint16(p + 2);
        break;
      case TcpOpt.WSCALE:
        if (len === 3) wscale = v.getUint8(p + 2);
        break;
      case TcpOpt.SACK_PERM:
        sackPerm = true;
        break;
      case TcpOpt.SACK: {
        // RFC 2018 §3: n blocks of two 32-bit edges; at most 4 fit in 40 bytes.
        const edges = pkt.sackEdges;
        let k = 0;
        for (let q = p + 2; q + 8 <= p + len && k < TcpOptLimit.SACK_BLOCKS; q += 8, k++) {
          edges[2 * k] = v.getUint32(q);
          edges[2 * k + 1] = v.getUint32(q + 4);
        }
        sackBlocks = k;
        break;
      }
      case TcpOpt.TIMESTAMP:
        // RFC 7323 §3.2: unsigned 32-bit values (zeek-tcp-options.pcap has 4294923497).
        if (len === 10) { hasTs = true; tsVal = v.getUint32(p + 2); tsEcr = v.getUint32(p + 6); }
        break;
      case TcpOpt.TFO:
        hasTfo = true;
        tfoBytes = len - 2;
        break;
      case TcpOpt.EXP:
        if (len >= 4 && v.getUint16(p + 2) === TFO_EXID) { hasTfo = true; tfoBytes = len - 4; }
        break;
      case TcpOpt.MPTCP:
        // RFC 8684 §3: subtype is the high nibble of the third byte.
        if (len >= 3) { hasMptcp = true; mptcpSubtype = v.getUint8(p + 2) >> 4; }
        break;
      default:
        break;
    }
    p += len;
  }
  pkt.optBytes = end - at;
  pkt.optKindCount = n;
  pkt.mss = mss; pkt.wscale = wscale; pkt.sackPerm = sackPerm;
  pkt.hasTimestamp = hasTs; pkt.tsVal = tsVal; pkt.tsEcr = tsEcr;
  pkt.sackBlockCount = sackBlocks;
  pkt.hasTfo = hasTfo; pkt.tfoCookieBytes = tfoBytes;
  pkt.hasMptcp = hasMptcp; pkt.mptcpSubtype = mptcpSubtype;
  pkt.nopBytes = nopBytes; pkt.nopRunMax = nopRunMax; pkt.nopRunAt = nopRunAt;
  pkt.eol = eol; pkt.optMalformed = malformed;
  if (truncated) pkt.truncated = true;
}
