/**
 * Link layers in front of IP. Each returns the offset of the IP header (and
 * sets `out.l3` to 4 or 6) or a negative LINK_* code. Link-type numbers are the
 * tcpdump.org LINKTYPE_ values; pcap and pcapng share them.
 */
import { u16be, u32be } from './bytes.js';

export const LINK_UNSUPPORTED = -1;
export const LINK_NON_IP = -2;
export const LINK_TRUNCATED = -3;

export const LT_NULL = 0;
export const LT_ETHERNET = 1;
/** DLT_RAW as numbered on some BSDs: 12 (most), 14 (OpenBSD). */
export const LT_RAW_BSD12 = 12;
export const LT_RAW_BSD14 = 14;
export const LT_RAW = 101;
export const LT_LOOP = 108;
export const LT_LINUX_SLL = 113;
export const LT_IPV4 = 228;
export const LT_IPV6 = 229;
export const LT_LINUX_SLL2 = 276;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

export interface L3Out {
  l3: 4 | 6;
}

function byEthertype(out: L3Out, type: number, at: number): number {
  if (type === ETH_IPV4) { out.l3 = 4; return at; }
  if (type === ETH_IPV6) { out.l3 = 6; return at; }
  return LINK_NON_IP;
}

function byVersionNibble(out: L3Out, b: Uint8Array, at: number, end: number): number {
  if (at >= end) return LINK_TRUNCATED;
  const v = b[at] >> 4;
  if (v === 4) { out.l3 = 4; return at; }
  if (v === 6) { out.l3 = 6; return at; }
  return LINK_NON_IP;
}

/**
 * Ethernet II with any depth of 802.1Q (0x8100), 802.1ad (0x88a8) and the
 * pre-standard QinQ 0x9100 tags (zeek-vlan-qinqinq.pcap stacks three).
 * An EtherType <= 1500 is an 802.3 length field (LLC follows): not IP.
 */
export function ethernet(out: L3Out, b: Uint8Array, at: number, end: number): number {
  let p = at + 12;
  if (p + 2 > end) return LINK_TRUNCATED;
  let type = u16be(b, p);
  p += 2;
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    if (p + 4 > end) return LINK_TRUNCATED;
    type = u16be(b, p + 2);
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
export function nullLoop(out: L3Out, b: Uint8Array, at: number, end: number): number {
  if (at + 4 > end) return LINK_TRUNCATED;
  let af = u32be(b, at);
  if (af > 0xffff) af = ((b[at + 3] << 24) | (b[at + 2] << 16) | (b[at + 1] << 8) | b[at]) >>> 0;
  if (af === 2) { out.l3 = 4; return at + 4; }
  if (af === 24 || af === 28 || af === 30 || af === 10) { out.l3 = 6; return at + 4; }
  return LINK_NON_IP;
}

/** Linux cooked capture v1: 16-byte header, protocol (an EtherType) at 14. */
export function sll(out: L3Out, b: Uint8Array, at: number, end: number): number {
  if (at + 16 > end) return LINK_TRUNCATED;
  return byEthertype(out, u16be(b, at + 14), at + 16);
}

/** Linux cooked capture v2: 20-byte header, protocol first. */
export function sll2(out: L3Out, b: Uint8Array, at: number, end: number): number {
  if (at + 20 > end) return LINK_TRUNCATED;
  return byEthertype(out, u16be(b, at), at + 20);
}

/** Offset of the IP header for this link type, or a negative LINK_* code. */
export function linkToIp(out: L3Out, linkType: number, b: Uint8Array, at: number, end: number): number {
  switch (linkType) {
    case LT_ETHERNET: return ethernet(out, b, at, end);
    case LT_LINUX_SLL: return sll(out, b, at, end);
    case LT_RAW: case LT_RAW_BSD12: case LT_RAW_BSD14: return byVersionNibble(out, b, at, end);
    case LT_IPV4: out.l3 = 4; return at;
    case LT_IPV6: out.l3 = 6; return at;
    case LT_NULL: case LT_LOOP: return nullLoop(out, b, at, end);
    case LT_LINUX_SLL2: return sll2(out, b, at, end);
    default: return LINK_UNSUPPORTED;
  }
}
