/** pcapng timestamps: exact seconds + ns from 64-bit unit counts for if_tsresol 10^-k and 2^-k, with if_tsoffset. */
import { describe, expect, it } from 'vitest';
import { SecNsec, TimeScale, toSecNsec } from '../../src/decode/timestamp.js';

/** Reference with BigInt (the test may allocate; the decoder must not). */
function ref(tsresol: number, hi: number, lo: number, offset = 0): [number, number] {
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  const d = tsresol & 0x80 ? 2n ** BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
  return [Number(v / d) + offset, Number(((v % d) * 1000000000n) / d)];
}

function conv(tsresol: number, hi: number, lo: number, offset = 0): [number, number] {
  const o = new SecNsec();
  toSecNsec(o, new TimeScale(tsresol, offset), hi, lo);
  return [o.sec, o.nsec];
}

let seed = 12345;
const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed; };

describe('pcapng timestamps', () => {
  it('if_tsresol 9: 1545562209.891237123 from its ns count (beyond 2^53)', () => {
    const ns = 1545562209891237123n;
    expect(conv(9, Number(ns >> 32n), Number(ns & 0xffffffffn))).toEqual([1545562209, 891237123]);
  });
  it('if_tsresol 6 (the default)', () => {
    const us = 1258589770049012n;
    expect(conv(6, Number(us >> 32n), Number(us & 0xffffffffn))).toEqual([1258589770, 49012000]);
  });
  it('matches BigInt arithmetic for powers of 10 and of 2, random values', () => {
    for (const r of [0, 3, 6, 9, 12, 0x80 | 10, 0x80 | 20, 0x80 | 30, 0x80 | 32, 0x80 | 40, 0x80 | 5]) {
      for (let i = 0; i < 300; i++) {
        const hi = rnd() % (r === 0 ? 1 : 0x7fffff);
        const lo = rnd();
        const [s, n] = conv(r, hi, lo);
        const [rs, rn] = ref(r, hi, lo);
        expect(s).toBe(rs);
        // Below 2^-32 s the 2^-k path keeps 32 fractional bits: at most 1 ns off.
        expect(Math.abs(n - rn)).toBeLessThanOrEqual(r === (0x80 | 40) ? 1 : 0);
      }
    }
  });
  it('exact where one division serves (below 2^52 units) and where long division takes over', () => {
    for (const r of [1, 3, 6, 7, 9, 10]) {
      const d = 10n ** BigInt(r);
      // Just below a whole second, where a rounded-up quotient shows, near 2^52 and on both sides of it.
      for (const units of [(2n ** 52n / d) * d - 1n, 2n ** 52n - 1n, 2n ** 52n, 2n ** 52n + 1n, (2n ** 52n / d + 1n) * d - 1n, d * 1700000000n - 1n]) {
        const hi = Number(units >> 32n);
        const lo = Number(units & 0xffffffffn);
        expect(conv(r, hi, lo)).toEqual(ref(r, hi, lo));
      }
    }
  });
  it('one TimeScale over a sequence (same second, next second, back in time) gives what BigInt gives', () => {
    for (const r of [3, 6, 9]) {
      const scale = new TimeScale(r);
      const o = new SecNsec();
      const d = 10n ** BigInt(r);
      let units = 1700000000n * d + d - 3n;
      for (let i = 0; i < 2000; i++) {
        // Mostly small steps forward, now and then a jump back or over several seconds.
        const step = i % 97 === 0 ? -d * 2n - 7n : i % 89 === 0 ? d * 5n + 1n : BigInt(rnd() % 1000) * (d / 1000n);
        units += step;
        const hi = Number(units >> 32n);
        const lo = Number(units & 0xffffffffn);
        toSecNsec(o, scale, hi, lo);
        expect([o.sec, o.nsec]).toEqual(ref(r, hi, lo));
      }
    }
  });
  it('if_tsoffset adds whole seconds, negative too', () => {
    expect(conv(6, 0, 1500000, 1000)).toEqual([1001, 500000000]);
    expect(conv(6, 0, 1500000, -1)).toEqual([0, 500000000]);
  });
});
