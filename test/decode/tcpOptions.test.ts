/** TCP header and option walk from byte arrays (RFC 9293 §3.1-3.2). */
import { describe, expect, it } from 'vitest';
import { TcpPacket } from '../../src/decode/packet.js';
import { Reason } from '../../src/decode/reasons.js';
import { tcp } from '../../src/decode/tcp.js';
import { walkTcpOptions } from '../../src/decode/tcpOptions.js';
import { bytes, SYN_OPTS, tcpHdr, view } from './build.js';

function decode(h: Uint8Array, capEnd = h.length, l4End = h.length): [number, TcpPacket] {
  const p = new TcpPacket();
  p.reset();
  return [tcp(p, view(h), 0, capEnd, l4End), p];
}

function opts(o: number[]): TcpPacket {
  const p = new TcpPacket();
  p.reset();
  walkTcpOptions(p, view(Uint8Array.from(o)), 0, o.length, o.length);
  return p;
}

describe('tcp header', () => {
  it('reads every field and all 12 flag bits', () => {
    const [r, p] = decode(tcpHdr({ sport: 40000, dport: 443, seq: 0xfffffffe, ack: 0x80000000, flags: 0xfff, win: 1000, payload: 5 }));
    expect(r).toBe(0);
    expect([p.srcPort, p.dstPort, p.seq, p.ack, p.flags, p.window, p.hdrLenBytes]).toEqual([40000, 443, 0xfffffffe, 0x80000000, 0xfff, 1000, 20]);
    expect(p.payloadBytes).toBe(5);
    expect(p.payloadCapturedBytes).toBe(5);
  });
  it('AE is bit 0x100 (low bit of byte 12)', () => {
    const [, p] = decode(tcpHdr({ flags: 0x114 }));
    expect(p.flags & 0x100).toBe(0x100);
  });
  it('payload length comes from the IP length, captured bytes from caplen', () => {
    const h = tcpHdr({ payload: 100 });
    const [, p] = decode(h, 60, h.length);
    expect(p.payloadBytes).toBe(100);
    expect(p.payloadCapturedBytes).toBe(40);
  });
  it('refuses a data offset below 5 or past the segment', () => {
    expect(decode(tcpHdr({ hdrLen: 16 }))[0]).toBe(-1 - Reason.MALFORMED_TCP);
    expect(decode(tcpHdr({ hdrLen: 60 }))[0]).toBe(-1 - Reason.MALFORMED_TCP);
  });
  it('needs 20 captured bytes', () => {
    const h = tcpHdr({});
    expect(decode(h, 19, 20)[0]).toBe(-1 - Reason.TRUNCATED_TCP);
  });
  it('decodes options as far as the snaplen allows and sets truncated', () => {
    const h = tcpHdr({ opts: SYN_OPTS });
    const [r, p] = decode(h, 28, h.length); // MSS and SACK-permitted fit, the timestamp does not
    expect(r).toBe(0);
    expect(p.truncated).toBe(true);
    expect(p.optMalformed).toBe(false);
    expect(p.mss).toBe(1460);
    expect(p.sackPerm).toBe(true);
    expect(p.hasTimestamp).toBe(false);
    expect(p.optBytes).toBe(8);
  });
});

describe('tcp options', () => {
  it('reads MSS, SACK-permitted, unsigned timestamps, NOP, window scale in order', () => {
    const p = opts(SYN_OPTS);
    expect(Array.from(p.optKinds.subarray(0, p.optKindCount))).toEqual([2, 4, 8, 1, 3]);
    expect([p.mss, p.sackPerm, p.hasTimestamp, p.tsVal, p.tsEcr, p.wscale]).toEqual([1460, true, true, 4294923497, 0, 7]);
    expect(p.nopBytes).toBe(1);
  });
  it('finds a run of 10 NOPs where TCPOPTSTRIP removed a timestamp', () => {
    const p = opts([2, 4, 5, 0xb4, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 7]);
    expect(p.nopBytes).toBe(11);
    expect(p.nopRunMax).toBe(11);
    expect(p.nopRunAt).toBe(6);
    expect(p.hasTimestamp).toBe(false);
  });
  it('keeps the longest NOP run and its offset', () => {
    const p = opts([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 1, 0]);
    expect([p.nopRunMax, p.nopRunAt, p.nopBytes]).toEqual([3, 12, 5]);
    expect(p.eol).toBe(true);
  });
  it('reads SACK blocks', () => {
    const p = opts([1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 5]);
    expect(p.sackBlockCount).toBe(2);
    expect(Array.from(p.sackEdges.subarray(0, 4))).toEqual([10, 20, 0xfffffff0, 5]);
  });
  it('TFO: kind 34 and kind 254 with ExID 0xF989; other ExIDs are not TFO', () => {
    expect(opts([34, 2]).hasTfo).toBe(true);
    const c = opts([34, 10, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect([c.hasTfo, c.tfoCookieBytes]).toEqual([true, 8]);
    const e = opts([254, 12, 0xf9, 0x89, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect([e.hasTfo, e.tfoCookieBytes]).toEqual([true, 8]);
    expect(opts([254, 4, 0x12, 0x34]).hasTfo).toBe(false);
  });
  it('MPTCP subtype is the high nibble of the third byte', () => {
    const p = opts([30, 12, 0x01, 0x81, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect([p.hasMptcp, p.mptcpSubtype]).toEqual([true, 0]);
    expect(opts([30, 4, 0x20, 0x01]).mptcpSubtype).toBe(2);
  });
  it('records unknown kinds by number and skips them by length', () => {
    const p = opts([27, 8, 1, 2, 3, 4, 5, 6, 28, 4, 0, 10, 0, 0]);
    expect(Array.from(p.optKinds.subarray(0, p.optKindCount))).toEqual([27, 28, 0, 0]);
    expect(p.optMalformed).toBe(false);
  });
  it('a length below 2 is malformed and stops the walk', () => {
    const p = opts([2, 1, 5, 0xb4, 3, 3, 7, 0]);
    expect(p.optMalformed).toBe(true);
    expect(p.mss).toBe(-1);
    expect(p.wscale).toBe(-1);
    expect(Array.from(p.optKinds.subarray(0, p.optKindCount))).toEqual([2]);
  });
  it('an option running past the header is malformed', () => {
    const p = opts([1, 8, 10, 0, 0]);
    expect(p.optMalformed).toBe(true);
    expect(p.hasTimestamp).toBe(false);
  });
  it('a kind byte without its length byte at the end of the header is malformed', () => {
    expect(opts([1, 1, 1, 2]).optMalformed).toBe(true);
  });
  it('an option cut by the snaplen is truncation, not malformed', () => {
    const p = new TcpPacket();
    p.reset();
    const o = Uint8Array.from([2, 4, 5, 0xb4, 8, 10, 1, 2]);
    walkTcpOptions(p, view(o), 0, o.length, 16);
    expect([p.truncated, p.optMalformed, p.mss]).toEqual([true, false, 1460]);
  });
  it('wrong fixed lengths leave the value absent', () => {
    const p = opts([2, 3, 5, 3, 2, 8, 6, 1, 2, 3, 4]);
    expect([p.mss, p.wscale, p.hasTimestamp]).toEqual([-1, -1, false]);
    expect(p.optMalformed).toBe(false);
  });
  it('never records more than 40 kinds', () => {
    const p = opts(new Array(60).fill(1));
    expect(p.optKindCount).toBe(40);
    expect(p.nopRunMax).toBe(60);
  });
  void bytes;
});
