/**
 * Tunnels between the outer IP header (or EtherType) and the TCP packet inside:
 * what traffic mirroring and overlays deliver (AWS/Azure mirroring and Linux
 * overlays: VXLAN; gateway load balancers: Geneve; switch port mirroring:
 * ERSPAN over GRE; GRE, IP in IP, 6in4, MPLS, PPPoE). Only called for frames
 * that are not plain TCP, so the plain path costs one field write per frame.
 *
 * Each layer is recorded in the packet (TcpPacket.tunnels, outermost first)
 * before the inner header overwrites the addresses, so a connection keyed by
 * the innermost 4-tuple still knows the outer endpoints.
 */
import { ipv4, type L4Out } from './ipv4.js';
import { ipv6 } from './ipv6.js';
import { ethernet, LinkResult, ppp, pppoeSession, type L3Out } from './link.js';
import { TUNNEL_HAS_ID, TUNNEL_PORT_SHIFT, TunnelKind, TunnelLimit, type TcpPacket } from './packet.js';
import { knownNonIp, Reason } from './reasons.js';

export interface TunnelOut extends L3Out, L4Out {}

/** Nested encapsulations followed at most; every layer advances the offset, this only bounds crafted input. */
export const MAX_TUNNEL_DEPTH = 8;
/** Labels in one MPLS stack followed at most (RFC 3032 sets no limit; real stacks are a few deep). */
const MAX_MPLS_LABELS = 16;

// IP protocol numbers (IANA).
const P_IPV4 = 4;
const P_UDP = 17;
const P_IPV6 = 41;
const P_GRE = 47;

// UDP ports: VXLAN (IANA 4789, RFC 7348 §5; Linux's default before it was assigned, 8472), Geneve (RFC 8926 §3.3).
export const PORT_VXLAN = 4789;
export const PORT_VXLAN_LINUX = 8472;
const PORT_GENEVE = 6081;

// EtherTypes / GRE protocol types.
const ET_IPV4 = 0x0800;
const ET_IPV6 = 0x86dd;
const ET_TEB = 0x6558; // transparent Ethernet bridging (RFC 1701; gretap)
const ET_ERSPAN2 = 0x88be; // ERSPAN type I (no GRE sequence) and II
const ET_ERSPAN3 = 0x22eb;
const ET_MPLS = 0x8847;
const ET_MPLS_MC = 0x8848;
const ET_PPPOE_SESSION = 0x8864;
const ET_PPP = 0x880b; // PPTP's GRE payload

const CODE_NON_TCP = -1 - Reason.NON_TCP;
const CODE_NON_IP = -1 - Reason.NON_IP;
const CODE_UNKNOWN = -1 - Reason.TUNNEL_UNKNOWN;
const CODE_TRUNCATED = -1 - Reason.TRUNCATED_TUNNEL;

/** Record one layer, with the addresses of the IP header in front of it when `outerIp`. */
function record(pkt: TcpPacket, kind: number, id: number, hasId: boolean, outerIp: boolean): void {
  const n = pkt.tunnelCount++;
  if (n >= TunnelLimit.LAYERS) return;
  const t = pkt.tunnels;
  const o = n * TunnelLimit.WORDS;
  t[o] = kind;
  t[o + 1] = id;
  t[o + 2] = hasId ? TUNNEL_HAS_ID : 0;
  if (outerIp) {
    t[o + 3] = pkt.ipVersion;
    t[o + 4] = pkt.src0; t[o + 5] = pkt.src1; t[o + 6] = pkt.src2; t[o + 7] = pkt.src3;
    t[o + 8] = pkt.dst0; t[o + 9] = pkt.dst1; t[o + 10] = pkt.dst2; t[o + 11] = pkt.dst3;
  } else {
    t.fill(0, o + 3, o + TunnelLimit.WORDS);
  }
}

