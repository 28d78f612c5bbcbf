/**
 * Largest and smallest of a list by a loop. `Math.max(...xs)` passes every element as an
 * argument on the stack and throws RangeError ("Maximum call stack size exceeded") past
 * about 125 000 values on Node 20: a capture with that many retried SYNs reaches it.
 */

/** The largest value, or `empty` for an empty list. */
export function maxOf(xs: ArrayLike<number>, empty = -Infinity): number {
  if (xs.length === 0) return empty;
  let m = xs[0];
  for (let i = 1; i < xs.length; i++) if (xs[i] > m) m = xs[i];
  return m;
}

/** The smallest value, or `empty` for an empty list. */
export function minOf(xs: ArrayLike<number>, empty = Infinity): number {
  if (xs.length === 0) return empty;
  let m = xs[0];
  for (let i = 1; i < xs.length; i++) if (xs[i] < m) m = xs[i];
  return m;
}
