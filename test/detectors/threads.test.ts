import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/pipeline.js';

/**
 * runDetectors on two threads (src/detectors/detectorRunner.ts, used from the compiled CLI)
 * against one after another (TCPDIAG_THREADS=1): the same findings table row for row, in the
 * same order, and the same report; a kept store goes back to its rollback journal, no WAL left.
 * TCPDIAG_THREADS=2 makes the CLI fail rather than fall back to one thread.
 */
const CASES = [
  ['samples/tw-stale-ack-ts-stripped/client.pcap', 'samples/tw-stale-ack-ts-stripped/server.pcap'],
  ['samples/tw-incident-one-host-500/server.pcap'],
  ['samples/snat-port-pool/client.pcap', 'samples/snat-port-pool/client2.pcap', 'samples/snat-port-pool/server.pcap'],
  ['samples/syn-flood/server.pcap'],
  ['samples/nat-hosts-mixed/server.pcap'],
  ['samples/refused/server.pcap'],
];

const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(files: string[], db: string, threads: boolean): { report: string; findings: unknown[]; mode: string } {
  const env = { ...process.env, NO_COLOR: '1', TCPDIAG_THREADS: threads ? '2' : '1' };
  const report = execFileSync('node', ['dist/cli.js', 'analyze', ...files, '--db', db, '--format', 'json'], { cwd: ROOT, encoding: 'utf8', env });
  const d = new Database(db, { readonly: true });
  const findings = d.prepare('SELECT rowid, * FROM findings ORDER BY rowid').raw().all();
  const mode = d.pragma('journal_mode', { simple: true }) as string;
  d.close();
  return { report, findings, mode };
}

describe('the detector thread that cannot load its module', () => {
  it('says why in its shared state instead of leaving the main thread waiting', async () => {
    const { threadBoot } = await import('../../src/detectors/detectorRunner.js');
    const { readSharedError } = await import('../../src/flows/writer.js');
    const { Worker } = await import('node:worker_threads');
    const { writeFileSync } = await import('node:fs');
    const { pathToFileURL } = await import('node:url');
    // What tsc leaves for a moment while it rewrites dist/: a file cut short.
    const broken = join(dir, 'half-written.js');
    writeFileSync(broken, 'export const x = (1 +\n');
    const state = new SharedArrayBuffer(8 + 1024);
    const w = new Worker(threadBoot(pathToFileURL(broken).href), { eval: true, workerData: { state } });
    const s = new Int32Array(state);
    for (let i = 0; i < 100 && Atomics.load(s, 0) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await w.terminate();
    expect(Atomics.load(s, 0)).toBe(2);
    expect(readSharedError(state).message).toMatch(/SyntaxError|Unexpected/);
  });
});

describe('detectors on two threads', () => {
  CASES.forEach((files, i) => {
    it(files.join(' '), () => {
      const a = run(files, join(dir, `serial-${i}.sqlite`), false);
      const b = run(files, join(dir, `threads-${i}.sqlite`), true);
      expect(a.findings.length).toBeGreaterThan(0);
      expect(b.findings).toEqual(a.findings);
      expect(b.report).toBe(a.report);
      expect(b.mode).toBe('delete');
      expect(existsSync(join(dir, `threads-${i}.sqlite-wal`))).toBe(false);
    });
  });

  it('re-running a kept store on two threads rewrites the same findings', () => {
    const db = join(dir, 'rerun.sqlite');
    const first = run(CASES[0], db, true);
    const env = { ...process.env, NO_COLOR: '1', TCPDIAG_THREADS: '2' };
    execFileSync('node', ['dist/cli.js', 'analyze', '--db', db, '-q'], { cwd: ROOT, encoding: 'utf8', env });
    const d = new Database(db, { readonly: true });
    expect(d.prepare('SELECT rowid, * FROM findings ORDER BY rowid').raw().all()).toEqual(first.findings);
    d.close();
  });
});