/** The UDP port the layer just recorded was recognised by, in its flags word's upper half. */
function markPort(pkt: TcpPacket, port: number): void {
  const n = pkt.tunnelCount - 1;
  if (n < TunnelLimit.LAYERS) pkt.tunnels[n * TunnelLimit.WORDS + 2] |= port << TUNNEL_PORT_SHIFT;
}

/** A link result (negative) as a skip code; an offset as is. */
function linkCode(r: number): number {
  if (r >= 0) return r;
  return r === LinkResult.TRUNCATED ? CODE_TRUNCATED : CODE_NON_IP;
}

/**
 * An EtherType that is not IP (after Ethernet, SLL, an inner Ethernet frame):
 * MPLS or a PPPoE session carrying IP. Returns the IP offset (out.l3 set) or a
 * negative LinkResult (NON_IP for anything else).
 */
export function etherEncap(out: TunnelOut, pkt: TcpPacket, v: DataView, type: number, at: number, end: number): number {
  if (type === ET_MPLS || type === ET_MPLS_MC) {
    const r = mpls(out, pkt, v, at, end);
    return r >= 0 ? r : r === CODE_TRUNCATED ? LinkResult.TRUNCATED : LinkResult.NON_IP;
  }
  if (type === ET_PPPOE_SESSION) {
    if (at + 6 > end) return LinkResult.TRUNCATED;
    record(pkt, TunnelKind.PPPOE, v.getUint16(at + 2), true, false);
    return pppoeSession(out, v, at, end);
  }
  return LinkResult.NON_IP;
}

/**
 * An MPLS label stack (RFC 3032 §2.1: label 20 bits, TC 3, bottom-of-stack 1,
 * TTL 8). The payload has no type field: like Wireshark, tell IPv4 and IPv6 by
 * the version nibble. Recorded as one layer: the top label and the depth.
 */
function mpls(out: TunnelOut, pkt: TcpPacket, v: DataView, at: number, end: number): number {
  let p = at;
  let top = -1;
  for (let n = 0; ; n++) {
    if (n >= MAX_MPLS_LABELS) return CODE_UNKNOWN;
    if (p + 4 > end) return CODE_TRUNCATED;
    const w = v.getUint32(p);
    if (top < 0) top = w >>> 12;
    p += 4;
    if ((w & 0x100) !== 0) {
      record(pkt, TunnelKind.MPLS, top, true, false);
      // The stack depth goes in the flags word's upper bits (tunnelText prints it).
      // (Only for a recorded layer: past TunnelLimit.LAYERS record() wrote nothing to add to.)
      if (pkt.tunnelCount <= TunnelLimit.LAYERS) pkt.tunnels[(pkt.tunnelCount - 1) * TunnelLimit.WORDS + 2] |= (n + 1) << 8;
      break;
    }
  }
  if (p >= end) return CODE_TRUNCATED;
  const nibble = v.getUint8(p) >> 4;
  if (nibble === 4) { out.l3 = 4; return p; }
  if (nibble === 6) { out.l3 = 6; return p; }
  return CODE_UNKNOWN;
}

/** An inner Ethernet frame (VXLAN, Geneve, gretap, ERSPAN): the IP offset or a skip code. */
function innerEthernet(out: TunnelOut, pkt: TcpPacket, v: DataView, at: number, end: number): number {
  const r = ethernet(out, v, at, end);
  if (r !== LinkResult.NON_IP) return linkCode(r);
  const e = etherEncap(out, pkt, v, out.etherType, out.etherAt, end);
  if (e === LinkResult.NON_IP && !knownNonIp(out.etherType)) return -1 - Reason.UNKNOWN_ETHERTYPE;
  return linkCode(e);
}

/** A payload by EtherType-style protocol number (GRE, Geneve): the IP offset or a skip code. */
function byProtocolType(out: TunnelOut, pkt: TcpPacket, v: DataView, type: number, at: number, end: number): number {
  if (type === ET_IPV4) { out.l3 = 4; return at; }
  if (type === ET_IPV6) { out.l3 = 6; return at; }
  if (type === ET_TEB) return innerEthernet(out, pkt, v, at, end);
  if (type === ET_MPLS || type === ET_MPLS_MC) return mpls(out, pkt, v, at, end);
  return CODE_UNKNOWN;
}

