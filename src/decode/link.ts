/**
 * Link layers in front of IP. Each returns the offset of the IP header (and
 * sets `out.l3` to 4 or 6) or a negative LinkResult. Link-type numbers are the
 * tcpdump.org LINKTYPE_ values; pcap and pcapng share them.
 */

/** What linkToIp returns when there is no IP header to go on with (negative, unlike an offset). */
export const enum LinkResult {
  UNSUPPORTED = -1,
  NON_IP = -2,
  TRUNCATED = -3,
}

/** LINKTYPE_ values decoded here. A const enum, so the per-frame switch compares plain numbers. */
export const enum LinkType {
  NULL = 0,
  ETHERNET = 1,
  /** DLT_RAW as numbered on some BSDs: 12 (most), 14 (OpenBSD). */
  RAW_BSD12 = 12,
  RAW_BSD14 = 14,
  /** PPP, RFC 1661, with or without the HDLC-like address and control bytes (RFC 1662). */
  PPP = 9,
  /** PPP in HDLC-like framing (RFC 1662), or Cisco HDLC framing, which libpcap also labels so. */
  PPP_HDLC = 50,
  /** PPPoE session header (RFC 2516) without the Ethernet header. */
  PPP_ETHER = 51,
  /** Cisco HDLC: address, control, EtherType. */
  C_HDLC = 104,
  RAW = 101,
  LOOP = 108,
  LINUX_SLL = 113,
  IPV4 = 228,
  IPV6 = 229,
  LINUX_SLL2 = 276,
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

export interface L3Out {
  l3: 4 | 6;
  /** After NON_IP: the EtherType, and where its payload starts (MPLS and PPPoE: tunnel.ts); -1 when the link has no EtherType. */
  etherType: number;
  etherAt: number;
}

function byEthertype(out: L3Out, type: number, at: number): number {
  if (type === ETH_IPV4) { out.l3 = 4; return at; }
  if (type === ETH_IPV6) { out.l3 = 6; return at; }
  out.etherType = type;
  out.etherAt = at;
  return LinkResult.NON_IP;
}

/** PPP protocol numbers (RFC 1661 §2, IANA PPP DLL protocol numbers) for IP. */
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;

/**
 * A PPP frame from its first byte: the HDLC-like address and control bytes
 * (0xff 0x03, RFC 1662 §3.1) when present (address-and-control-field
 * compression omits them), then the protocol field, one byte when its low bit
 * is set (protocol-field compression, RFC 1661 §6.5).
 */
export function ppp(out: L3Out, v: DataView, at: number, end: number): number {
  let p = at;
  if (p + 2 > end) return LinkResult.TRUNCATED;
  if (v.getUint8(p) === 0xff && v.getUint8(p + 1) === 0x03) p += 2;
  if (p + 1 > end) return LinkResult.TRUNCATED;
  let proto = v.getUint8(p);
  if ((proto & 1) !== 0) p += 1;
  else {
    if (p + 2 > end) return LinkResult.TRUNCATED;
    proto = v.getUint16(p);
    p += 2;
  }
  if (proto === PPP_IPV4) { out.l3 = 4; return p; }
  if (proto === PPP_IPV6) { out.l3 = 6; return p; }
  // 0x8000 and up are PPP's control protocols (LCP, IPCP, CCP...: nothing to decode, like ARP);
  // a data protocol other than IP (a compressed or encrypted datagram, 0x00fd) could not be
  // decoded: marked past the EtherType range so knownNonIp() says so.
  out.etherType = proto >= 0x8000 ? -1 : 0x10000 + proto;
  return LinkResult.NON_IP;
}

/** Cisco HDLC: address (0x0f unicast, 0x8f broadcast), control 0, then an EtherType. */
function ciscoHdlc(out: L3Out, v: DataView, at: number, end: number): number {
  if (at + 4 > end) return LinkResult.TRUNCATED;
  return byEthertype(out, v.getUint16(at + 2), at + 4);
}

/** PPPoE session stage (RFC 2516 §4): version/type 0x11, code 0, session id, length, then a PPP protocol field. */
export function pppoeSession(out: L3Out, v: DataView, at: number, end: number): number {
  if (at + 6 > end) return LinkResult.TRUNCATED;
  if (v.getUint8(at) !== 0x11 || v.getUint8(at + 1) !== 0) { out.etherType = -1; return LinkResult.NON_IP; }
  return ppp(out, v, at + 6, end);
}

function byVersionNibble(out: L3Out, v: DataView, at: number, end: number): number {
  if (at >= end) return LinkResult.TRUNCATED;
  const version = v.getUint8(at) >> 4;
  if (version === 4) { out.l3 = 4; return at; }
  if (version === 6) { out.l3 = 6; return at; }
  out.etherType = -1;
  return LinkResult.NON_IP;
}

/**
 * Ethernet II with any depth of 802.1Q (0x8100), 802.1ad (0x88a8) and the
 * pre-standard QinQ 0x9100 tags (zeek-vlan-qinqinq.pcap stacks three).
 * An EtherType <= 1500 is an 802.3 length field (LLC follows): not IP.
 */
export function ethernet(out: L3Out, v: DataView, at: number, end: number): number {
  let p = at + 12;
  if (p + 2 > end) return LinkResult.TRUNCATED;
  let type = v.getUint16(p);
  p += 2;
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    if (p + 4 > end) return LinkResult.TRUNCATED;
    type = v.getUint16(p + 2);
    p += 4;
  }
  return byEthertype(out, type, p);
}

