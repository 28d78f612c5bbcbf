/**
 * One frame's bytes -> the reused TcpPacket -> the consumer's callback.
 * One instance per capture read; holds the skip counters (Zeek-style weirds:
 * anomalies are counted by name, reading goes on).
 */
import { ipv4, type L4Out } from './ipv4.js';
import { ipv6 } from './ipv6.js';
import { ethernet, LinkResult, LinkType, linkToIp, type L3Out } from './link.js';
import { TcpPacket } from './packet.js';
import { knownNonIp, REASON_NAMES, Reason } from './reasons.js';
import { tcp } from './tcp.js';
import { etherEncap, unwrapTunnels, type TunnelOut } from './tunnel.js';

export class FrameDecoder implements L3Out, L4Out, TunnelOut {
  l3: 4 | 6 = 4;
  etherType = 0;
  etherAt = 0;
  l4End = 0;
  l4Proto = 0;
  l4At = 0;
  firstFragment = false;
  readonly pkt = new TcpPacket();
  tcpPackets = 0;
  readonly reasons = new Float64Array(REASON_NAMES.length);
  /** Frames of link types not decoded, by link type. */
  readonly linkSkipped = new Map<number, number>();

  constructor(readonly onTcp: (p: TcpPacket) => void) {}

  /**
   * Decode b[at, at+capLen); `v` views the same bytes (all reads go through it:
   * V8 compiles a DataView read of a word to one load and a byte swap, where
   * b[i] shifts and ORs took a bounds-checked load per byte). The reader has
   * already set the record fields of
   * `pkt` (frame, timestamps, lengths, link type, interface).
   */
  decode(b: Uint8Array, v: DataView, at: number, capLen: number, origLen: number, linkType: number): void {
    const capEnd = at + capLen;

    // Ethernet, the link of most captures, without the switch of linkToIp:
    // ethernet() is small enough to be inlined here, VLAN tags and all.
    // pkt.tunnelCount is 0 here: only notIp()/notTcp() record tunnel layers, and they set it back.
    const pkt = this.pkt;
    const ip = linkType === LinkType.ETHERNET ? ethernet(this, v, at, capEnd) : linkToIp(this, linkType, v, at, capEnd);
    // Not IP: MPLS or PPPoE in front of IP, or a frame to count (off the hot path, in notIp()).
    if (ip < 0) { this.notIp(ip, b, v, capEnd, capLen, origLen, linkType, at); return; }
    // No pkt.reset(): ipv4()/ipv6() and tcp() set every per-packet field on the
    // way to onTcp (a frame that fails on the way is not delivered).
    pkt.truncated = capLen < origLen;
    const wireEnd = origLen > capLen ? at + origLen : capEnd;
    const t = this.l3 === 4 ? ipv4(this, pkt, v, ip, capEnd, wireEnd) : ipv6(this, pkt, v, ip, capEnd, wireEnd);
    // Not TCP: perhaps TCP inside a tunnel (UDP, GRE, IP in IP), in notTcp().
    if (t < 0) { this.notTcp(t, b, v, capEnd, wireEnd); return; }
    pkt.ipAt = ip;
    this.tcpFrom(b, v, t, capEnd);
  }

  /** The TCP header at t (IP already decoded into pkt), then the consumer. */
  private tcpFrom(b: Uint8Array, v: DataView, t: number, capEnd: number): void {
    const pkt = this.pkt;
    pkt.buf = b;
    pkt.tcpAt = t;
    const r = tcp(pkt, v, t, capEnd, this.l4End);
    if (r < 0) {
      // A TCP header split across fragments is only whole after reassembly,
      // which tcpdiag does not do (zeek-ipv4-fragmented-syn.pcap): a fragment, not a bad header.
      if (this.firstFragment) this.reasons[this.l3 === 4 ? Reason.IPV4_FRAGMENT : Reason.IPV6_FRAGMENT]++;
      else this.reasons[-1 - r]++;
      return;
    }
    this.tcpPackets++;
    this.onTcp(pkt);
  }

  /**
   * A link layer that did not lead to IP: MPLS or a PPPoE session in front of IP
   * (tunnel.ts) goes on to IP and TCP; anything else is counted by why.
   * Methods of their own, so decode() stays small enough for V8 to inline the
   * IP and TCP decoders into it.
   */
  private notIp(r: number, b: Uint8Array, v: DataView, capEnd: number, capLen: number, origLen: number, linkType: number, at: number): void {
    const pkt = this.pkt;
    let ip = r;
    if (ip === LinkResult.NON_IP) ip = etherEncap(this, pkt, v, this.etherType, this.etherAt, capEnd);
    if (ip < 0) {
      pkt.tunnelCount = 0;
      if (ip === LinkResult.UNSUPPORTED) this.linkSkipped.set(linkType, (this.linkSkipped.get(linkType) ?? 0) + 1);
      else if (ip === LinkResult.NON_IP) this.reasons[knownNonIp(this.etherType) ? Reason.NON_IP : Reason.UNKNOWN_ETHERTYPE]++;
      else this.reasons[Reason.TRUNCATED_LINK]++;
      return;
    }
    pkt.truncated = capLen < origLen;
    const wireEnd = origLen > capLen ? at + origLen : capEnd;
    const t = this.l3 === 4 ? ipv4(this, pkt, v, ip, capEnd, wireEnd) : ipv6(this, pkt, v, ip, capEnd, wireEnd);
    if (t < 0) this.notTcp(t, b, v, capEnd, wireEnd);
    else {
      pkt.ipAt = ip;
      this.tcpFrom(b, v, t, capEnd);
    }
    pkt.tunnelCount = 0;
  }

  /** IP not followed by TCP: TCP inside a tunnel (unwrapTunnels sets pkt.ipAt), or a frame to count. */
  private notTcp(r: number, b: Uint8Array, v: DataView, capEnd: number, wireEnd: number): void {
    const t = r === -1 - Reason.NON_TCP ? unwrapTunnels(this, this.pkt, v, capEnd, wireEnd) : r;
    if (t < 0) this.reasons[-1 - t]++;
    else this.tcpFrom(b, v, t, capEnd);
    this.pkt.tunnelCount = 0;
  }

  countNonPacket(): void {
    this.reasons[Reason.NON_PACKET]++;
  }

  /** Skip counters by name, zero counts left out. */
  skipped(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < REASON_NAMES.length; i++) if (this.reasons[i] > 0) out[REASON_NAMES[i]] = this.reasons[i];
    for (const [lt, n] of [...this.linkSkipped].sort((a, b) => a[0] - b[0])) out[`linktype:${lt}`] = n;
    return out;
  }
}
