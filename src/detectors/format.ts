/** "addr:port", with IPv6 in brackets. */
export function ep(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** Runs of consecutive rows with the same key (rows already ordered by it). */
export function* runsBy<T>(rows: T[], key: (r: T) => string): Generator<T[]> {
  for (let i = 0; i < rows.length;) {
    const k = key(rows[i]);
    let j = i + 1;
    while (j < rows.length && key(rows[j]) === k) j++;
    yield rows.slice(i, j);
    i = j;
  }
}

/** Up to n items of a list, for evidence that must stay readable. */
export const firstN = <T>(xs: T[], n = 10): T[] => xs.slice(0, n);
