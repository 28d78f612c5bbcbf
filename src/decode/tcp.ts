/**
 * TCP header (RFC 9293 §3.1) into the packet record. Returns 0, or -1 - reason
 * when there is no usable header. A header cut by the snaplen is still decoded
 * as far as the bytes go, with `truncated` set, as Wireshark dissects a short frame.
 */
import type { TcpPacket } from './packet.js';
import { Reason } from './reasons.js';
import { noTcpOptions, walkTcpOptions } from './tcpOptions.js';

/**
 * @param capEnd end of the captured bytes of this frame
 * @param l4End end of the TCP segment by the IP length fields (may exceed capEnd)
 */
export function tcp(pkt: TcpPacket, v: DataView, at: number, capEnd: number, l4End: number): number {
  if (l4End < at + 20) return -1 - Reason.MALFORMED_TCP;
  if (capEnd < at + 20) return -1 - Reason.TRUNCATED_TCP;
  pkt.srcPort = v.getUint16(at);
  pkt.dstPort = v.getUint16(at + 2);
  pkt.seq = v.getUint32(at + 4);
  pkt.ack = v.getUint32(at + 8);
  const b12 = v.getUint8(at + 12);
  const hdr = (b12 >> 4) * 4;
  pkt.hdrLenBytes = hdr;
  // All 12 bits: the 8 classic flags, AE (0x100, RFC 3540 / AccECN) and the
  // three reserved bits, which tshark also shows in tcp.flags.
  pkt.flags = ((b12 & 0x0f) << 8) | v.getUint8(at + 13);
  pkt.window = v.getUint16(at + 14);
  pkt.checksum = v.getUint16(at + 16);
  pkt.urgentPtr = v.getUint16(at + 18);
  // Data offset < 5 or past the segment: tshark marks "bogus header length"
  // and shows no options or payload; there is nothing a flow can trust.
  if (hdr < 20 || at + hdr > l4End) return -1 - Reason.MALFORMED_TCP;
  const hdrEnd = at + hdr;
  const capL4End = capEnd < l4End ? capEnd : l4End;
  pkt.payloadBytes = l4End - hdrEnd;
  pkt.payloadCapturedBytes = capL4End > hdrEnd ? capL4End - hdrEnd : 0;
  // Either call sets every option field, so the decoder does not reset them per packet.
  if (hdr > 20) walkTcpOptions(pkt, v, at + 20, hdrEnd < capL4End ? hdrEnd : capL4End, hdrEnd);
  else noTcpOptions(pkt);
  if (hdrEnd > capL4End) pkt.truncated = true;
  return 0;
}
