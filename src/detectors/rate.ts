/**
 * New-connection rates, measured the one way every detector and report compares them with
 * what a port range sustains: over the busiest window of one TIME_WAIT period (or the whole
 * span when shorter), and only over at least MIN_RATE_WINDOW_USEC. Shorter spans are a burst:
 * 40 connections in 5 ms say nothing about a rate per second, so they are reported as
 * "N in X ms", never extrapolated.
 */

export const MIN_RATE_WINDOW_USEC = 1e6;

/** A rate at or above this share of the sustainable one is "close to" it (and hot enough to report). */
export const CLOSE_TO_SHARE = 0.5;

export type RateFact =
  | { kind: 'rate'; perS: number; windowUsec: number; connections: number }
  | { kind: 'burst'; connections: number; spanUsec: number };

export type RateComparison = 'above' | 'close-to' | 'below';

/** The peak rate of SYN times (sorted ascending, µs) in any window of min(timeWait, span). */
export function peakRate(sorted: number[], timeWaitUsec: number): RateFact {
  const n = sorted.length;
  const span = n > 0 ? sorted[n - 1] - sorted[0] : 0;
  if (span < MIN_RATE_WINDOW_USEC) return { kind: 'burst', connections: n, spanUsec: span };
  const window = Math.min(timeWaitUsec, span);
  let most = 0;
  for (let lo = 0, hi = 0; hi < n; hi++) {
    while (sorted[hi] - sorted[lo] > window) lo++;
    if (hi - lo + 1 > most) most = hi - lo + 1;
  }
  return { kind: 'rate', perS: most / (window / 1e6), windowUsec: window, connections: most };
}

/** How a measured rate compares with a sustainable one; null for a burst (nothing to compare). */
export function compareRate(r: RateFact, sustainablePerS: number): RateComparison | null {
  if (r.kind === 'burst' || !(sustainablePerS > 0)) return null;
  if (r.perS >= sustainablePerS) return 'above';
  if (r.perS >= CLOSE_TO_SHARE * sustainablePerS) return 'close-to';
  return 'below';
}

/** A rate above or close to what the range sustains: the "hot" rule, here only. */
export const isHot = (r: RateFact, sustainablePerS: number): boolean => {
  const c = compareRate(r, sustainablePerS);
  return c === 'above' || c === 'close-to';
};

const fmtDur = (usec: number): string => (usec < 1e6 ? `${(usec / 1000).toFixed(usec < 10_000 ? 1 : 0)} ms` : `${(usec / 1e6).toFixed(1)} s`);

/** "121/s over 0.8 s" or "a burst of 40 in 5.0 ms". */
export function rateText(r: RateFact): string {
  if (r.kind === 'burst') return `a burst of ${r.connections} in ${fmtDur(r.spanUsec)}`;
  return `${r.perS < 10 ? r.perS.toFixed(1) : r.perS.toFixed(0)}/s over ${fmtDur(r.windowUsec)}`;
}

/** "above" / "close to" / "below", as words. */
export const comparisonText = (c: RateComparison): string => (c === 'close-to' ? 'close to' : c);
