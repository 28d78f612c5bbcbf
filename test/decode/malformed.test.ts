/**
 * Damaged input: each gives a CaptureError with its byte offset in
 * info.error, after every whole record before it was delivered; never a
 * throw, never a hang. Frame counts before the error match tshark's
 * (MANIFEST.md: 59 / 9 / 9 for the crafted files).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCapture, readCaptureBytes } from '../../src/decode/capture.js';
import { CaptureError } from '../../src/errors.js';
import { bytes, epb, idb, shb, synFrame, pcapFile, block } from './build.js';
import { corpus, MALFORMED } from './helpers.js';

const CASES: [string, string, number, number][] = [
  // file, kind, byte offset, frames before
  ['crafted-pcap-cut-mid-record.pcap', 'truncated', 22223, 59],
  ['crafted-pcap-huge-caplen.pcap', 'malformed', 672, 9],
  ['crafted-pcapng-trailer-mismatch.pcapng', 'malformed', 1852, 9],
  ['libpcap-linktype-reserved-field-not-zero.pcap', 'unsupported', 20, 0],
  ['libpcap-pcap-invalid-version-1.pcap', 'unsupported', 4, 0],
  ['libpcap-shb-option-too-long.pcapng', 'malformed', 0, 0],
];

describe('corpus malformed files', () => {
  for (const [name, kind, offset, frames] of CASES) {
    it(name, async () => {
      let delivered = 0;
      const info = await readCapture(join(MALFORMED, name), () => { delivered++; });
      expect(info.error).toBeInstanceOf(CaptureError);
      expect([info.error?.kind, info.error?.byteOffset, info.frames, info.error?.frame]).toEqual([kind, offset, frames, frames]);
      expect(delivered).toBe(frames);
    });
  }
  it('the trailer mismatch names both lengths', async () => {
    const info = await readCapture(join(MALFORMED, 'crafted-pcapng-trailer-mismatch.pcapng'), () => {});
    expect(info.error?.detail).toMatch(/1296.*1304/);
  });
});

/** Offsets of the record headers of a classic pcap, and the file end. */
function recordStarts(b: Uint8Array): number[] {
  const dv = Buffer.from(b.buffer, b.byteOffset, b.length);
  const out: number[] = [];
  for (let p = 24; p + 16 <= b.length; p += 16 + dv.readUInt32LE(p + 8)) out.push(p);
  return out;
}

describe('cut files', () => {
  const good = readFileSync(corpus('zeek-tcp-reassembly.pcap'));
  const starts = recordStarts(good);
  it('at every 97th byte: frames delivered = whole records before the cut', async () => {
    for (let cut = 0; cut < good.length; cut += 97) {
      const info = await readCaptureBytes(good.subarray(0, cut), () => {}, { chunkBytes: 4096 });
      const whole = starts.filter((s, i) => (starts[i + 1] ?? good.length) <= cut).length;
      const atBoundary = cut === 24 || starts.includes(cut);
      expect(info.frames).toBe(whole);
      if (cut === 0) expect(info.error?.kind).toBe('empty');
      else if (atBoundary) expect(info.error).toBeNull();
      else {
        expect(info.error?.kind).toBe('truncated');
        const pending = starts.filter((s) => s < cut).pop() ?? 0;
        expect(info.error?.byteOffset).toBe(cut < 24 ? (cut < 4 ? 0 : cut) : pending);
      }
    }
  });
  it('pcapng cut inside a block', async () => {
    const f = bytes(shb(), idb(1), epb(0, 0, 1, synFrame()), epb(0, 0, 2, synFrame()));
    const info = await readCaptureBytes(f.subarray(0, f.length - 10), () => {});
    expect([info.error?.kind, info.frames]).toEqual(['truncated', 1]);
  });
});

