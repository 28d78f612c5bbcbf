/**
 * Frames tcpdiag could not decode, per capture, as the report states them next to the
 * verdict: how many and why, from CaptureSummary.skipped (the decoder's counters).
 */
import { undecodable } from '../decode/reasons.js';
import { clockLine } from './clock.js';
import type { CaptureSummary } from './model.js';

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

/** Why, in words, for each skip reason (src/decode/reasons.ts). */
function reasonText(r: string): string {
  if (r.startsWith('linktype:')) return `link type ${r.slice(9)} not decoded`;
  switch (r) {
    case 'non-ip': return 'not IP (EtherType, PPP protocol or tunnel payload not decoded)';
    case 'unknown-tunnel': return 'tunnel payload not decoded';
    case 'tunnel-depth': return 'tunnels nested too deep';
    case 'ipv4-fragment': case 'ipv6-fragment': return 'IP fragments (not reassembled)';
    case 'truncated-link': case 'truncated-ip': case 'truncated-tcp': case 'truncated-tunnel': return `${r.slice(10)} header cut short`;
    case 'malformed-ip': case 'malformed-tcp': return `${r.slice(10).toUpperCase()} header malformed`;
    default: return r;
  }
}

/** Frames of this capture that could not be decoded (not counting IP that is simply not TCP). */
export function undecodedFrames(skipped: Record<string, number>): number {
  return Object.entries(skipped).reduce((n, [r, k]) => n + (undecodable(r) ? k : 0), 0);
}

/** "capture.pcap: 40 of 52 frames not decoded: link type 147 not decoded 40", or null when none. */
export function skippedLine(c: CaptureSummary): string | null {
  if (c.undecodedFrames === 0) return null;
  const why = Object.entries(c.skipped).filter(([r]) => undecodable(r)).sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${reasonText(r)} (${r}) ${n}`).join(', ');
  return `${c.name}: ${c.undecodedFrames} of ${plural(c.frames, 'frame')} not decoded: ${why}`;
}

/**
 * "set.pcap: 3 files read as one capture point, a rotated set: ...: a (100 frames), b (100 frames), ...;
 * frames below are numbered as in each file" for a point of several files. The report prints every
 * frame of such a point as "N of FILE" (src/report/frames.ts), so the files' frame counts are listed,
 * not the point's numbering across them (the JSON's pieces[].firstFrame has it).
 */
export function piecesLine(c: CaptureSummary): string | null {
  if (c.pieces.length < 2) return null;
  const rule = c.grouping === 'point' ? 'as given with --point' : 'a rotated set: their time ranges follow one another without overlap, same format and link types';
  const list = c.pieces.map((p) => `${p.name} (${p.frames === 0 ? 'no frames' : `${p.frames} frame${p.frames === 1 ? '' : 's'}`})`).join(', ');
  return `${c.name}: ${c.pieces.length} files read as one capture point, ${rule}: ${list}; frame numbers below are each file's own`;
}

/** "server.pcap: narrowed by --port 3306: 120 of 2579 TCP packets left out", or null without narrowing. */
export function filterLine(c: CaptureSummary): string | null {
  if (c.filter === null) return null;
  return `${c.name}: narrowed by ${c.filter.text}: ${c.filter.packetsLeftOut} of ${plural(c.tcpPackets, 'TCP packet')} left out`;
}

/** "mirror.pcap: 100 of 100 connections came inside a tunnel: vxlan vni=4242 198.18.9.1->198.18.9.2 (100)", or null. */
export function tunnelLine(c: CaptureSummary): string | null {
  if (c.tunnels.length === 0) return null;
  const n = c.tunnels.reduce((k, t) => k + t.connections, 0);
  return `${c.name}: ${c.tunnels.length === 5 ? 'at least ' : ''}${n} of ${plural(c.connections, 'connection')} came inside a tunnel: ${c.tunnels.map((t) => `${t.tunnel} (${t.connections})`).join(', ')}`;
}

/**
 * libzstd decodes frames whose window is at most 2^27 bytes unless the program raises the
 * limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT); tshark 4.0.17 and zstd 1.5 keep it, tcpdiag (fzstd) has none.
 */
const ZSTD_DEFAULT_WINDOW_MAX = 2 ** 27;
const MiB = 2 ** 20;

/**
 * Files of a capture point read from a regular file whose zstd window is over libzstd's default
 * limit, each as one line saying how to decompress it for tshark, or [] ("x.pcap1.zst: its first
 * zstd frame needs a 256 MiB window, ...: zstd -d --memory=256MB x.pcap1.zst writes x.pcap1, ...").
 */
export function zstdWindowLines(c: CaptureSummary): string[] {
  if (c.source !== undefined) return [];
  return c.pieces.filter((p) => (p.zstdWindowBytes ?? 0) > ZSTD_DEFAULT_WINDOW_MAX).map((p) => {
    const mib = Math.ceil(p.zstdWindowBytes! / MiB);
    // zstd -d names its output by dropping .zst and needs -o for any other name.
    const out = p.name.endsWith('.zst') ? p.name.slice(0, -4) : `${p.name}.pcap`;
    const cmd = p.name.endsWith('.zst') ? `zstd -d --memory=${mib}MB ${p.name}` : `zstd -d --memory=${mib}MB -o ${out} ${p.name}`;
    return `${p.name}: its first zstd frame needs a ${mib} MiB window, over the ${ZSTD_DEFAULT_WINDOW_MAX / MiB} MiB libzstd decodes by default, so tshark 4.0.17 cannot open it as it is: ${cmd} writes ${out}, in which the frame numbers and Wireshark filters below for ${p.name} select the same frames`;
  });
}

/** Every line the reports print next to the verdict about how the captures were read. */
export function readingLines(c: CaptureSummary): string[] {
  return [skippedLine(c), clockLine(c), piecesLine(c), ...zstdWindowLines(c), filterLine(c), tunnelLine(c)].filter((x): x is string => x !== null);
}
