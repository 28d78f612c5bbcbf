/** "addr:port", with IPv6 in brackets. */
export function ep(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** Up to n items of a list, for evidence that must stay readable. */
export const firstN = <T>(xs: T[], n = 10): T[] => xs.slice(0, n);
