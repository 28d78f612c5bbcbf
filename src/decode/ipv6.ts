/**
 * IPv6 header (RFC 8200 §3) and the extension headers that may sit before TCP
 * (RFC 8200 §4: hop-by-hop, routing, fragment, destination options; RFC 4302 AH).
 * Returns the TCP header offset or -1 - reason; sets `out.l4End`.
 */
import type { L4Out } from './ipv4.js';
import type { TcpPacket } from './packet.js';
import { Reason } from './reasons.js';

const NH_HOPOPT = 0;
const NH_TCP = 6;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_AH = 51;
const NH_DSTOPTS = 60;
/** RFC 2675 §2 Jumbo Payload option type. */
const OPT_JUMBO = 0xc2;

/** Jumbo Payload length from a hop-by-hop header's options, or -1. */
export function jumboLength(v: DataView, at: number, end: number): number {
  let p = at + 2;
  while (p < end) {
    const t = v.getUint8(p);
    if (t === 0) { p++; continue; } // Pad1
    if (p + 2 > end) return -1;
    const len = v.getUint8(p + 1);
    if (t === OPT_JUMBO && len === 4 && p + 6 <= end) return v.getUint32(p + 2);
    p += 2 + len;
  }
  return -1;
}

export function ipv6(out: L4Out, pkt: TcpPacket, v: DataView, at: number, capEnd: number, wireEnd: number): number {
  if (at + 40 > capEnd) return -1 - Reason.TRUNCATED_IP;
  if (v.getUint8(at) >> 4 !== 6) return -1 - Reason.MALFORMED_IP;
  pkt.ipVersion = 6;
  pkt.src0 = v.getUint32(at + 8); pkt.src1 = v.getUint32(at + 12);
  pkt.src2 = v.getUint32(at + 16); pkt.src3 = v.getUint32(at + 20);
  pkt.dst0 = v.getUint32(at + 24); pkt.dst1 = v.getUint32(at + 28);
  pkt.dst2 = v.getUint32(at + 32); pkt.dst3 = v.getUint32(at + 36);
  pkt.ipTtl = v.getUint8(at + 7);
  pkt.ipId = 0;
  pkt.ipDontFragment = false;
  const plen = v.getUint16(at + 4);
  let jumbo = -1;
  let nh = v.getUint8(at + 6);
  let p = at + 40;
  out.firstFragment = false;
  // Every branch advances p by at least 8 bytes, so the walk ends.
  while (nh !== NH_TCP) {
    if (nh === NH_HOPOPT || nh === NH_ROUTING || nh === NH_DSTOPTS) {
      if (p + 2 > capEnd) return -1 - Reason.TRUNCATED_IP;
      const len = (v.getUint8(p + 1) + 1) * 8;
      if (p + len > capEnd) return -1 - Reason.TRUNCATED_IP;
      // BIG TCP (Linux 5.19+, tcpdump-bigtcp-ipv6-hbh.pcap): payload length 0
      // and the real length in a Jumbo Payload option (RFC 2675 §3).
      if (nh === NH_HOPOPT && plen === 0) jumbo = jumboLength(v, p, p + len);
      nh = v.getUint8(p);
      p += len;
    } else if (nh === NH_FRAGMENT) {
      if (p + 8 > capEnd) return -1 - Reason.TRUNCATED_IP;
      // Only the offset-0 fragment holds the TCP header; an atomic fragment
      // (offset 0, M=0, RFC 6946) is a whole packet.
      const offM = v.getUint16(p + 2);
      if ((offM & 0xfff8) !== 0) return -1 - Reason.IPV6_FRAGMENT;
      if ((offM & 1) !== 0) out.firstFragment = true;
      nh = v.getUint8(p);
      p += 8;
    } else if (nh === NH_AH) {
      if (p + 2 > capEnd) return -1 - Reason.TRUNCATED_IP;
      const len = (v.getUint8(p + 1) + 2) * 4; // RFC 4302 §2.2: in 4-byte units, minus 2
      if (p + len > capEnd) return -1 - Reason.TRUNCATED_IP;
      nh = v.getUint8(p);
      p += len;
    } else {
      // Maybe a tunnel (UDP, GRE, IP in IPv6): frame.ts looks at it off the TCP path.
      const end = payloadEnd(at, plen, jumbo, wireEnd);
      if (end < p) return -1 - Reason.MALFORMED_IP;
      out.l4End = end < wireEnd ? end : wireEnd;
      out.l4Proto = nh;
      out.l4At = p;
      return -1 - Reason.NON_TCP;
    }
  }
  const end = payloadEnd(at, plen, jumbo, wireEnd);
  if (end < p) return -1 - Reason.MALFORMED_IP;
  out.l4End = end < wireEnd ? end : wireEnd;
  return p;
}

function payloadEnd(at: number, plen: number, jumbo: number, wireEnd: number): number {
  if (plen !== 0) return at + 40 + plen;
  if (jumbo >= 0) return at + 40 + jumbo;
  return wireEnd; // payload length 0 without jumbo: segmentation offload, as for IPv4
}
