/** Link layers to IP: Ethernet with stacked VLAN tags, SLL, SLL2, NULL/LOOP, raw. */
import { describe, expect, it } from 'vitest';
import { LinkResult, linkToIp } from '../../src/decode/link.js';
import { be16, be32, bytes, ether, le32, view } from './build.js';

const ip4 = Uint8Array.from([0x45, 0, 0, 20]);
const ip6 = Uint8Array.from([0x60, 0, 0, 0]);
const out = { l3: 4 as 4 | 6 };

describe('linkToIp', () => {
  it('Ethernet IPv4 and IPv6', () => {
    expect(linkToIp(out, 1, view(ether(0x0800, ip4)), 0, 18)).toBe(14);
    expect(out.l3).toBe(4);
    expect(linkToIp(out, 1, view(ether(0x86dd, ip6)), 0, 18)).toBe(14);
    expect(out.l3).toBe(6);
  });
  it('any depth of 802.1Q / 802.1ad / 0x9100 tags', () => {
    const f = ether(0x0800, ip4, [[0x88a8, 100], [0x9100, 200], [0x8100, 300]]);
    expect(linkToIp(out, 1, view(f), 0, f.length)).toBe(26);
    const cut = ether(0x0800, ip4, [[0x8100, 1], [0x8100, 2]]);
    expect(linkToIp(out, 1, view(cut), 0, 17)).toBe(LinkResult.TRUNCATED);
  });
  it('ARP and 802.3 length fields are not IP', () => {
    expect(linkToIp(out, 1, view(ether(0x0806, ip4)), 0, 18)).toBe(LinkResult.NON_IP);
    expect(linkToIp(out, 1, view(ether(46, ip4)), 0, 18)).toBe(LinkResult.NON_IP);
  });
  it('Linux SLL (113) and SLL2 (276)', () => {
    const sll = bytes([0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0], be16(0x86dd), ip6);
    expect(linkToIp(out, 113, view(sll), 0, sll.length)).toBe(16);
    expect(out.l3).toBe(6);
    const sll2 = bytes(be16(0x0800), [0, 0], be32(2), [0, 1, 0, 6], [1, 2, 3, 4, 5, 6, 0, 0], ip4);
    expect(linkToIp(out, 276, view(sll2), 0, sll2.length)).toBe(20);
    expect(out.l3).toBe(4);
  });
  it('NULL in either byte order and LOOP: AF 2, 24, 28, 30', () => {
    expect(linkToIp(out, 0, view(bytes(le32(2), ip4)), 0, 8)).toBe(4);
    expect(out.l3).toBe(4);
    for (const af of [24, 28, 30]) {
      expect(linkToIp(out, 0, view(bytes(le32(af), ip6)), 0, 8)).toBe(4);
      expect(out.l3).toBe(6);
      expect(linkToIp(out, 108, view(bytes(be32(af), ip6)), 0, 8)).toBe(4);
      expect(out.l3).toBe(6);
    }
    expect(linkToIp(out, 0, view(bytes(be32(2), ip4)), 0, 8)).toBe(4);
    expect(linkToIp(out, 0, view(bytes(le32(7), ip4)), 0, 8)).toBe(LinkResult.NON_IP);
  });
  it('raw IP by version nibble (101, 12, 14) or by link type (228, 229)', () => {
    for (const lt of [101, 12, 14]) {
      expect(linkToIp(out, lt, view(ip6), 0, 4)).toBe(0);
      expect(out.l3).toBe(6);
      expect(linkToIp(out, lt, view(ip4), 0, 4)).toBe(0);
      expect(out.l3).toBe(4);
    }
    linkToIp(out, 229, view(ip6), 0, 4);
    expect(out.l3).toBe(6);
    linkToIp(out, 228, view(ip4), 0, 4);
    expect(out.l3).toBe(4);
  });
  it('other link types are unsupported (counted by the caller)', () => {
    expect(linkToIp(out, 239, view(ip4), 0, 4)).toBe(LinkResult.UNSUPPORTED);
    expect(linkToIp(out, 258, view(ip4), 0, 4)).toBe(LinkResult.UNSUPPORTED);
  });
});
