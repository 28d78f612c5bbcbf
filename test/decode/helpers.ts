/** Shared by the decode tests: where the captures are, and a TcpPacket flattened for comparison. */
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatAddress } from '../../src/decode/addr.js';
import type { TcpPacket } from '../../src/decode/packet.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SAMPLES = join(ROOT, 'samples');
export const CORPUS = join(SAMPLES, 'corpus');
export const MALFORMED = join(CORPUS, 'malformed');

export const corpus = (name: string): string => join(CORPUS, name);

const CAPTURE = /\.(pcap|pcapng|cap)(\.gz|\.zst)?$/;

/** Every capture under samples/ (recursively), malformed/ excluded. */
export function sampleCaptures(dir = SAMPLES): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'malformed' && name !== 'node_modules') out.push(...sampleCaptures(p));
    } else if (CAPTURE.test(name)) out.push(p);
  }
  return out;
}

export { hasTshark } from '../helpers/pipeline.js';

export const hex = (b: Uint8Array, from: number, to: number): string => Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('hex');

/** A TCP packet as plain values (copied during the callback). */
export interface Flat {
  frame: number;
  time: string;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  hdrLen: number;
  len: number;
  mss: number;
  wscale: number;
  tsVal: number | null;
  tsEcr: number | null;
  sackPerm: boolean;
  kinds: string;
  optHex: string;
  truncated: boolean;
  optMalformed: boolean;
  nopRunMax: number;
  nopRunAt: number;
}

export function flatten(p: TcpPacket): Flat {
  const optEnd = p.tcpAt + 20 + p.optBytes;
  return {
    frame: p.frame,
    time: `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}`,
    src: formatAddress(p.ipVersion, p.src0, p.src1, p.src2, p.src3),
    dst: formatAddress(p.ipVersion, p.dst0, p.dst1, p.dst2, p.dst3),
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    seq: p.seq,
    ack: p.ack,
    flags: p.flags,
    window: p.window,
    hdrLen: p.hdrLenBytes,
    len: p.payloadBytes,
    mss: p.mss,
    wscale: p.wscale,
    tsVal: p.hasTimestamp ? p.tsVal : null,
    tsEcr: p.hasTimestamp ? p.tsEcr : null,
    sackPerm: p.sackPerm,
    kinds: Array.from(p.optKinds.subarray(0, p.optKindCount)).join(','),
    optHex: hex(p.buf, p.tcpAt + 20, optEnd),
    truncated: p.truncated,
    optMalformed: p.optMalformed,
    nopRunMax: p.nopRunMax,
    nopRunAt: p.nopRunAt,
  };
}