describe('corrupted lengths and headers', () => {
  it('pcap caplen beyond the file is truncated, beyond 256 KiB malformed', async () => {
    const f = pcapFile([synFrame(), synFrame()]);
    const a = Buffer.from(f);
    a.writeUInt32LE(5000, 24 + 16 + 74 + 8);
    expect((await readCaptureBytes(a, () => {})).error?.kind).toBe('truncated');
    a.writeUInt32LE(262145, 24 + 16 + 74 + 8);
    const info = await readCaptureBytes(a, () => {});
    expect([info.error?.kind, info.error?.byteOffset, info.frames]).toEqual(['malformed', 24 + 16 + 74, 1]);
  });
  it('pcapng block length below 12 or not a multiple of 4', async () => {
    for (const bad of [8, 30]) {
      const f = Buffer.from(bytes(shb(), idb(1), epb(0, 0, 1, synFrame())));
      f.writeUInt32LE(bad, 28 + 20 + 4);
      const info = await readCaptureBytes(f, () => {});
      expect([info.error?.kind, info.error?.byteOffset]).toEqual(['malformed', 28 + 20 + 4]);
    }
  });
  it('pcapng block length over 16 MiB', async () => {
    const f = Buffer.from(bytes(shb(), idb(1), epb(0, 0, 1, synFrame())));
    f.writeUInt32LE(0x7ffffff0, 28 + 20 + 4);
    expect((await readCaptureBytes(f, () => {})).error?.detail).toMatch(/maximum/);
  });
  it('pcapng trailer mismatch', async () => {
    const f = bytes(shb(), idb(1), block(6, new Uint8Array(40), true, 60));
    const info = await readCaptureBytes(f, () => {});
    expect(info.error?.detail).toMatch(/52 does not match the trailing copy 60/);
  });
  it('bad magic, random bytes, empty', async () => {
    const rnd = Buffer.alloc(1000);
    for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 7919 + 13) & 255;
    expect((await readCaptureBytes(rnd, () => {})).error?.kind).toBe('bad-magic');
    expect((await readCaptureBytes(Buffer.from('hello world'), () => {})).error?.kind).toBe('bad-magic');
    expect((await readCaptureBytes(new Uint8Array(0), () => {})).error?.kind).toBe('empty');
  });
  it('a directory, a missing file, an empty file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-'));
    expect((await readCapture(dir, () => {})).error?.kind).toBe('unreadable');
    expect((await readCapture(join(dir, 'nope.pcap'), () => {})).error?.kind).toBe('unreadable');
    writeFileSync(join(dir, 'empty.pcap'), '');
    const e = await readCapture(join(dir, 'empty.pcap'), () => {});
    expect([e.error?.kind, e.error?.byteOffset]).toEqual(['empty', 0]);
  });
});

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzz: mutated captures never throw or hang', () => {
  const seeds = [
    readFileSync(corpus('zeek-tcp-options.pcap')),
    readFileSync(corpus('zeek-ip6-hoa-tcp.pcap')),
    readFileSync(corpus('zeek-vlan-qinqinq.pcap')).subarray(0, 1500),
    readFileSync(corpus('tcpdump-tfo-5c1fa7f9ae91.pcap')),
    readFileSync(corpus('derived-tcpdump-ssh-be-tsresol9.pcapng')).subarray(0, 2000),
    readFileSync(corpus('pcapngtest-test202-le-multisection.pcapng')),
    readFileSync(corpus('tcpdump-mptcp-v1.pcap')).subarray(0, 2000),
  ];
  it('3000 mutations', async () => {
    const rand = prng(20240611);
    const kinds = { ok: 0, error: 0 };
    for (let i = 0; i < 3000; i++) {
      const src = seeds[i % seeds.length];
      let b = Buffer.from(src);
      const op = Math.floor(rand() * 5);
      const n = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < n; k++) {
        const at = Math.floor(rand() * b.length);
        if (op === 0) b[at] ^= 1 << Math.floor(rand() * 8); // bit flip
        else if (op === 1) b[at] = Math.floor(rand() * 256); // byte overwrite
        else if (op === 2) b = b.subarray(0, at); // truncation
        else if (op === 3 && at + 4 <= b.length) b.writeUInt32LE(Math.floor(rand() * 4294967296), at & ~3); // length-sized word
        else if (op === 4) b[at] = [0, 1, 2, 0xff, 0x80, 0x7f][Math.floor(rand() * 6)];
        if (b.length === 0) break;
      }
      let count = 0;
      const info = await readCaptureBytes(b, (p) => {
        count++;
        // Everything delivered must be internally consistent.
        if (p.hdrLenBytes < 20 || p.optKindCount > 40 || p.payloadCapturedBytes > p.payloadBytes + 0) throw new Error(`inconsistent packet ${p.frame}`);
      }, { chunkBytes: i % 3 === 0 ? 256 : undefined });
      expect(info.error === null || info.error instanceof CaptureError).toBe(true);
      expect(info.tcpPackets).toBe(count);
      kinds[info.error ? 'error' : 'ok']++;
    }
    expect(kinds.ok).toBeGreaterThan(100);
    expect(kinds.error).toBeGreaterThan(100);
  }, 30_000);
});
