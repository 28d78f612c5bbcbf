/**
 * Why a frame was not handed on as a TCP packet. Counted, never thrown: a bad
 * packet in a good record is a "weird" in Zeek's sense (weird.log).
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
  /** A tunnel or label stack whose payload is not decoded (a GRE protocol, Geneve protocol, ERSPAN frame type or MPLS payload other than IP/Ethernet). */
  TUNNEL_UNKNOWN = 10,
  /** The capture ends inside a tunnel header. */
  TRUNCATED_TUNNEL = 11,
  /** More nested tunnels than MAX_TUNNEL_DEPTH (tunnel.ts): a loop in crafted input, not traffic. */
  TUNNEL_DEPTH = 12,
  /** An EtherType that is neither IP, a tunnel tcpdiag decodes, nor a known non-IP protocol (NON_IP). */
  UNKNOWN_ETHERTYPE = 13,
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
  'unknown-tunnel',
  'truncated-tunnel',
  'tunnel-depth',
  'unknown-ethertype',
];

/**
 * Skip reasons that mean tcpdiag could not decode the frame (as opposed to
 * frames decoded and found not to be TCP: 'non-tcp', pcapng non-packet blocks).
 * Link types it does not decode ('linktype:N') are in this class too.
 */
export function undecodable(reason: string): boolean {
  return reason.startsWith('linktype:') || (reason !== 'non-tcp' && reason !== 'non-ip' && reason !== 'non-packet-block');
}

/**
 * EtherTypes of protocols that are not IP and carry no TCP (counted as 'non-ip', like
 * 'non-tcp': decoded, just not TCP): an 802.3 length field (LLC: STP, CDP...), ARP, RARP,
 * Wake-on-LAN, EAPOL, slow protocols (LACP), LLDP, PTP, PPPoE discovery, Ethernet loopback.
 * Any other is 'unknown-ethertype': frames tcpdiag could not decode.
 */
export function knownNonIp(etherType: number): boolean {
  if (etherType < 0 || etherType <= 1500) return true;
  switch (etherType) {
    case 0x0806: case 0x8035: case 0x0842: case 0x888e: case 0x8809: case 0x88cc: case 0x88f7: case 0x8863: case 0x9000:
      return true;
    default:
      return false;
  }
}
