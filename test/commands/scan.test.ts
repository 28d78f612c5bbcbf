/**
 * The pre-pass over several regular files (src/commands/scan.ts) on two threads: what each file
 * gives must be what the one-thread scan gives (the capture facts sources.ts plans points by,
 * and the SHA-256 of the capture bytes), checked against sha256sum of the decompressed files
 * (samples/rotated-tcpdump-size/pieces.sha256, taken by the lab before compressing) and of
 * plain ones; and the hashes a kept store records for files read after that scan are the same.
 * Runs the compiled module (dist/), the only place the worker can start.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { decompress } from 'fzstd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SAMPLES } from '../helpers/pipeline.js';

const CLI = join(ROOT, 'dist/cli.js');
const SIZE = join(SAMPLES, 'rotated-tcpdump-size');
const ZST = ['x.pcap.zst', 'x.pcap1.zst', 'x.pcap2.zst'].map((f) => join(SIZE, f));
const PLAIN = ['g1-090112.pcap', 'g1-090113.pcap', 'g1-090114.pcap', 'g1-090115.pcap'].map((f) => join(SAMPLES, 'rotated-tcpdump', f));
const BAD = join(SAMPLES, 'faults/malformed/server-bad-length.pcap.gz');
const TMP = mkdtempSync(join(tmpdir(), 'tcpdiag-scan-'));
const sha256sum = (f: string): string => execFileSync('sha256sum', [f], { encoding: 'utf8' }).split(' ')[0];
/** sha256 of each tcpdump piece before compression, by stored name. */
const pieceSums = (): Map<string, string> => new Map(readFileSync(join(SIZE, 'pieces.sha256'), 'utf8').trim().split('\n').map((l) => {
  const [h, f] = l.split(/\s+/);
  return [join(SIZE, `${f}.zst`), h];
}));

let scanAll: (paths: string[]) => Promise<any[]>;
let scanHere: (path: string) => Promise<any>;
beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/commands/scan.js'))) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
  ({ scanAll, scanHere } = await import(pathToFileURL(join(ROOT, 'dist/commands/scan.js')).href));
}, 120_000);
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('scanning several files on two threads', { timeout: 120_000 }, () => {
  it('each file as the one-thread scan reads it, in the order given, both threads taking files', async () => {
    const files = [...PLAIN, ...ZST];
    const two = await scanAll(files);
    expect(two.map((s) => s.path)).toEqual(files);
    expect(new Set(two.map((s) => s.by))).toEqual(new Set(['main', 'worker']));
    for (const s of two) {
      const one = await scanHere(s.path);
      expect(s.by === 'worker' ? { ...s, by: 'main' } : s).toEqual(one);
    }
    const sums = pieceSums();
    for (const s of two) expect(s.sha256).toBe(s.path.endsWith('.zst') ? sums.get(s.path) : sha256sum(s.path));
    // The facts planning reads, against the files: frames as tshark numbers them are in expected.json for the -C set.
    const expected = JSON.parse(readFileSync(join(SIZE, 'expected.json'), 'utf8'));
    for (const p of expected.pieces) expect(two.find((s) => s.path === join(SIZE, p.stored_as)).info.frames).toBe(p.packets);
  });

  it('a damaged file among them is read on this thread, its error as a one-file read gives it', async () => {
    const two = await scanAll([PLAIN[0], BAD, PLAIN[1]]);
    const bad = two[1];
    expect(bad.by).toBe('main');
    expect(bad.info.error).not.toBeNull();
    const one = await scanHere(BAD);
    expect(bad.info.error.message).toBe(one.info.error.message);
    expect(bad.info.error.byteOffset).toBe(one.info.error.byteOffset);
  });

  it('with TCPDIAG_THREADS=1 no worker starts', async () => {
    process.env.TCPDIAG_THREADS = '1';
    try {
      expect((await scanAll(PLAIN)).map((s) => s.by)).toEqual(PLAIN.map(() => 'main'));
    } finally {
      delete process.env.TCPDIAG_THREADS;
    }
  });
});

describe('the hashes a kept store records after the pre-pass', { timeout: 120_000 }, () => {
  it('are sha256sum of each file\'s capture bytes: plain files, and zstd pieces decompressed', () => {
    for (const [files, want] of [[PLAIN, PLAIN.map(sha256sum)], [ZST, ZST.map((f) => pieceSums().get(f))]] as const) {
      const db = join(TMP, `kept-${files.length}.sqlite`);
      const r = spawnSync(process.execPath, [CLI, 'analyze', '-q', '--db', db, ...files], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const d = new Database(db, { readonly: true });
      const got = new Map((d.prepare('SELECT path, content_sha256 FROM capture_pieces').all() as { path: string; content_sha256: string }[]).map((x) => [x.path, x.content_sha256]));
      d.close();
      expect(files.map((f) => got.get(f))).toEqual(want);
    }
  });

  it('a file changed after the scan is hashed as read, not as scanned', async () => {
    // The decompressed piece, rewritten between the scan and the read by the ingest option's own check.
    const f = join(TMP, 'piece.pcap');
    writeFileSync(f, decompress(readFileSync(ZST[0])));
    const [scanned] = await scanAll([f]);
    writeFileSync(f, decompress(readFileSync(ZST[1])));
    const { Store } = await import(pathToFileURL(join(ROOT, 'dist/flows/store.js')).href);
    const { ingestPoint } = await import(pathToFileURL(join(ROOT, 'dist/flows/ingest.js')).href);
    const store = Store.open();
    try {
      const r = await ingestPoint(store, [f], { timeWaitUsec: 60e6, scanned: new Map([[f, scanned]]) });
      expect(r.pieces[0].sha256).toBe(pieceSums().get(ZST[1]));
      expect(r.pieces[0].sha256).not.toBe(scanned.sha256);
    } finally {
      store.close();
    }
  });
});
