/** IPv6 extension-header chain (RFC 8200 §4), BIG TCP jumbo length, and IPv4 basics. */
import { describe, expect, it } from 'vitest';
import { ipv4 } from '../../src/decode/ipv4.js';
import { ipv6, jumboLength } from '../../src/decode/ipv6.js';
import { TcpPacket } from '../../src/decode/packet.js';
import { Reason } from '../../src/decode/reasons.js';
import { be16, be32, bytes, ipv4Hdr, ipv6Hdr, tcpHdr, view } from './build.js';

const out = { l4End: 0, firstFragment: false };
const v6 = (b: Uint8Array, wire = b.length): [number, TcpPacket] => {
  const p = new TcpPacket();
  return [ipv6(out, p, view(b), 0, b.length, wire), p];
};
const v4 = (b: Uint8Array, wire = b.length): [number, TcpPacket] => {
  const p = new TcpPacket();
  return [ipv4(out, p, view(b), 0, b.length, wire), p];
};

/** Extension header: next header, length in 8-byte units minus one, body padded. */
const ext = (nh: number, body: number[]): number[] => {
  const len = Math.ceil((body.length + 2) / 8) * 8;
  const out = [nh, len / 8 - 1, ...body];
  while (out.length < len) out.push(0);
  return out;
};

describe('ipv6', () => {
  const seg = tcpHdr({ payload: 10 });
  it('plain IPv6 + TCP', () => {
    const [t, p] = v6(ipv6Hdr(seg));
    expect(t).toBe(40);
    expect(out.l4End).toBe(40 + 30);
    expect([p.src0, p.src3, p.dst3]).toEqual([0x20010db8, 1, 2]);
  });
  it('walks hop-by-hop, routing, destination options, atomic fragment and AH before TCP', () => {
    const chain = bytes(
      ext(43, [1, 4, 0, 0, 0, 0]), // hop-by-hop -> routing
      ext(60, [0, 0, 0, 0, 0, 0]), // routing -> dst opts
      ext(44, [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // dst opts (16 bytes) -> fragment
      [51, 0, 0, 0, 0, 0, 0, 1], // fragment offset 0, M=0 -> AH
      [6, 4, 0, 0, ...be32(0x100), ...be32(1), ...new Array(12).fill(0)], // AH: (4+2)*4 = 24 bytes -> TCP
    );
    const [t] = v6(ipv6Hdr(seg, { nh: 0, ext: chain }));
    expect(t).toBe(40 + chain.length);
    expect(out.l4End).toBe(40 + chain.length + seg.length);
  });
  it('a non-first fragment is skipped, a first fragment with M set is decoded', () => {
    expect(v6(ipv6Hdr(seg, { nh: 44, ext: Uint8Array.from([6, 0, ...be16(185 << 3), 0, 0, 0, 1]) }))[0]).toBe(-1 - Reason.IPV6_FRAGMENT);
    const [t] = v6(ipv6Hdr(seg, { nh: 44, ext: Uint8Array.from([6, 0, ...be16(1), 0, 0, 0, 1]) }));
    expect(t).toBe(48);
    expect(out.firstFragment).toBe(true);
  });
  it('UDP and no-next-header are not TCP', () => {
    expect(v6(ipv6Hdr(seg, { nh: 17 }))[0]).toBe(-1 - Reason.NON_TCP);
    expect(v6(ipv6Hdr(seg, { nh: 59 }))[0]).toBe(-1 - Reason.NON_TCP);
  });
  it('an extension header cut by the capture is truncated-ip', () => {
    const b = ipv6Hdr(seg, { nh: 0, ext: Uint8Array.from(ext(6, [1, 4, 0, 0, 0, 0])) });
    expect(ipv6(out, new TcpPacket(), view(b), 0, 44, b.length)).toBe(-1 - Reason.TRUNCATED_IP);
    expect(ipv6(out, new TcpPacket(), view(b), 0, 39, b.length)).toBe(-1 - Reason.TRUNCATED_IP);
  });
  it('BIG TCP: payload length 0 and a Jumbo Payload option give the length', () => {
    const big = tcpHdr({ payload: 70000 });
    const hbh = ext(6, [0xc2, 4, ...be32(8 + big.length)]);
    expect(jumboLength(view(Uint8Array.from(hbh)), 0, 8)).toBe(8 + big.length);
    const [t, p] = v6(ipv6Hdr(big, { nh: 0, ext: Uint8Array.from(hbh), plen: 0 }));
    expect(t).toBe(48);
    expect(out.l4End).toBe(48 + big.length);
    void p;
  });
  it('a wrong version nibble is malformed', () => {
    const b = ipv6Hdr(seg);
    b[0] = 0x40;
    expect(v6(b)[0]).toBe(-1 - Reason.MALFORMED_IP);
  });
});

describe('ipv4', () => {
  const seg = tcpHdr({ payload: 4 });
  it('total length trims Ethernet padding', () => {
    const b = bytes(ipv4Hdr(seg), new Array(6).fill(0));
    const [t, p] = v4(b);
    expect(t).toBe(20);
    expect(out.l4End).toBe(20 + seg.length);
    expect([p.src3, p.dst3, p.ipTtl, p.ipId, p.ipDontFragment]).toEqual([0x0a000001, 0x0a000002, 64, 7, true]);
  });
  it('header options (IHL > 5) are skipped; a source route gives the final destination', () => {
    expect(v4(ipv4Hdr(seg, { opts: [1, 1, 1, 0] }))[0]).toBe(24);
    const [t, p] = v4(ipv4Hdr(seg, { opts: [131, 11, 4, 1, 2, 3, 4, 5, 6, 7, 8, 0] }));
    expect(t).toBe(32);
    expect(p.dst3).toBe(0x05060708);
  });
  it('a malformed option makes the packet malformed-ip', () => {
    expect(v4(ipv4Hdr(seg, { opts: [130, 2, 0, 0] }))[0]).toBe(-1 - Reason.MALFORMED_IP);
    expect(v4(ipv4Hdr(seg, { opts: [7, 9, 0, 0] }))[0]).toBe(-1 - Reason.MALFORMED_IP);
  });
  it('total length 0 (TSO) falls back to the frame length', () => {
    const [t] = v4(ipv4Hdr(seg, { totalLen: 0 }));
    expect(t).toBe(20);
    expect(out.l4End).toBe(20 + seg.length);
  });
  it('later fragments are skipped; a first fragment with MF is decoded', () => {
    expect(v4(ipv4Hdr(seg, { frag: 0x2000 | 3 }))[0]).toBe(-1 - Reason.IPV4_FRAGMENT);
    expect(v4(ipv4Hdr(seg, { frag: 0x2000 }))[0]).toBe(20);
    expect(out.firstFragment).toBe(true);
  });
  it('non-TCP protocol, short or bad header', () => {
    expect(v4(ipv4Hdr(seg, { proto: 17 }))[0]).toBe(-1 - Reason.NON_TCP);
    expect(v4(ipv4Hdr(seg).subarray(0, 19))[0]).toBe(-1 - Reason.TRUNCATED_IP);
    expect(v4(ipv4Hdr(seg, { totalLen: 10 }))[0]).toBe(-1 - Reason.MALFORMED_IP);
  });
});