/** UDP: VXLAN or Geneve by port (either side, as Wireshark's port table matches), else plain UDP (not TCP). */
function udp(out: TunnelOut, pkt: TcpPacket, v: DataView, at: number, end: number): number {
  if (at + 8 > end) return CODE_NON_TCP;
  const sport = v.getUint16(at);
  const dport = v.getUint16(at + 2);
  const p = at + 8;
  if (dport === PORT_VXLAN || dport === PORT_VXLAN_LINUX || sport === PORT_VXLAN || sport === PORT_VXLAN_LINUX) {
    // RFC 7348 §5: flags (I = 0x08: the VNI is valid), 24 reserved bits, VNI, 8 reserved bits, then Ethernet.
    if (p + 8 > end) return CODE_TRUNCATED;
    const valid = (v.getUint8(p) & 0x08) !== 0;
    record(pkt, TunnelKind.VXLAN, v.getUint32(p + 4) >>> 8, valid, true);
    // The port it was told by goes in the flags word: 4789 when either end uses it, else 8472.
    // A Wireshark filter on the inner headers needs VXLAN decoded on 8472 (it registers 4789 only).
    markPort(pkt, dport === PORT_VXLAN || sport === PORT_VXLAN ? PORT_VXLAN : PORT_VXLAN_LINUX);
    return innerEthernet(out, pkt, v, p + 8, end);
  }
  if (dport === PORT_GENEVE || sport === PORT_GENEVE) {
    // RFC 8926 §3.4: version (2 bits, 0), option length in 4-byte words (6), O, C, reserved,
    // protocol type, VNI (24), reserved; then the options, then the payload.
    if (p + 8 > end) return CODE_TRUNCATED;
    const b0 = v.getUint8(p);
    if (b0 >> 6 !== 0) return CODE_UNKNOWN;
    const inner = p + 8 + (b0 & 0x3f) * 4;
    if (inner > end) return CODE_TRUNCATED;
    record(pkt, TunnelKind.GENEVE, v.getUint32(p + 4) >>> 8, true, true);
    markPort(pkt, PORT_GENEVE);
    return byProtocolType(out, pkt, v, v.getUint16(p + 2), inner, end);
  }
  return CODE_NON_TCP;
}

/**
 * GRE (RFC 2784, with RFC 2890's key and sequence number; version 1 is PPTP's,
 * RFC 2637 §4.1, with its acknowledgment number). The optional fields come in
 * the order checksum+reserved, key, sequence, acknowledgment.
 */
