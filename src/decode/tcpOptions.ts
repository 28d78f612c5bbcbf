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
import { u16be, u32be } from './bytes.js';
import {
  MAX_OPTIONS, MAX_SACK_BLOCKS, OPT_EOL, OPT_EXP, OPT_MPTCP, OPT_MSS, OPT_NOP, OPT_SACK, OPT_SACK_PERM,
  OPT_TFO, OPT_TIMESTAMP, OPT_WSCALE, type TcpPacket,
} from './packet.js';

/** RFC 7413 §4.1.1: before kind 34, Fast Open used experimental kind 254 with this ExID (RFC 6994). */
const TFO_EXID = 0xf989;

/** NOP, NOP, kind 8, length 10: what Linux puts first on every segment once timestamps are on. */
const NOP_NOP_TS = 0x0101080a;

/** The option fields of a header without options. */
export function noTcpOptions(pkt: TcpPacket): void {
  pkt.clearOptions();
}

/**
 * Walk options in b[at, end) and set every option field of `pkt` (the
 * previous packet's values need not be cleared). `hdrEnd` is where the header
 * says they end; when end < hdrEnd the snaplen cut them, and an option running
 * past `end` is cut, not malformed. Sets `pkt.truncated` (never clears it).
 */
export function walkTcpOptions(pkt: TcpPacket, b: Uint8Array, at: number, end: number, hdrEnd: number): void {
  const kinds = pkt.optKinds;
  let p = at;
  let n = 0;
  let run = 0;
  let runAt = 0;
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
  if (end - at >= 12 && u32be(b, at) === NOP_NOP_TS) {
    kinds[0] = OPT_NOP; kinds[1] = OPT_NOP; kinds[2] = OPT_TIMESTAMP; n = 3;
    nopBytes = 2; nopRunMax = 2; nopRunAt = 0;
    hasTs = true; tsVal = u32be(b, at + 4); tsEcr = u32be(b, at + 8);
    p = at + 12;
    // ...then NOP,NOP,SACK when the receiver has holes (RFC 2018 §3), if it fits whole.
    if (end - p >= 12 && b[p] === OPT_NOP && b[p + 1] === OPT_NOP && b[p + 2] === OPT_SACK) {
      const len = b[p + 3];
      if (len >= 10 && p + 2 + len <= end) {
        kinds[3] = OPT_NOP; kinds[4] = OPT_NOP; kinds[5] = OPT_SACK; n = 6;
        nopBytes = 4; // a second run of 2: nopRunMax and nopRunAt stay with the first
        const edges = pkt.sackEdges;
        let k = 0;
        for (let q = p + 4; q + 8 <= p + 2 + len && k < MAX_SACK_BLOCKS; q += 8, k++) {
          edges[2 * k] = u32be(b, q);
          edges[2 * k + 1] = u32be(b, q + 4);
        }
        sackBlocks = k;
        p += 2 + len;
      }
    }
  }
  while (p < end) {
    const kind = b[p];
    // At most 40 option bytes fit a header, so only a caller's oversized range reaches the limit.
    if (n < MAX_OPTIONS) kinds[n++] = kind;
    if (kind === OPT_NOP) {
      if (run === 0) runAt = p - at;
      run++;
      nopBytes++;
      if (run > nopRunMax) { nopRunMax = run; nopRunAt = runAt; }
      p++;
      continue;
    }
    run = 0;
    // EOL ends the list (RFC 9293 §3.2); the zero bytes after it are padding.
    // They are still walked one by one, as tshark lists each as an option kind.
    if (kind === OPT_EOL) { eol = true; p++; continue; }
    if (p + 1 >= end) {
      if (end < hdrEnd) truncated = true; else malformed = true;
      break;
    }
    const len = b[p + 1];
    if (len < 2) { malformed = true; break; }
    if (p + len > end) {
      if (p + len <= hdrEnd) truncated = true; else malformed = true;
      break;
    }
    switch (kind) {
      case OPT_MSS:
        if (len === 4) mss = u16be(b, p + 2);
        break;
      case OPT_WSCALE:
        if (len === 3) wscale = b[p + 2];
        break;
      case OPT_SACK_PERM:
        sackPerm = true;
        break;
      case OPT_SACK: {
        // RFC 2018 §3: n blocks of two 32-bit edges; at most 4 fit in 40 bytes.
        const edges = pkt.sackEdges;
        let k = 0;
        for (let q = p + 2; q + 8 <= p + len && k < MAX_SACK_BLOCKS; q += 8, k++) {
          edges[2 * k] = u32be(b, q);
          edges[2 * k + 1] = u32be(b, q + 4);
        }
        sackBlocks = k;
        break;
      }
      case OPT_TIMESTAMP:
        // RFC 7323 §3.2: unsigned 32-bit values (zeek-tcp-options.pcap has 4294923497).
        if (len === 10) { hasTs = true; tsVal = u32be(b, p + 2); tsEcr = u32be(b, p + 6); }
        break;
      case OPT_TFO:
        hasTfo = true;
        tfoBytes = len - 2;
        break;
      case OPT_EXP:
        if (len >= 4 && u16be(b, p + 2) === TFO_EXID) { hasTfo = true; tfoBytes = len - 4; }
        break;
      case OPT_MPTCP:
        // RFC 8684 §3: subtype is the high nibble of the third byte.
        if (len >= 3) { hasMptcp = true; mptcpSubtype = b[p + 2] >> 4; }
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
