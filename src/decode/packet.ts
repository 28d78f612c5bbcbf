/**
 * The one TCP packet record a decoder owns and overwrites for every frame.
 *
 * Consumers (src/flows) read fields during the callback and copy what they keep:
 * the record and `buf` are only valid until the callback returns. Addresses are
 * kept as 32-bit words, not strings, so the hot path allocates nothing; format
 * them with src/decode/addr.ts when a connection is first seen.
 */

/** TCP flag bits as in the header's 12 low bits of bytes 12-13 (RFC 9293 §3.1, RFC 3168, RFC 3540). */
export const FIN = 0x001;
export const SYN = 0x002;
export const RST = 0x004;
export const PSH = 0x008;
export const ACK = 0x010;
export const URG = 0x020;
export const ECE = 0x040;
export const CWR = 0x080;
/** RFC 3540 nonce sum / AccECN "AE" bit. */
export const AE = 0x100;

/**
 * TCP option kinds (IANA "TCP Option Kind Numbers"). A const enum, so tsc
 * writes the numbers into the option walk: V8 loads and checks an exported
 * const from its module cell at every use, and the walk uses them per byte.
 */
export const enum TcpOpt {
  EOL = 0,
  NOP = 1,
  MSS = 2,
  WSCALE = 3,
  SACK_PERM = 4,
  SACK = 5,
  TIMESTAMP = 8,
  MPTCP = 30,
  TFO = 34,
  /** RFC 6994 experimental; TFO before kind 34 used ExID 0xF989 here. */
  EXP = 254,
}

/** Sizes of the option arrays of a TcpPacket (a const enum for the same reason). */
export const enum TcpOptLimit {
  /** At most 4 SACK blocks fit in 40 option bytes (RFC 2018 §3). */
  SACK_BLOCKS = 4,
  /** 40 option bytes, so at most 40 option kinds. */
  KINDS = 40,
}

/** Encapsulations recorded per packet (outermost first); deeper ones are counted in tunnelCount only. */
export const enum TunnelLimit {
  LAYERS = 4,
  /** Words per layer in TcpPacket.tunnels: kind, id, flags, outer IP version, outer src0..3, dst0..3. */
  WORDS = 12,
}

/** Encapsulation kinds (tunnel.ts), as stored in TcpPacket.tunnels. */
export const enum TunnelKind {
  VXLAN = 1,
  GENEVE = 2,
  GRE = 3,
  /** GRE version 1, PPTP's enhanced GRE carrying PPP (RFC 2637 §4.1). */
  PPTP = 4,
  ERSPAN1 = 5,
  ERSPAN2 = 6,
  ERSPAN3 = 7,
  /** IPv4 inside IP (protocol 4, RFC 2003). */
  IP4 = 8,
  /** IPv6 inside IP (protocol 41, RFC 4213 for IPv4 outside). */
  IP6 = 9,
  MPLS = 10,
  PPPOE = 11,
}

/** TcpPacket.tunnels flags word: bit 0 the id is valid; bits 8-15 MPLS's stack depth; bits 16-31 the UDP port a VXLAN or Geneve layer was recognised by. */
export const TUNNEL_HAS_ID = 1;
/** The flags word's shift to the UDP port (tunnelText.ts tunnelVxlanPort reads it). */
export const TUNNEL_PORT_SHIFT = 16;

const EMPTY = new Uint8Array(0);

export class TcpPacket {
  /** 1-based frame number over the whole file, as Wireshark numbers frames. */
  frame = 0;
  /** Byte offset in the (decompressed) capture of the record header. */
  fileOffset = 0;
  /** Seconds since the epoch and nanoseconds within it; tsUsec for arithmetic. */
  tsSec = 0;
  tsNsec = 0;
  tsUsec = 0;
  capLenBytes = 0;
  origLenBytes = 0;
  linkType = 0;
  /** pcapng interface id (0 for classic pcap). */
  iface = 0;
  /** The record's bytes (the reader's chunk buffer) and where the IP and TCP headers start in it. */
  buf: Uint8Array = EMPTY;
  ipAt = 0;
  tcpAt = 0;

