/**
 * Raw records from tcpdiag's reader against pcap-parser's, on every classic
 * microsecond pcap in samples/: timestamps, both lengths and the bytes.
 * pcap-parser reads only pcap 2.4 with microseconds, so ns and pcapng files
 * are left out; gzip files are given to it decompressed.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/decode/capture.js';
import { hex, ROOT, sampleCaptures } from './helpers.js';

const require = createRequire(import.meta.url);
const pcapp = require('pcap-parser') as { parse(src: string | NodeJS.ReadableStream): NodeJS.EventEmitter };

interface Rec { sec: number; usec: number; capLen: number; origLen: number; bytes: string }

function magicOf(f: string): number {
  let b = readFileSync(f);
  if (b[0] === 0x1f && b[1] === 0x8b) b = gunzipSync(b);
  return b.length < 4 ? 0 : b.readUInt32BE(0);
}

const MICRO = new Set([0xa1b2c3d4, 0xd4c3b2a1]);
const files = sampleCaptures().filter((f) => MICRO.has(magicOf(f)));

function theirs(f: string): Promise<Rec[]> {
  return new Promise((resolve, reject) => {
    const recs: Rec[] = [];
    const src = f.endsWith('.gz') ? Readable.from([gunzipSync(readFileSync(f))]) : createReadStream(f);
    const parser = pcapp.parse(src);
    parser.on('packet', (p: { header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }; data: Buffer }) => {
      recs.push({
        sec: p.header.timestampSeconds, usec: p.header.timestampMicroseconds,
        capLen: p.header.capturedLength, origLen: p.header.originalLength, bytes: p.data.toString('hex'),
      });
    });
    parser.on('end', () => resolve(recs));
    parser.on('error', reject);
  });
}

describe('raw records agree with pcap-parser', () => {
  it('finds the classic µs captures', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });
  for (const f of files) {
    it(relative(ROOT, f), async () => {
      const mine: Rec[] = [];
      const info = await readCapture(f, () => {}, {
        onRecord: (b, at, capLen, origLen, tsSec, tsNsec) => {
          mine.push({ sec: tsSec, usec: tsNsec / 1000, capLen, origLen, bytes: hex(b, at, at + capLen) });
        },
      });
      expect(info.error).toBeNull();
      const their = await theirs(f);
      expect(mine.length).toBe(their.length);
      expect(mine).toEqual(their);
    });
  }
});
