/**
 * IPv4 header (RFC 791 §3.1). Returns the offset of the TCP header, or a
 * negative code (-1 - reason). Sets `out.l4End` to the end of the IP payload.
 */
import type { TcpPacket } from './packet.js';
import { Reason } from './reasons.js';

export interface L4Out {
  l4End: number;
  /** When the header is not followed by TCP: its protocol number and where its payload starts (for tunnels). */
  l4Proto: number;
  l4At: number;
  /** A first fragment (offset 0, more fragments follow): the TCP header may be cut by the fragmentation. */
  firstFragment: boolean;
}

/**
 * @param capEnd end of the captured bytes
 * @param wireEnd end of the frame as it was on the wire (origLen), >= capEnd
 */
export function ipv4(out: L4Out, pkt: TcpPacket, v: DataView, at: number, capEnd: number, wireEnd: number): number {
  if (at + 20 > capEnd) return -1 - Reason.TRUNCATED_IP;
  const vihl = v.getUint8(at);
  if (vihl >> 4 !== 4) return -1 - Reason.MALFORMED_IP;
  const ihl = (vihl & 15) * 4;
  if (ihl < 20) return -1 - Reason.MALFORMED_IP;
  // Options (IHL > 5) are skipped whole; suricata-detect-ipopts-rawipv4.pcap has them on SYNs.
  if (at + ihl > capEnd) return -1 - Reason.TRUNCATED_IP;
  let total = v.getUint16(at + 2);
  // Total length 0: the NIC segments later (TSO/GSO), so the capture on the
  // sending host sees the unsegmented packet; Wireshark uses the frame length.
  if (total === 0) total = wireEnd - at;
  else if (total < ihl) return -1 - Reason.MALFORMED_IP;
  pkt.ipVersion = 4;
  pkt.src0 = 0; pkt.src1 = 0; pkt.src2 = 0;
  pkt.src3 = v.getUint32(at + 12);
  pkt.dst0 = 0; pkt.dst1 = 0; pkt.dst2 = 0;
  pkt.dst3 = v.getUint32(at + 16);

  pkt.ipTtl = v.getUint8(at + 8);
  pkt.ipId = v.getUint16(at + 4);
  if (ihl > 20 && !ipv4Options(pkt, v, at + 20, at + ihl)) return -1 - Reason.MALFORMED_IP;
  const frag = v.getUint16(at + 6);
  pkt.ipDontFragment = (frag & 0x4000) !== 0;
  // Only the offset-0 fragment holds the TCP header; later ones would be
  // misparsed as TCP (RFC 791: offset in 8-byte units, low 13 bits).
  if ((frag & 0x1fff) !== 0) return -1 - Reason.IPV4_FRAGMENT;
  out.firstFragment = (frag & 0x2000) !== 0;
  // The length field trims Ethernet padding; a length beyond the frame is
  // limited to the frame, as Wireshark's tcp.len is.
  const end = at + total;
  out.l4End = end < wireEnd ? end : wireEnd;
  const proto = v.getUint8(at + 9);
  if (proto !== 6) {
    // Maybe a tunnel (UDP, GRE, IP in IP): frame.ts looks at it off the TCP path.
    out.l4Proto = proto;
    out.l4At = at + ihl;
    return -1 - Reason.NON_TCP;
  }
  return at + ihl;
}

const IPOPT_EOL = 0;
const IPOPT_NOP = 1;
const IPOPT_LSRR = 131;
const IPOPT_SSRR = 137;

/** Smallest valid length of the options Wireshark checks (packet-ip.c ipopts[]); others need 2. */
function minOptionLength(kind: number): number {
  switch (kind) {
    case 7: case 130: case 131: case 133: case 137: return 3; // RR, security, LSRR, ext. security, SSRR
    case 68: case 136: case 148: return 4; // timestamp, stream id, router alert
    default: return 2;
  }
}

/**
 * Walk IPv4 options (RFC 791 §3.1). False if one is malformed: tshark then
 * stops dissecting the packet (suricata-tcp-session-decode-malformed-ipv4.pcap).
 * A loose or strict source route not yet completed makes the last address of
 * the route the final destination: that host's TCP is the peer, and tshark's
 * ip.dst shows it too.
 */
export function ipv4Options(pkt: TcpPacket, v: DataView, at: number, end: number): boolean {
  let p = at;
  while (p < end) {
    const kind = v.getUint8(p);
    if (kind === IPOPT_EOL) break;
    if (kind === IPOPT_NOP) { p++; continue; }
    if (p + 1 >= end) return false;
    const len = v.getUint8(p + 1);
    if (len < minOptionLength(kind) || p + len > end) return false;
    if ((kind === IPOPT_LSRR || kind === IPOPT_SSRR) && len >= 7 && v.getUint8(p + 2) <= len) pkt.dst3 = v.getUint32(p + len - 4);
    p += len;
  }
  return true;
}
