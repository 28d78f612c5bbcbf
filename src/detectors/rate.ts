/**
 * New-connection rates, measured the one way every detector and report compares them with
 * what a port range sustains: over the busiest window of one TIME_WAIT period (or the whole
 * span when shorter), and only over at least MIN_RATE_WINDOW_USEC. Shorter spans are a burst:
 * 40 connections in 5 ms say nothing about a rate per second, so they are reported as
 * "N in X ms", never extrapolated.
 *
 * N events from the first to the last are N - 1 intervals: the rate is (N - 1) / span, the span
 * being the first to the last of those N (10 SYNs 1 s apart span 9 s: 1/s, not 10/9 s). Every
 * rate a report prints comes from perSecond() and is printed by rateText(), whose span has the
 * digits a reader needs to divide and get the printed rate.
 */

export const MIN_RATE_WINDOW_USEC = 1e6;

/** A rate at or above this share of the sustainable one is "close to" it (and hot enough to report). */
export const CLOSE_TO_SHARE = 0.5;

/**
 * rate: `connections` events whose first and last are `spanUsec` apart, inside the busiest window
 * of `windowUsec` searched; perS = (connections - 1) / spanUsec. burst: `connections` in under
 * MIN_RATE_WINDOW_USEC.
 */
export type RateFact =
  | { kind: 'rate'; perS: number; windowUsec: number; spanUsec: number; connections: number }
  | { kind: 'burst'; connections: number; spanUsec: number };

export type RateComparison = 'above' | 'close-to' | 'below';

/** Events per second of `n` events whose first and last are `spanUsec` apart: n - 1 intervals. */
export const perSecond = (n: number, spanUsec: number): number => (n - 1) / (spanUsec / 1e6);

/**
 * The rate of the busiest window of min(timeWait, span) among SYN times (sorted ascending, µs):
 * the most events inside one window, over the span from the first of them to the last.
 */
export function peakRate(sorted: number[], timeWaitUsec: number): RateFact {
  const n = sorted.length;
  const total = n > 0 ? sorted[n - 1] - sorted[0] : 0;
  if (total < MIN_RATE_WINDOW_USEC) return { kind: 'burst', connections: n, spanUsec: total };
  const window = Math.min(timeWaitUsec, total);
  let most = 0, first = 0, last = 0;
  for (let lo = 0, hi = 0; hi < n; hi++) {
    while (sorted[hi] - sorted[lo] > window) lo++;
    if (hi - lo + 1 > most) { most = hi - lo + 1; first = lo; last = hi; }
  }
  const span = sorted[last] - sorted[first];
  // The busiest window's events all within a moment (a burst, then silence): a burst, not a rate.
  if (span < MIN_RATE_WINDOW_USEC) return { kind: 'burst', connections: most, spanUsec: span };
  return { kind: 'rate', perS: perSecond(most, span), windowUsec: window, spanUsec: span, connections: most };
}

/** The rate over all of the times (sorted ascending, µs), first to last: one window as long as their span. */
export const spanRate = (sorted: number[]): RateFact => peakRate(sorted, Infinity);

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

/** A rate as printed: one decimal below 10/s, whole numbers above. */
export const rateNumber = (perS: number): string => (perS < 10 ? perS.toFixed(1) : perS.toFixed(0));

/**
 * The span of a rate in seconds with the fewest decimals (at least one) from which
 * (connections - 1) / span rounds to the printed rate: 299 intervals over 1.211302 s are 247/s,
 * and "1.2 s" would divide to 249.
 */
export function rateSpanText(r: { perS: number; spanUsec: number; connections: number }): string {
  const want = rateNumber(r.perS);
  for (let d = 1; d < 6; d++) {
    const t = (r.spanUsec / 1e6).toFixed(d);
    if (rateNumber(perSecond(r.connections, Number(t) * 1e6)) === want) return t;
  }
  return (r.spanUsec / 1e6).toFixed(6);
}

/** "2.6/s, 87 intervals between 88 connections in 33.34 s" or "a burst of 40 in 5.0 ms". */
export function rateText(r: RateFact, noun = 'connections'): string {
  if (r.kind === 'burst') return `a burst of ${r.connections} in ${fmtDur(r.spanUsec)}`;
  return `${rateNumber(r.perS)}/s, ${r.connections - 1} interval${r.connections === 2 ? '' : 's'} between ${r.connections} ${noun} in ${rateSpanText(r)} s`;
}

/** "above" / "close to" / "below", as words. */
export const comparisonText = (c: RateComparison): string => (c === 'close-to' ? 'close to' : c);
