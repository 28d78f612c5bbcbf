import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTshark, ROOT, SAMPLES } from '../helpers/pipeline.js';

/**
 * A rotated set stored zstd-compressed (samples/rotated-tcpdump-size: x.pcap.zst, x.pcap1.zst,
 * x.pcap2.zst) gets evidence filters naming the `.zst` files, "Wireshark, in x.pcap.zst: ...".
 * The installed tshark (4.0.17, built with Zstandard and zlib) opens them as they are, so the
 * line asks nothing more of the user: every filter the report prints, run by tshark on the file
 * it names, selects exactly what the store holds (the connection and the previous one it
 * blames, or the frames listed), and the same frames in the file `zstd -d` writes from it and
 * in that file gzip-compressed (what tcpdump -z gzip leaves).
 *
 * What tshark cannot open is a zstd frame whose window is over the 128 MiB libzstd decodes by
 * default (`zstd --long=28` of a stream): tshark 4.0.17 says "Frame requires too much memory for
 * decoding". The same set recompressed so gets one line per file next to the verdict with the
 * command that decompresses it (`zstd -d --memory=256MB x.pcap.zst`); run as printed, it writes
 * the file in which the printed filters select the frames they select in the original set.
 */

const CLI = join(ROOT, 'dist/cli.js');
const DIR = join(SAMPLES, 'rotated-tcpdump-size');
const TMP = mkdtempSync(join(tmpdir(), 'tcpdiag-compressedfilters-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function tshark(args: string[]): string {
  return execFileSync('tshark', ['-n', ...args], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
}
const selected = (file: string, filter: string): number[] => tshark(['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean).map(Number);
/** zstd -lv's "Window Size: 977 KiB (1000024 B)", in bytes. */
const zstdWindow = (file: string): number => Number(/Window Size: .*\((\d+) B\)/.exec(execFileSync('zstd', ['-lv', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))![1]);
const frameCount = (file: string): number => tshark(['-r', file, '-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean).length;

describe.skipIf(!hasTshark())('filters naming .zst pieces select their frames in the file named and in it decompressed', { timeout: 300_000 }, () => {
  const files = readdirSync(DIR).filter((f) => /^x\.pcap\d*\.zst$/.test(f)).sort();
  const db = join(TMP, 'size.sqlite');
  let rep: any;
  let text = '';
  beforeAll(() => {
    const r = spawnSync(process.execPath, [CLI, 'analyze', '--format', 'json', '--db', db, ...files.map((f) => join(DIR, f))], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(r.status).toBe(0);
    rep = JSON.parse(r.stdout);
    text = spawnSync(process.execPath, [CLI, 'analyze', '--db', db], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1' } }).stdout;
    for (const f of files) {
      // What a user would run: zstd -d writes x.pcap1 from x.pcap1.zst; gzip -k keeps it and writes x.pcap1.gz.
      execFileSync('zstd', ['-d', '-q', '-o', join(TMP, f.slice(0, -4)), join(DIR, f)]);
      execFileSync('gzip', ['-k', join(TMP, f.slice(0, -4))]);
    }
  }, 300_000);

  it('tshark opens each piece as stored, compressed: the frames the report counts', () => {
    expect(rep.captures[0].compression).toBe('zstd');
    expect(rep.captures[0].pieces.map((p: any) => p.name)).toEqual(files);
    // Windows within libzstd's default: nothing to say about them.
    expect(text).not.toMatch(/zstd frame needs/);
    for (const p of rep.captures[0].pieces) {
      expect([p.name, p.zstdWindowBytes]).toEqual([p.name, zstdWindow(join(DIR, p.name))]);
      expect([p.name, frameCount(join(DIR, p.name))]).toEqual([p.name, p.frames]);
      expect([p.name, frameCount(join(TMP, p.name.slice(0, -4)))]).toEqual([p.name, p.frames]);
    }
  });

  it('every printed filter: the same frames in x.pcapN.zst, in x.pcapN (zstd -d) and in x.pcapN.gz, as many as the store holds', () => {
    const d = new Database(db, { readonly: true });
    const pkts = d.prepare('SELECT client_pkts + server_pkts FROM connections WHERE id = ?').pluck();
    let checked = 0;
    try {
      for (const c of rep.causes) {
        for (const e of c.evidence) {
          const finding = rep.findings.find((x: any) => x.id === e.findingId);
          const prev = finding?.evidence.previous?.connId;
          let total = 0;
          for (const x of e.files) {
            expect(x.file).toMatch(/\.zst$/);
            const got = selected(join(DIR, x.file), x.filter);
            expect([x.file, x.filter, selected(join(TMP, x.file.slice(0, -4)), x.filter)]).toEqual([x.file, x.filter, got]);
            expect([x.file, x.filter, selected(join(TMP, `${x.file.slice(0, -4)}.gz`), x.filter)]).toEqual([x.file, x.filter, got]);
            for (const f of x.frames) expect(got).toContain(f);
            if (!finding?.evidence.frameRange) expect(got).toEqual([...new Set<number>(x.frames)].sort((a, b) => a - b));
            total += got.length;
            checked++;
          }
          if (finding?.evidence.frameRange && finding.connId !== null) {
            expect([e.findingId, total]).toEqual([e.findingId, (pkts.get(finding.connId) as number) + (prev !== undefined ? pkts.get(prev) as number : 0)]);
          }
        }
      }
    } finally { d.close(); }
    expect(checked).toBeGreaterThan(0);
    // The text report names the .zst file each filter is for, as tshark opens it.
    expect(text.replace(/\n {2}/g, ' ')).toMatch(/\(Wireshark, in x\.pcap\.zst, [^:]+: ip\.addr == /);
  });
});

describe.skipIf(!hasTshark())('a zstd window over 128 MiB: the report says how to decompress each file for tshark', { timeout: 300_000 }, () => {
  const files = readdirSync(DIR).filter((f) => /^x\.pcap\d*\.zst$/.test(f)).sort();
  const long = join(TMP, 'long');
  const db = join(TMP, 'long.sqlite');
  let rep: any, orig: any;
  let text = '';
  beforeAll(() => {
    mkdirSync(long);
    // zstd --long=28 from a stream (no content size): every frame needs a 256 MiB window.
    for (const f of files) execFileSync('sh', ['-c', `zstd -d -q -c "${join(DIR, f)}" | zstd -q --long=28 -c > "${join(long, f)}"`]);
    const run = (args: string[]): string => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1' } }).stdout;
    rep = JSON.parse(run(['analyze', '--format', 'json', '--db', db, ...files.map((f) => join(long, f))]));
    text = run(['analyze', '--db', db]);
    orig = JSON.parse(run(['analyze', '--format', 'json', ...files.map((f) => join(DIR, f))]));
  }, 300_000);

  it('tshark refuses the files as they are; the window is the one zstd -lv shows', () => {
    for (const p of rep.captures[0].pieces) {
      expect([p.name, p.zstdWindowBytes]).toEqual([p.name, zstdWindow(join(long, p.name))]);
      expect(p.zstdWindowBytes).toBe(256 * 2 ** 20);
      const t = spawnSync('tshark', ['-n', '-r', join(long, p.name), '-c', '1'], { encoding: 'utf8' });
      expect(t.status).not.toBe(0);
      expect(t.stderr).toMatch(/Frame requires too much memory for decoding/);
    }
  });

  it('the printed command, run as printed, writes the file the printed filters select their frames in', () => {
    const lines = text.split('\n').filter((l) => / zstd frame needs /.test(l));
    expect(lines.map((l) => l.split(':')[0])).toEqual(files);
    for (const [k, l] of lines.entries()) {
      const m = /: (zstd -d --memory=256MB (\S+)) writes (\S+), in which/.exec(l)!;
      expect([m[2], m[3]]).toEqual([files[k], files[k].slice(0, -4)]);
      const [cmd, ...args] = m[1].split(' ');
      execFileSync(cmd, ['-q', ...args], { cwd: long });
      expect(existsSync(join(long, m[3]))).toBe(true);
    }
    // The evidence is the original set's, file by file; each filter selects there what it does in the original.
    let checked = 0;
    expect(rep.causes.map((c: any) => c.evidence.map((e: any) => e.files))).toEqual(orig.causes.map((c: any) => c.evidence.map((e: any) => e.files)));
    for (const c of rep.causes) {
      for (const e of c.evidence) {
        for (const x of e.files) {
          expect([x.file, selected(join(long, x.file.slice(0, -4)), x.filter)]).toEqual([x.file, selected(join(DIR, x.file), x.filter)]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
