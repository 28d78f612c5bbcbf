import { describe, expect, it } from 'vitest';
import { distributionMs, percentile } from '../../src/detectors/stats.js';

/** Nearest-rank percentiles (the smallest value with at least p% of the values at or below it). */
describe('distributions', () => {
  it('nearest rank on 1..100 µs and on one value', () => {
    const xs = Array.from({ length: 100 }, (_, i) => (100 - i) * 1000);
    expect(distributionMs(xs)).toEqual({ n: 100, p50Ms: 50, p99Ms: 99, maxMs: 100 });
    expect(distributionMs([1234])).toEqual({ n: 1, p50Ms: 1.234, p99Ms: 1.234, maxMs: 1.234 });
    expect(distributionMs([]).n).toBe(0);
    expect(Number.isNaN(distributionMs([]).p50Ms)).toBe(true);
  });

  it('p50 and p99 from one sort equal percentile() on 500 seeded lists', () => {
    let seed = 7;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
    for (let t = 0; t < 500; t++) {
      const xs = Array.from({ length: 1 + Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 5e6));
      const d = distributionMs(xs);
      expect([d.p50Ms, d.p99Ms, d.maxMs]).toEqual([percentile(xs, 50), percentile(xs, 99), Math.max(...xs)].map((x) => Math.round(x) / 1000));
    }
  });
});
