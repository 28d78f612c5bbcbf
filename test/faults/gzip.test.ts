import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readCaptureBytes } from '../../src/decode/capture.js';
import { hasTshark, SAMPLES } from '../helpers/pipeline.js';
import { cli, scratch, SERVER } from './helpers.js';

// Each case spawns the CLI (~0.3 s of start-up apiece on a busy 2-core machine).
vi.setConfig({ testTimeout: 120_000 });

const DIR = join(SAMPLES, 'faults', 'malformed');
const s = scratch();
afterAll(() => s.done());

/** What `gzip -dc` writes for a file (it writes every byte it decompresses, then complains). */
function gunzipBytes(file: string): Buffer {
  return spawnSync('gzip', ['-dc', file], { maxBuffer: 1 << 28 }).stdout;
}

/** Frames tshark reads from those bytes: the independent count. */
function tsharkFrames(bytes: Buffer, name: string): number {
  const f = join(s.dir, `${name}.pcap`);
  writeFileSync(f, bytes);
  // tshark exits 2 on a cut file after printing every whole frame: its output is the count.
  const out = spawnSync('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout;
  return out.trim() === '' ? 0 : out.trim().split('\n').length;
}

const hasGzip = spawnSync('gzip', ['--version']).status === 0;

describe.skipIf(!hasGzip || !hasTshark())('gzip damage after the data costs no packets', () => {
  const plainConnections = JSON.parse(cli(['analyze', SERVER, '--format', 'json']).out).totals.connections;
  // [file, compressed offset of the damage, what the line says]
  const cases: [string, number, RegExp][] = [
    ['server-bad-crc.pcap.gz', 42907, /malformed at decompressed byte offset 251736 \(after frame 2581\): the gzip trailer says CRC-32 0x227df603 and length 251736; the data decompressed to 251736 bytes with CRC-32 0x227df6fc/],
    ['server-bad-length.pcap.gz', 42907, /malformed at decompressed byte offset 251736 .*the gzip trailer says CRC-32 0x227df6fc and length 186200; the data decompressed to 251736 bytes/],
    ['server-trailing-bytes.pcap.gz', 42915, /malformed at decompressed byte offset 251736 .*: 13 bytes after the end of the gzip data are not a gzip member \(ignored, as gzip -dc ignores them\)/],
    ['server-cut-trailer.pcap.gz', 42907, /truncated at decompressed byte offset 251736 .*: the file ends inside the gzip trailer \(5 of its 8 bytes\)/],
  ];
  for (const [name, compressedAt, line] of cases) {
    it(name, async () => {
      const file = join(DIR, name);
      const gz = gunzipBytes(file);
      expect(gz.length).toBe(251736);
      const frames = tsharkFrames(gz, name);
      const r = cli(['decode', '--count-only', file]);
      expect(r.code).toBe(3);
      expect(r.out).toMatch(new RegExp(`: ${frames} frames, `));
      const lines = r.err.split('\n').filter((l) => l.startsWith('tcpdiag: '));
      expect(lines[0]).toMatch(line);
      expect(lines[0]).toContain(`(at compressed byte offset ${compressedAt}; every byte before it was decompressed and read)`);
      expect(r.err).not.toMatch(/\n\s+at |internal error/);
      // The whole analysis sees every connection of the undamaged capture.
      const a = cli(['analyze', file, '--format', 'json']);
      expect(a.code).toBe(3);
      expect(JSON.parse(a.out).totals.connections).toBe(plainConnections);
      // The in-memory reader (tests, fuzzing) takes the same path.
      let n = 0;
      const info = await readCaptureBytes(readFileSync(file), () => { n++; }, { name });
      expect(info.frames).toBe(frames);
      expect(info.error?.decompressed).toBe(true);
    });
  }

  it('a stream cut in the middle: every record gzip -dc gives is decoded (tshark counts them)', () => {
    const whole = readFileSync(join(DIR, 'server-bad-crc.pcap.gz'));
    for (const cut of [200, 10_000, 21_457, 40_001]) {
      const f = join(s.dir, `cut-${cut}.pcap.gz`);
      writeFileSync(f, whole.subarray(0, cut));
      const frames = tsharkFrames(gunzipBytes(f), `cut-${cut}`);
      const r = cli(['decode', '--count-only', f]);
      expect(r.code).toBe(3);
      expect(r.out).toMatch(new RegExp(`: ${frames} frames, `));
      expect(r.err).toMatch(/truncated at decompressed byte offset \d+/);
    }
  });

  it('two members one after the other are read as one stream, as gzip -dc does', () => {
    const whole = readFileSync(SERVER);
    const f = join(s.dir, 'two-members.pcap.gz');
    // A pcap cut in two at a record boundary, each half compressed on its own (RFC 1952 2.2).
    const half = 24 + 16 + whole.readUInt32LE(24 + 8);
    writeFileSync(f, Buffer.concat([execFileSync('gzip', ['-c'], { input: whole.subarray(0, half) }), execFileSync('gzip', ['-c'], { input: whole.subarray(half) })]));
    const r = cli(['decode', '--count-only', f]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`: ${tsharkFrames(gunzipBytes(f), 'two')} frames, `));
  });
});
