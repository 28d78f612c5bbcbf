/**
 * Why a frame was not handed on as a TCP packet. Counted, never thrown: a bad
 * packet in a good record is a "weird" in Zeek's sense (STYLE.md §8).
 * Frames of a link type tcpdiag does not decode are counted separately, as
 * `linktype:N`.
 */
export const R_NON_IP = 0;
export const R_NON_TCP = 1;
export const R_IPV4_FRAGMENT = 2;
export const R_IPV6_FRAGMENT = 3;
export const R_TRUNCATED_LINK = 4;
export const R_TRUNCATED_IP = 5;
export const R_TRUNCATED_TCP = 6;
export const R_MALFORMED_IP = 7;
export const R_MALFORMED_TCP = 8;
/** pcapng custom / journal blocks: Wireshark numbers them as frames, they hold no packet. */
export const R_NON_PACKET = 9;

export const REASON_NAMES: readonly string[] = [
  'non-ip',
  'non-tcp',
  'ipv4-fragment',
  'ipv6-fragment',
  'truncated-link',
  'truncated-ip',
  'truncated-tcp',
  'malformed-ip',
  'malformed-tcp',
  'non-packet-block',
];
