/** Small statistics helpers shared by detectors. */

/** The nearest-rank percentile's place (0-based) among n sorted values: the one rule for every percentile tcpdiag prints. */
export const rankIndex = (n: number, p: number): number => Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));

/** The nearest-rank percentile p of sorted values (NaN for none). */
const atRank = (sorted: ArrayLike<number>, p: number): number => (sorted.length === 0 ? NaN : sorted[rankIndex(sorted.length, p)]);

/** Nearest-rank percentile (p in 0..100) of an unsorted list; NaN when empty. */

export function percentile(values: number[], p: number): number {
  return atRank([...values].sort((a, b) => a - b), p);
}

export interface Distribution { n: number; p50Ms: number; p99Ms: number; maxMs: number }

/**
 * p50/p99/max in milliseconds (3 decimals) of microsecond values, from one sort of a typed copy
 * (8 bytes a value): syn-retransmit's 688 000 values on the 41 M-packet bench capture were
 * copied and sorted once per percentile, +26 MB of peak RSS between 10 M and 41 M packets.
 */
export function distributionMs(usec: number[]): Distribution {
  const r = (x: number): number => Math.round(x) / 1000;
  const sorted = Float64Array.from(usec).sort();
  return { n: usec.length, p50Ms: r(atRank(sorted, 50)), p99Ms: r(atRank(sorted, 99)), maxMs: r(usec.length ? sorted[sorted.length - 1] : NaN) };
}

export const fmtMs = (usec: number): string => (usec >= 10_000 ? `${(usec / 1000).toFixed(0)} ms` : `${(usec / 1000).toFixed(1)} ms`);
export const fmtS = (usec: number): string => `${(usec / 1e6).toFixed(usec < 10e6 ? 3 : 1)} s`;
/**
 * A gap between two packets: below 1 ms in ms with three decimals ("0.086 ms": a port reused
 * within one clock tick is that close), below 1 s as fmtMs, beyond as fmtS.
 */
export const fmtGap = (usec: number): string => (usec < 1000 ? `${(usec / 1000).toFixed(3)} ms` : usec < 1e6 ? fmtMs(usec) : fmtS(usec));
