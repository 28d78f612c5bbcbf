/**
 * `tcpdiag decode FILE`: one line per TCP packet, a debugging aid to compare
 * with `tshark -r` / `tcpdump -r`:
 *
 *   FRAME EPOCH.NNNNNNNNN SRC:PORT -> DST:PORT [FLAGS] seq S ack A win W len L [OPTIONS] nop-run N
 *
 * Frame numbers are Wireshark's; times are absolute seconds since the epoch
 * with nanoseconds (what tshark's frame.time_epoch shows), so lines from two
 * captures can be lined up. Totals go to stderr (stdout with --count-only).
 */
import { readCapture } from '../decode/capture.js';
import { formatPacketLine } from '../decode/format.js';
import type { TcpPacket } from '../decode/packet.js';
import type { CaptureInfo } from '../decode/capture.js';
import { LineOut } from './output.js';
import { nothingDecoded } from './ingestFiles.js';

export interface DecodeOptions {
  countOnly?: boolean;
  /** Print at most this many packets; the totals still cover the whole file. */
  limit?: number;
}

export function totalsLine(info: CaptureInfo): string {
  const skipped = Object.entries(info.skipped).map(([k, v]) => `${k} ${v}`).join(', ');
  return `${info.path}: ${info.frames} frames, ${info.tcpPackets} TCP packets` +
    (skipped ? `; not TCP or not decoded: ${skipped}` : '') +
    (info.truncatedPackets > 0 ? `; ${info.truncatedPackets} cut by the snaplen` : '');
}

export async function decodeCommand(file: string, opts: DecodeOptions): Promise<number> {
  const out = new LineOut(opts.countOnly ? 'the totals' : 'the packet lines');
  const limit = opts.limit ?? Infinity;
  let printed = 0;
  const stop = new AbortController();
  /** A failed write to stdout (closed pipe, full disk): reading stops, and this is what cli.ts reports. */
  let outErr: unknown = null;
  const onTcp = opts.countOnly
    ? (_p: TcpPacket): void => {}
    : (p: TcpPacket): void => {
      if (outErr !== null || printed >= limit) return;
      printed++;
      try {
        out.line(formatPacketLine(p));
      } catch (e) {
        // Not the capture's fault: keep it out of readCapture, which would report it as one.
        outErr = e;
        stop.abort();
      }
    };
  const t0 = process.hrtime.bigint();
  const info = await readCapture(file, onTcp, { signal: stop.signal });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (outErr !== null) throw outErr;
  if (opts.countOnly) out.line(totalsLine(info));
  out.flush();
  // The decoder's own rate, without process start-up: what bench/decode.mjs reports.
  if (opts.countOnly) process.stderr.write(`decoded in ${secs.toFixed(3)} s: ${(info.tcpPackets / Math.max(secs, 1e-9) / 1e6).toFixed(2)} M TCP packets/s\n`);
  if (!opts.countOnly && info.format !== null) process.stderr.write(`${totalsLine(info)}\n`);
  if (info.error === null && info.frames > 0 && info.tcpPackets === 0 && nothingDecoded(info.skipped)) {
    process.stderr.write(`tcpdiag: ${info.path}: nothing decoded: ${info.frames} frames, none of them TCP that tcpdiag can decode\n`);
    return 3;
  }
  if (info.error !== null) {
    const e = info.error;
    process.stderr.write(`tcpdiag: ${e.message}\n`);
    process.stderr.write(`tcpdiag: warning: ${e.path} could not be read whole; the output covers only the ${info.frames} frames before ${e.decompressed ? 'decompressed ' : ''}byte offset ${e.byteOffset}\n`);
    return 3;
  }
  return 0;
}
