/** "addr:port", with IPv6 in brackets. */
export function ep(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** Runs of consecutive rows with the same key (rows already ordered by it). */
export function* runsBy<T>(rows: Iterable<T>, key: (r: T) => string): Generator<T[]> {
  // Rows may come straight from a statement being read: one run is held at a time.
  let run: T[] = [];
  let k: string | null = null;
  for (const r of rows) {
    const rk = key(r);
    if (rk !== k && run.length > 0) { yield run; run = []; }
    k = rk;
    run.push(r);
  }
  if (run.length > 0) yield run;
}

/** Up to n items of a list, for evidence that must stay readable. */
export const firstN = <T>(xs: T[], n = 10): T[] => xs.slice(0, n);
