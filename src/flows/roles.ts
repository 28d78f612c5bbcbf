/**
 * Who is the server when no SYN was captured (a capture that starts mid-connection).
 * The guess is stored as inferred so that reports never present it as fact.
 *
 * Order of evidence: a well-known port (< 1024) against an unprivileged one; a port
 * outside the common ephemeral ranges (Linux 32768-60999, IANA/Windows 49152-65535)
 * against one inside them; otherwise the lower port, as listening ports usually are.
 */
const isEphemeral = (p: number): boolean => p >= 32768;

/** True when endpoint A (port a) is more likely the server than endpoint B (port b). */
export function aLooksLikeServer(a: number, b: number): boolean {
  if (a < 1024 !== b < 1024) return a < 1024;
  if (isEphemeral(a) !== isEphemeral(b)) return !isEphemeral(a);
  return a <= b;
}
