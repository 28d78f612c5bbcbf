/**
 * Why a frame was not handed on as a TCP packet. Counted, never thrown: a bad
 * packet in a good record is a "weird" in Zeek's sense (STYLE.md §8).
 * Frames of a link type tcpdiag does not decode are counted separately, as
 * `linktype:N`. A const enum, so the decoder gets plain numbers (see TcpOpt
 * in packet.ts).
 */
export const enum Reason {
  NON_IP = 0,
  NON_TCP = 1,
  IPV4_FRAGMENT = 2,
  IPV6_FRAGMENT = 3,
  TRUNCATED_LINK = 4,
  TRUNCATED_IP = 5,
  TRUNCATED_TCP = 6,
  MALFORMED_IP = 7,
  MALFORMED_TCP = 8,
  /** pcapng custom / journal blocks: Wireshark numbers them as frames, they hold no packet. */
  NON_PACKET = 9,
}

/** By Reason, in order. */
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
