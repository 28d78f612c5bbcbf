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
}

function byEthertype(out: L3Out, type: number, at: number): number {
  if (type === ETH_IPV4) { out.l3 = 4; return at; }
  if (type === ETH_IPV6) { out.l3 = 6; return at; }
  return LinkResult.NON_IP;
}

function byVersionNibble(out: L3Out, v: DataView, at: number, end: number): number {
  if (at >= end) return LinkResult.TRUNCATED;
  const version = v.getUint8(at) >> 4;
  if (version === 4) { out.l3 = 4; return at; }
  if (version === 6) { out.l3 = 6; return at; }
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
    default: return LinkResult.UNSUPPORTED;
  }
}
