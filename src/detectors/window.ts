/** Sliding-window counts over sorted times, for "how many within one TIME_WAIT period". */

/**
 * The largest number of times (sorted ascending, µs) inside any window of `widthUsec`, and where
 * it starts. The times may come one at a time (a statement being iterated): only those inside
 * the current window are held.
 */
export function peakInWindow(sorted: Iterable<number>, widthUsec: number): { peak: number; atUsec: number | null } {
  let peak = 0;
  let at: number | null = null;
  let q: number[] = [];
  let head = 0;
  for (const t of sorted) {
    q.push(t);
    while (t - q[head] >= widthUsec) head++;
    if (q.length - head > peak) { peak = q.length - head; at = q[head]; }
    if (head > 4096 && head * 2 > q.length) { q = q.slice(head); head = 0; }
  }
  return { peak, atUsec: at };
}

/** The largest number of distinct keys among events (sorted by time) inside any window of `widthUsec`. */
export function peakDistinctInWindow(events: { t: number; key: number }[], widthUsec: number): { peak: number; atUsec: number | null } {
  const counts = new Map<number, number>();
  let peak = 0;
  let at: number | null = null;
  for (let lo = 0, hi = 0; hi < events.length; hi++) {
    counts.set(events[hi].key, (counts.get(events[hi].key) ?? 0) + 1);
    while (events[hi].t - events[lo].t >= widthUsec) {
      const k = events[lo].key;
      const n = counts.get(k)! - 1;
      if (n === 0) counts.delete(k); else counts.set(k, n);
      lo++;
    }
    if (counts.size > peak) { peak = counts.size; at = events[lo].t; }
  }
  return { peak, atUsec: at };
}
