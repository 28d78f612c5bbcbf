/**
 * TCP option walk (RFC 9293 §3.2) into the packet record. Every option is
 * recorded by kind in order, NOPs included, so a consumer can tell a stripped
 * timestamp (iptables TCPOPTSTRIP overwrites the 10-byte option with 10 NOPs)
 * from one never sent.
 */
import { u16be, u32be } from './bytes.js';
import {
  MAX_OPTIONS, MAX_SACK_BLOCKS, OPT_EOL, OPT_EXP, OPT_MPTCP, OPT_MSS, OPT_NOP, OPT_SACK, OPT_SACK_PERM,
  OPT_TFO, OPT_TIMESTAMP, OPT_WSCALE, type TcpPacket,
} from './packet.js';

/** RFC 7413 §4.1.1: before kind 34, Fast Open used experimental kind 254 with this ExID (RFC 6994). */
const TFO_EXID = 0xf989;

/**
 * Walk options in b[at, end). `hdrEnd` is where the header says they end; when
 * end < hdrEnd the snaplen cut them, and an option running past `end` is cut,
 * not malformed.
 */
export function walkTcpOptions(pkt: TcpPacket, b: Uint8Array, at: number, end: number, hdrEnd: number): void {
  pkt.optBytes = end - at;
  let p = at;
  let run = 0;
  let runAt = 0;
  let n = 0;
  while (p < end) {
    const kind = b[p];
    if (n < MAX_OPTIONS) pkt.optKinds[n++] = kind;
    if (kind === OPT_NOP) {
      if (run === 0) runAt = p - at;
      run++;
      pkt.nopBytes++;
      if (run > pkt.nopRunMax) { pkt.nopRunMax = run; pkt.nopRunAt = runAt; }
      p++;
      continue;
    }
    run = 0;
    // EOL ends the list (RFC 9293 §3.2); the zero bytes after it are padding.
    // They are still walked one by one, as tshark lists each as an option kind.
    if (kind === OPT_EOL) { pkt.eol = true; p++; continue; }
    if (p + 1 >= end) {
      if (end < hdrEnd) pkt.truncated = true; else pkt.optMalformed = true;
      break;
    }
    const len = b[p + 1];
    if (len < 2) { pkt.optMalformed = true; break; }
    if (p + len > end) {
      if (p + len <= hdrEnd) pkt.truncated = true; else pkt.optMalformed = true;
      break;
    }
    switch (kind) {
      case OPT_MSS:
        if (len === 4) pkt.mss = u16be(b, p + 2);
        break;
      case OPT_WSCALE:
        if (len === 3) pkt.wscale = b[p + 2];
        break;
      case OPT_SACK_PERM:
        pkt.sackPerm = true;
        break;
      case OPT_SACK: {
        // RFC 2018 §3: n blocks of two 32-bit edges; at most 4 fit in 40 bytes.
        let k = 0;
        for (let q = p + 2; q + 8 <= p + len && k < MAX_SACK_BLOCKS; q += 8, k++) {
          pkt.sackEdges[2 * k] = u32be(b, q);
          pkt.sackEdges[2 * k + 1] = u32be(b, q + 4);
        }
        pkt.sackBlockCount = k;
        break;
      }
      case OPT_TIMESTAMP:
        // RFC 7323 §3.2: unsigned 32-bit values (zeek-tcp-options.pcap has 4294923497).
        if (len === 10) { pkt.hasTimestamp = true; pkt.tsVal = u32be(b, p + 2); pkt.tsEcr = u32be(b, p + 6); }
        break;
      case OPT_TFO:
        pkt.hasTfo = true;
        pkt.tfoCookieBytes = len - 2;
        break;
      case OPT_EXP:
        if (len >= 4 && u16be(b, p + 2) === TFO_EXID) { pkt.hasTfo = true; pkt.tfoCookieBytes = len - 4; }
        break;
      case OPT_MPTCP:
        // RFC 8684 §3: subtype is the high nibble of the third byte.
        if (len >= 3) { pkt.hasMptcp = true; pkt.mptcpSubtype = b[p + 2] >> 4; }
        break;
      default:
        break;
    }
    p += len;
  }
  pkt.optKindCount = n;
}