  /**
   * Encapsulations the TCP packet was found inside, outermost first: tunnelCount of
   * them (at most TunnelLimit.LAYERS recorded), TunnelLimit.WORDS words each (see
   * there); the outer addresses are those of the IP header in front of the tunnel
   * (none for MPLS and PPPoE). 0 for a plain packet: the decoder sets it per frame.
   */
  tunnelCount = 0;
  readonly tunnels = new Uint32Array(TunnelLimit.LAYERS * TunnelLimit.WORDS);

  ipVersion: 4 | 6 = 4;
  /** IPv4: word 3 holds the address and words 0-2 are 0. IPv6: four big-endian words. */
  src0 = 0; src1 = 0; src2 = 0; src3 = 0;
  dst0 = 0; dst1 = 0; dst2 = 0; dst3 = 0;
  ipTtl = 0; // hop limit for IPv6
  ipId = 0; // IPv4 identification; IPv6: 0
  /** IPv4 DF bit; IPv6: false. */
  ipDontFragment = false;

  srcPort = 0;
  dstPort = 0;
  seq = 0; // unsigned 32-bit
  ack = 0; // unsigned 32-bit
  hdrLenBytes = 0;
  /** FIN..AE bits above, plus the three reserved bits (0xe00) as sent: the header's low 12 bits of bytes 12-13. */
  flags = 0;
  window = 0; // raw field, unscaled
  checksum = 0;
  urgentPtr = 0;
  /** TCP payload length from the IP length fields (not from caplen). */
  payloadBytes = 0;
  /** Payload bytes present in the capture (less than payloadBytes when snaplen cut it). */
  payloadCapturedBytes = 0;
  /**
   * The record was cut by the snaplen (capLenBytes < origLenBytes), or the TCP header was:
   * option fields may be incomplete when optBytes < hdrLenBytes - 20; see payloadCapturedBytes for the payload.
   */
  truncated = false;

  // ---- options (RFC 9293 §3.2, RFC 7323, RFC 2018, RFC 7413, RFC 8684) ----
  /** Byte length of the option area actually present (<= hdrLenBytes - 20). */
  optBytes = 0;
  /** Option kinds in order, NOPs included; optKindCount entries are valid. */
  readonly optKinds = new Uint8Array(TcpOptLimit.KINDS);
  optKindCount = 0;
  mss = -1; // -1: absent
  wscale = -1; // shift as sent (not clamped); -1: absent
  sackPerm = false;
  hasTimestamp = false;
  tsVal = 0;
  tsEcr = 0;
  sackBlockCount = 0;
  /** left,right pairs; sackBlockCount pairs are valid. */
  readonly sackEdges = new Float64Array(TcpOptLimit.SACK_BLOCKS * 2);
  /** Fast Open: kind 34, or kind 254 with ExID 0xF989. */
  hasTfo = false;
  tfoCookieBytes = 0;
  hasMptcp = false;
  mptcpSubtype = -1;
  /** Total NOP bytes, the longest run of consecutive NOPs and its offset within the options. */
  nopBytes = 0;
  nopRunMax = 0;
  nopRunAt = -1;
  eol = false;
  /** An option's length byte was < 2 or ran past the header. */
  optMalformed = false;

  /**
   * Zero every per-packet field. The decoder does not call it per frame:
   * ipv4()/ipv6(), tcp() and the option walk between them set every field
   * below (a per-frame reset was measurable in bench/decode.mjs).
   */
  reset(): void {
    this.ipId = 0; this.ipDontFragment = false;
    this.src0 = this.src1 = this.src2 = this.src3 = 0;
    this.dst0 = this.dst1 = this.dst2 = this.dst3 = 0;
    this.truncated = false;
    this.clearOptions();
    this.payloadBytes = 0; this.payloadCapturedBytes = 0;
  }

  /** The option fields of a header without options. */
  clearOptions(): void {
    this.optBytes = 0; this.optKindCount = 0;
    this.mss = -1; this.wscale = -1; this.sackPerm = false;
    this.hasTimestamp = false; this.tsVal = 0; this.tsEcr = 0;
    this.sackBlockCount = 0;
    this.hasTfo = false; this.tfoCookieBytes = 0;
    this.hasMptcp = false; this.mptcpSubtype = -1;
    this.nopBytes = 0; this.nopRunMax = 0; this.nopRunAt = -1;
    this.eol = false; this.optMalformed = false;
  }
}
