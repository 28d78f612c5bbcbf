/**
 * Text for one TCP packet, in tcpdump's vocabulary (flags "[S.]", options
 * "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7") so a line can be checked
 * against `tcpdump -r` by eye. Used by `tcpdiag decode`; not in the hot path of
 * analysis.
 */
import { formatAddress, formatEndpoint } from './addr.js';
import { ACK, AE, CWR, ECE, FIN, PSH, RST, SYN, TcpOpt, URG, type TcpPacket } from './packet.js';

/** tcpdump's letters, in its order (print-tcp.c tcp_flag_values); AE as "e". */
export function formatFlags(flags: number): string {
  let s = '';
  if (flags & FIN) s += 'F';
  if (flags & SYN) s += 'S';
  if (flags & RST) s += 'R';
  if (flags & PSH) s += 'P';
  if (flags & ACK) s += '.';
  if (flags & URG) s += 'U';
  if (flags & ECE) s += 'E';
  if (flags & CWR) s += 'W';
  if (flags & AE) s += 'e';
  return s === '' ? 'none' : s;
}

/** RFC 8684 §3 subtype names, as tcpdump prints them. */
const MPTCP_SUBTYPES = ['capable', 'join', 'dss', 'add-addr', 'remove-addr', 'prio', 'fail', 'fast-close', 'tcprst'];

export function formatOptions(p: TcpPacket): string {
  const parts: string[] = [];
  for (let i = 0; i < p.optKindCount; i++) {
    const k = p.optKinds[i];
    switch (k) {
      case TcpOpt.NOP: parts.push('nop'); break;
      case TcpOpt.EOL: parts.push('eol'); break;
      case TcpOpt.MSS: parts.push(p.mss >= 0 ? `mss ${p.mss}` : 'mss ?'); break;
      case TcpOpt.WSCALE: parts.push(p.wscale >= 0 ? `wscale ${p.wscale}` : 'wscale ?'); break;
      case TcpOpt.SACK_PERM: parts.push('sackOK'); break;
      case TcpOpt.SACK: {
        let s = `sack ${p.sackBlockCount}`;
        for (let j = 0; j < p.sackBlockCount; j++) s += ` {${p.sackEdges[2 * j]}:${p.sackEdges[2 * j + 1]}}`;
        parts.push(s);
        break;
      }
      case TcpOpt.TIMESTAMP: parts.push(p.hasTimestamp ? `TS val ${p.tsVal} ecr ${p.tsEcr}` : 'TS ?'); break;
      case TcpOpt.TFO: parts.push(p.tfoCookieBytes > 0 ? `tfo cookie ${p.tfoCookieBytes}B` : 'tfo cookiereq'); break;
      case TcpOpt.EXP:
        parts.push(p.hasTfo ? (p.tfoCookieBytes > 0 ? `tfo cookie ${p.tfoCookieBytes}B` : 'tfo cookiereq') : 'exp');
        break;
      case TcpOpt.MPTCP: parts.push(`mptcp ${MPTCP_SUBTYPES[p.mptcpSubtype] ?? `subtype-${p.mptcpSubtype}`}`); break;
      default: parts.push(`unknown-${k}`);
    }
  }
  if (p.optMalformed) parts.push('bad opt');
  else if (p.truncated && p.optBytes < p.hdrLenBytes - 20) parts.push('[|tcp]');
  return parts.join(',');
}

/** Seconds since the epoch with 9 decimals, from the exact sec + ns pair. */
export function formatEpoch(sec: number, nsec: number): string {
  return `${sec}.${String(nsec).padStart(9, '0')}`;
}

export function formatPacketLine(p: TcpPacket): string {
  const src = formatEndpoint(p.ipVersion, formatAddress(p.ipVersion, p.src0, p.src1, p.src2, p.src3), p.srcPort);
  const dst = formatEndpoint(p.ipVersion, formatAddress(p.ipVersion, p.dst0, p.dst1, p.dst2, p.dst3), p.dstPort);
  let s = `${p.frame} ${formatEpoch(p.tsSec, p.tsNsec)} ${src} -> ${dst} [${formatFlags(p.flags)}] seq ${p.seq} ack ${p.ack} win ${p.window} len ${p.payloadBytes}`;
  if (p.optKindCount > 0 || p.optMalformed) s += ` [${formatOptions(p)}]`;
  if (p.nopRunMax > 1) s += ` nop-run ${p.nopRunMax}`;
  if (p.payloadCapturedBytes < p.payloadBytes) s += ` (captured ${p.payloadCapturedBytes})`;
  return s;
}
