/**
 * IPv6 header (RFC 8200 §3) and the extension headers that may sit before TCP
 * (RFC 8200 §4: hop-by-hop, routing, fragment, destination options; RFC 4302 AH).
 * Returns the TCP header offset or -1 - reason; sets `out.l4End`.
 */
import { u16be, u32be } from './bytes.js';
import type { L4Out } from './ipv4.js';
import type { TcpPacket } from './packet.js';
import { R_IPV6_FRAGMENT, R_MALFORMED_IP, R_NON_TCP, R_TRUNCATED_IP } from './reasons.js';

const NH_HOPOPT = 0;
const NH_TCP = 6;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_AH = 51;
const NH_DSTOPTS = 60;
/** RFC 2675 §2 Jumbo Payload option type. */
const OPT_JUMBO = 0xc2;

/** Jumbo Payload length from a hop-by-hop header's options, or -1. */
export function jumboLength(b: Uint8Array, at: number, end: number): number {
  let p = at + 2;
  while (p < end) {
    const t = b[p];
    if (t === 0) { p++; continue; } // Pad1
    if (p + 2 > end) return -1;
    const len = b[p + 1];
    if (t === OPT_JUMBO && len === 4 && p + 6 <= end) return u32be(b, p + 2);
    p += 2 + len;
  }
  return -1;
}

export function ipv6(out: L4Out, pkt: TcpPacket, b: Uint8Array, at: number, capEnd: number, wireEnd: number): number {
  if (at + 40 > capEnd) return -1 - R_TRUNCATED_IP;
  if (b[at] >> 4 !== 6) return -1 - R_MALFORMED_IP;
  pkt.ipVersion = 6;
  pkt.src0 = u32be(b, at + 8); pkt.src1 = u32be(b, at + 12);
  pkt.src2 = u32be(b, at + 16); pkt.src3 = u32be(b, at + 20);
  pkt.dst0 = u32be(b, at + 24); pkt.dst1 = u32be(b, at + 28);
  pkt.dst2 = u32be(b, at + 32); pkt.dst3 = u32be(b, at + 36);
  pkt.ipTtl = b[at + 7];
  pkt.ipId = 0;
  pkt.ipDontFragment = false;
  const plen = u16be(b, at + 4);
  let jumbo = -1;
  let nh = b[at + 6];
  let p = at + 40;
  out.firstFragment = false;
  // Every branch advances p by at least 8 bytes, so the walk ends.
  while (nh !== NH_TCP) {
    if (nh === NH_HOPOPT || nh === NH_ROUTING || nh === NH_DSTOPTS) {
      if (p + 2 > capEnd) return -1 - R_TRUNCATED_IP;
      const len = (b[p + 1] + 1) * 8;
      if (p + len > capEnd) return -1 - R_TRUNCATED_IP;
      // BIG TCP (Linux 5.19+, tcpdump-bigtcp-ipv6-hbh.pcap): payload length 0
      // and the real length in a Jumbo Payload option (RFC 2675 §3).
      if (nh === NH_HOPOPT && plen === 0) jumbo = jumboLength(b, p, p + len);
      nh = b[p];
      p += len;
    } else if (nh === NH_FRAGMENT) {
      if (p + 8 > capEnd) return -1 - R_TRUNCATED_IP;
      // Only the offset-0 fragment holds the TCP header; an atomic fragment
      // (offset 0, M=0, RFC 6946) is a whole packet.
      const offM = u16be(b, p + 2);
      if ((offM & 0xfff8) !== 0) return -1 - R_IPV6_FRAGMENT;
      if ((offM & 1) !== 0) out.firstFragment = true;
      nh = b[p];
      p += 8;
    } else if (nh === NH_AH) {
      if (p + 2 > capEnd) return -1 - R_TRUNCATED_IP;
      const len = (b[p + 1] + 2) * 4; // RFC 4302 §2.2: in 4-byte units, minus 2
      if (p + len > capEnd) return -1 - R_TRUNCATED_IP;
      nh = b[p];
      p += len;
    } else {
      return -1 - R_NON_TCP;
    }
  }
  let end: number;
  if (plen !== 0) end = at + 40 + plen;
  else if (jumbo >= 0) end = at + 40 + jumbo;
  else end = wireEnd; // payload length 0 without jumbo: segmentation offload, as for IPv4
  if (end < p) return -1 - R_MALFORMED_IP;
  out.l4End = end < wireEnd ? end : wireEnd;
  return p;
}
