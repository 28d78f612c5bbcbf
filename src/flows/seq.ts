/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4; the kernel's before()/after()).
 * Sequence numbers are kept as unsigned 32-bit JS numbers.
 */

/** a is before b in modulo-2^32 space. */
export const seqBefore = (a: number, b: number): boolean => ((a - b) | 0) < 0;

/** a is after b in modulo-2^32 space. */
export const seqAfter = (a: number, b: number): boolean => ((b - a) | 0) < 0;

/** a + n, wrapped to an unsigned 32-bit number. */
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;

/** Signed distance b - a, in (-2^31, 2^31]. */
export const seqDiff = (a: number, b: number): number => (b - a) | 0;
