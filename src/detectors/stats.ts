/** Small statistics helpers shared by detectors. */
import { maxOf } from './minmax.js';

/** Nearest-rank percentile (p in 0..100) of an unsorted list; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

export interface Distribution { n: number; p50Ms: number; p99Ms: number; maxMs: number }

/** p50/p99/max in milliseconds (3 decimals) of microsecond values. */
export function distributionMs(usec: number[]): Distribution {
  const r = (x: number): number => Math.round(x) / 1000;
  return { n: usec.length, p50Ms: r(percentile(usec, 50)), p99Ms: r(percentile(usec, 99)), maxMs: r(maxOf(usec, NaN)) };
}

export const fmtMs = (usec: number): string => (usec >= 10_000 ? `${(usec / 1000).toFixed(0)} ms` : `${(usec / 1000).toFixed(1)} ms`);
export const fmtS = (usec: number): string => `${(usec / 1e6).toFixed(usec < 10e6 ? 3 : 1)} s`;
/**
 * A gap between two packets: below 1 ms in ms with three decimals ("0.086 ms": a port reused
 * within one clock tick is that close), below 1 s as fmtMs, beyond as fmtS.
 */
export const fmtGap = (usec: number): string => (usec < 1000 ? `${(usec / 1000).toFixed(3)} ms` : usec < 1e6 ? fmtMs(usec) : fmtS(usec));
