/**
 * One frame's bytes -> the reused TcpPacket -> the consumer's callback.
 * One instance per capture read; holds the skip counters (STYLE.md §4: weirds
 * are counted by name, reading goes on).
 */
import { ipv4, type L4Out } from './ipv4.js';
import { ipv6 } from './ipv6.js';
import { ethernet, LinkResult, LinkType, linkToIp, type L3Out } from './link.js';
import { TcpPacket } from './packet.js';
import { REASON_NAMES, Reason } from './reasons.js';
import { tcp } from './tcp.js';

export class FrameDecoder implements L3Out, L4Out {
  l3: 4 | 6 = 4;
  l4End = 0;
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
    const ip = linkType === LinkType.ETHERNET ? ethernet(this, v, at, capEnd) : linkToIp(this, linkType, v, at, capEnd);
    if (ip < 0) {
      if (ip === LinkResult.UNSUPPORTED) this.linkSkipped.set(linkType, (this.linkSkipped.get(linkType) ?? 0) + 1);
      else if (ip === LinkResult.NON_IP) this.reasons[Reason.NON_IP]++;
      else this.reasons[Reason.TRUNCATED_LINK]++;
      return;
    }
    const pkt = this.pkt;
    // No pkt.reset(): ipv4()/ipv6() and tcp() set every per-packet field on the
    // way to onTcp (a frame that fails on the way is not delivered).
    pkt.truncated = capLen < origLen;
    const wireEnd = origLen > capLen ? at + origLen : capEnd;
    const t = this.l3 === 4 ? ipv4(this, pkt, v, ip, capEnd, wireEnd) : ipv6(this, pkt, v, ip, capEnd, wireEnd);
    if (t < 0) { this.reasons[-1 - t]++; return; }
    pkt.buf = b;
    pkt.ipAt = ip;
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
