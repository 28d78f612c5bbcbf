import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxOf, minOf } from '../../src/detectors/minmax.js';
import { distributionMs } from '../../src/detectors/stats.js';
import { isoTime } from '../../src/report/time.js';
import { hasTshark, SAMPLES } from '../helpers/pipeline.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

describe('isoTime', () => {
  it('is what Date.toISOString gives everywhere Date can show a time', () => {
    // A seeded walk over Date's whole range (+-8.64e15 ms) and the edges of each unit.
    let x = 0x2545f491;
    const rnd = (): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32; };
    const ms: number[] = [0, -1, 1, 999, -999, 86_399_999, -86_400_000, 951_782_400_000, -62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -8.64e15];
    for (let i = 0; i < 20_000; i++) ms.push(Math.floor((rnd() * 2 - 1) * 8.64e15));
    for (let i = 0; i < 5_000; i++) ms.push(Math.floor((rnd() * 2 - 1) * 4e12));
    for (const m of ms) {
      // Past 2^53 us the fraction is left out; compare the whole seconds there.
      const want = new Date(m).toISOString();
      const got = isoTime(m * 1000 + 123);
      expect(got).toBe(Math.abs(m * 1000) > Number.MAX_SAFE_INTEGER ? want.replace(/\.\d{3}Z$/, 'Z') : want);
    }
  });

  it('never throws: null, infinities, NaN and times past whole seconds print raw', () => {
    expect(isoTime(null)).toBe('-');
    expect(isoTime(Infinity)).toBe('Infinity s since the epoch');
    expect(isoTime(NaN)).toBe('NaN s since the epoch');
    // 2^64 s (a 64-bit pcapng timestamp counting seconds, if_tsresol 0): no exact seconds in a double.
    expect(isoTime(2 ** 64 * 1e6)).toBe('18446744073709552000 s since the epoch');
    expect(isoTime(2 ** 71)).toMatch(/^\+\d{6,}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it.skipIf(!hasTshark())('shows the date tshark shows for packets at 1.8e13 s (year 586524)', () => {
    const f = join(SAMPLES, 'corpus', 'pcapplusplus-pcapng-example-tsresol9.pcapng');
    const out = execFileSync('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.time'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, TZ: 'UTC' } });
    let beyond = 0;
    for (const line of out.trim().split('\n')) {
      const [epoch, shown] = line.split('\t');
      // tshark: "Jan 19, 586524 07:53:24.126329000 UTC"
      const m = /^(\w{3}) +(\d+), (\d+) (\d\d:\d\d:\d\d)\.(\d+)/.exec(shown)!;
      const [sec, frac] = epoch.split('.');
      const usec = Number(sec) * 1e6 + Number(frac.slice(0, 6));
      const got = isoTime(usec);
      const ymd = `${m[3].padStart(4, '0')}-${String(MONTHS.indexOf(m[1]) + 1).padStart(2, '0')}-${m[2].padStart(2, '0')}T${m[4]}`;
      expect(got.replace(/^\+0*/, '')).toMatch(new RegExp(`^${ymd}(\\.${m[5].slice(0, 3)})?Z$`));
      if (Number(sec) > 8.64e12) beyond++;
    }
    expect(beyond).toBeGreaterThan(0);
  });
});

describe('maxOf / minOf', () => {
  it('handle lists far past the argument-count limit of Math.max(...xs)', () => {
    const xs = Array.from({ length: 500_000 }, (_, i) => (i * 7919) % 500_009);
    expect(() => Math.max(...xs)).toThrow(RangeError);
    let hi = -Infinity, lo = Infinity;
    for (const v of xs) { if (v > hi) hi = v; if (v < lo) lo = v; }
    expect(maxOf(xs)).toBe(hi);
    expect(minOf(xs)).toBe(lo);
    expect(maxOf([])).toBe(-Infinity);
    expect(minOf([], 7)).toBe(7);
    expect(distributionMs(xs).maxMs).toBe(Math.round(hi) / 1000);
  });
});