function gre(out: TunnelOut, pkt: TcpPacket, v: DataView, at: number, end: number): number {
  if (at + 4 > end) return CODE_TRUNCATED;
  const b0 = v.getUint8(at);
  const b1 = v.getUint8(at + 1);
  const version = b1 & 7;
  const type = v.getUint16(at + 2);
  // The routing bit (RFC 1701) brings source-route entries that RFC 2784 deprecates; not decoded.
  if ((b0 & 0x40) !== 0 || version > 1) return CODE_UNKNOWN;
  let p = at + 4;
  if ((b0 & 0x80) !== 0) p += 4; // checksum and reserved1
  const hasKey = (b0 & 0x20) !== 0;
  let key = 0;
  if (hasKey) {
    if (p + 4 > end) return CODE_TRUNCATED;
    key = v.getUint32(p);
    p += 4;
  }
  const hasSeq = (b0 & 0x10) !== 0;
  if (hasSeq) p += 4;
  if (version === 1 && (b1 & 0x80) !== 0) p += 4; // PPTP acknowledgment number
  if (p > end) return CODE_TRUNCATED;
  if (version === 1) {
    if (type !== ET_PPP) return CODE_UNKNOWN;
    // PPTP's key field is payload length (16) and call id (16).
    record(pkt, TunnelKind.PPTP, key & 0xffff, true, true);
    const r = ppp(out, v, p, end);
    if (r === LinkResult.NON_IP) return knownNonIp(out.etherType) ? CODE_NON_IP : CODE_UNKNOWN;
    return linkCode(r);
  }
  if (type === ET_ERSPAN2) {
    // Without a sequence number this is ERSPAN type I: Ethernet straight after GRE.
    if (!hasSeq) {
      record(pkt, TunnelKind.ERSPAN1, 0, false, true);
      return innerEthernet(out, pkt, v, p, end);
    }
    // Type II header (8 bytes): version 1 (4 bits), VLAN (12), CoS (3), En (2), T (1), session id (10); reserved, index.
    if (p + 8 > end) return CODE_TRUNCATED;
    record(pkt, TunnelKind.ERSPAN2, v.getUint16(p + 2) & 0x3ff, true, true);
    return innerEthernet(out, pkt, v, p + 8, end);
  }
  if (type === ET_ERSPAN3) {
    // Type III header (12 bytes): version 2, VLAN, CoS, BSO, T, session id (10); timestamp (32);
    // SGT (16), P (1), frame type (5), hardware id (6), D (1), Gra (2), O (1): O set adds an
    // 8-byte platform-specific subheader. Frame type 0 is Ethernet, 2 is IP.
    if (p + 12 > end) return CODE_TRUNCATED;
    const w2 = v.getUint32(p + 8);
    const inner = p + 12 + ((w2 & 1) !== 0 ? 8 : 0);
    if (inner > end) return CODE_TRUNCATED;
    record(pkt, TunnelKind.ERSPAN3, v.getUint16(p + 2) & 0x3ff, true, true);
    const ft = (w2 >>> 10) & 0x1f;
    if (ft === 0) return innerEthernet(out, pkt, v, inner, end);
    if (ft === 2) {
      if (inner >= end) return CODE_TRUNCATED;
      const nibble = v.getUint8(inner) >> 4;
      if (nibble === 4) { out.l3 = 4; return inner; }
      if (nibble === 6) { out.l3 = 6; return inner; }
    }
    return CODE_UNKNOWN;
  }
  record(pkt, TunnelKind.GRE, key, hasKey, true);
  return byProtocolType(out, pkt, v, type, p, end);
}

/**
 * Called when the IP header in front was not followed by TCP (out.l4Proto,
 * out.l4At, out.l4End describe its payload): follow tunnels inward until a TCP
 * header. Returns its offset (pkt.ipAt set to the innermost IP header, out.l3
 * its version) or -1 - reason.
 */
export function unwrapTunnels(out: TunnelOut, pkt: TcpPacket, v: DataView, capEnd: number, wireEnd: number): number {
  for (let depth = 0; ; depth++) {
    if (depth >= MAX_TUNNEL_DEPTH) return -1 - Reason.TUNNEL_DEPTH;
    const proto = out.l4Proto;
    const at = out.l4At;
    // The outer IP length bounds the tunnel headers; the inner IP header then has its own.
    const end = out.l4End < capEnd ? out.l4End : capEnd;
    let ip: number;
    if (proto === P_UDP) ip = udp(out, pkt, v, at, end);
    else if (proto === P_GRE) ip = gre(out, pkt, v, at, end);
    else if (proto === P_IPV4 || proto === P_IPV6) {
      record(pkt, proto === P_IPV4 ? TunnelKind.IP4 : TunnelKind.IP6, 0, false, true);
      out.l3 = proto === P_IPV4 ? 4 : 6;
      ip = at;
    } else return CODE_NON_TCP;
    if (ip < 0) return ip;
    const t = out.l3 === 4 ? ipv4(out, pkt, v, ip, capEnd, wireEnd) : ipv6(out, pkt, v, ip, capEnd, wireEnd);
    if (t >= 0) { pkt.ipAt = ip; return t; }
    if (t !== CODE_NON_TCP) return t;
  }
}