/**
 * BSD loopback: a 4-byte address family. NULL (0) writes it in the capturing
 * host's byte order, LOOP (108) in network order; accept either, as tshark
 * does, since a value >= 2^16 can only be a swapped small number.
 * AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD),
 * 30 (macOS) — and 10 on Linux, which tshark also accepts.
 */
export function nullLoop(out: L3Out, v: DataView, at: number, end: number): number {
  if (at + 4 > end) return LinkResult.TRUNCATED;
  let af = v.getUint32(at);
  if (af > 0xffff) af = v.getUint32(at, true);
  if (af === 2) { out.l3 = 4; return at + 4; }
  if (af === 24 || af === 28 || af === 30 || af === 10) { out.l3 = 6; return at + 4; }
  out.etherType = -1; // another address family: not IP, nothing to decode
  return LinkResult.NON_IP;
}

/** Linux cooked capture v1: 16-byte header, protocol (an EtherType) at 14. */
export function sll(out: L3Out, v: DataView, at: number, end: number): number {
  if (at + 16 > end) return LinkResult.TRUNCATED;
  return byEthertype(out, v.getUint16(at + 14), at + 16);
}

/** Linux cooked capture v2: 20-byte header, protocol first. */
export function sll2(out: L3Out, v: DataView, at: number, end: number): number {
  if (at + 20 > end) return LinkResult.TRUNCATED;
  return byEthertype(out, v.getUint16(at), at + 20);
}

/** Offset of the IP header for this link type, or a negative LinkResult. */
export function linkToIp(out: L3Out, linkType: number, v: DataView, at: number, end: number): number {
  switch (linkType) {
    case LinkType.ETHERNET: return ethernet(out, v, at, end);
    case LinkType.LINUX_SLL: return sll(out, v, at, end);
    case LinkType.RAW: case LinkType.RAW_BSD12: case LinkType.RAW_BSD14: return byVersionNibble(out, v, at, end);
    case LinkType.IPV4: out.l3 = 4; return at;
    case LinkType.IPV6: out.l3 = 6; return at;
    case LinkType.NULL: case LinkType.LOOP: return nullLoop(out, v, at, end);
    case LinkType.LINUX_SLL2: return sll2(out, v, at, end);
    case LinkType.PPP: return ppp(out, v, at, end);
    case LinkType.PPP_HDLC: {
      if (at + 1 > end) return LinkResult.TRUNCATED;
      const a = v.getUint8(at);
      return a === 0x0f || a === 0x8f ? ciscoHdlc(out, v, at, end) : ppp(out, v, at, end);
    }
    case LinkType.PPP_ETHER: return pppoeSession(out, v, at, end);
    case LinkType.C_HDLC: return ciscoHdlc(out, v, at, end);
    default: return LinkResult.UNSUPPORTED;
  }
}
