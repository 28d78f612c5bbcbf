/**
 * Who usually closes first, the one rule: the active closer (first FIN) holds TIME_WAIT
 * (RFC 9293 §3.6). A side is "the usual closer" when it sent the first FIN on more than half of
 * at least MIN_CLOSED closed connections; fewer say nothing.
 */
export const MIN_CLOSED = 5;
const MOSTLY = 0.5;

export type Closer = 'server' | 'client';

/** The side that usually closes first, or null when the evidence cannot tell. */
export function usualCloser(closed: number, serverFirst: number): Closer | null {
  if (closed < MIN_CLOSED) return null;
  const share = serverFirst / closed;
  if (share > MOSTLY) return 'server';
  if (share < 1 - MOSTLY) return 'client';
  return null;
}
