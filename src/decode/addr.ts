/**
 * Address formatting from the 32-bit words a TcpPacket holds. Called once per
 * connection or printed line, never per packet in the hot path.
 * (Written by the flows side; the signature formatAddress(version, w0..w3) is relied on.)
 */

/** IPv4 dotted quad from word 3, or IPv6 text per RFC 5952 (lower case, longest zero run compressed). */
export function formatAddress(version: 4 | 6, w0: number, w1: number, w2: number, w3: number): string {
  if (version === 4) return `${w3 >>> 24}.${(w3 >>> 16) & 255}.${(w3 >>> 8) & 255}.${w3 & 255}`;
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first if tied.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** "addr:port", with IPv6 in brackets. */
export function formatEndpoint(version: 4 | 6, addr: string, port: number): string {
  return version === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}
