import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { processStart } from '../../src/flows/writerLock.js';
import { CLI, cli, expectOneLine, integrity, query, scratch, SERVER, spawn } from './helpers.js';
import { SAMPLES } from '../helpers/pipeline.js';

// Distinct captures: the same content twice in one store is read once (a duplicate, by SHA-256).
const OTHERS = ['client-closes-first', 'refused', 'tw-reuse-ts-kept', 'nat-clients-ts2', 'listen-overflow', 'snat-port-pool', 'two-point-mss-clamp', 'one-host-500']
  .map((d) => join(SAMPLES, d, 'server.pcap'));

// Each case spawns the CLI (~0.3 s of start-up apiece on a busy 2-core machine).
vi.setConfig({ testTimeout: 120_000 });

const s = scratch();
afterAll(() => s.done());

/** Connections the sample gives in a store of its own: what each capture must hold when complete. */
const single = ((): number => {
  const db = join(s.dir, 'single.sqlite');
  expect(cli(['flows', SERVER, '--db', db, '--limit', '0']).code).toBe(0);
  return query<{ n: number }>(db, 'SELECT count(*) AS n FROM connections')[0].n;
})();

function setLock(db: string, pid: number, started: string | null): void {
  const d = new Database(db);
  d.prepare('INSERT OR REPLACE INTO writer_lock (id, pid, started, host, since_usec) VALUES (1, ?, ?, ?, ?)').run(pid, started, hostname(), Date.now() * 1000);
  d.close();
}

describe('one writer per store', () => {
  it('a live writer holds it: the second run fails with one line naming it, exit 3, the store unchanged', () => {
    const db = join(s.dir, 'held.sqlite');
    expect(cli(['analyze', SERVER, '-q', '--db', db]).code).toBe(0);
    // This test process stands for the other tcpdiag: it is alive and its start time is its own.
    setLock(db, process.pid, processStart(process.pid));
    for (const args of [['analyze', SERVER, '--db', db], ['analyze', '--db', db]]) {
      const r = cli(args);
      expect(r.code).toBe(3);
      expect(r.out).toBe('');
      expectOneLine(r, new RegExp(`held\\.sqlite: being written by another tcpdiag \\(process ${process.pid} on ${hostname()}, since .*\\); run again when it has finished\\n$`));
    }
    expect(query(db, 'SELECT count(*) AS n FROM captures')).toEqual([{ n: 1 }]);
    expect(integrity(db)).toBe('ok');
  });

  it("a dead writer's lock is taken over (its pid gone, or reused by a process started later)", () => {
    const db = join(s.dir, 'stale.sqlite');
    expect(cli(['analyze', SERVER, '-q', '--db', db]).code).toBe(0);
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    setLock(db, Number(gone.stdout), '1');
    expect(cli(['analyze', OTHERS[0], '-q', '--db', db]).code).toBe(0);
    setLock(db, process.pid, 'not-this-start-time');
    expect(cli(['analyze', '-q', '--db', db]).code).toBe(0);
    expect(query(db, 'SELECT * FROM writer_lock')).toEqual([]);
    expect(query(db, "SELECT count(*) AS n FROM captures WHERE status = 'complete'")).toEqual([{ n: 2 }]);
  });

  it('four runs at once on one store: each completes or fails with the lock line; no half-written capture', async () => {
    const db = join(s.dir, 'race.sqlite');
    const runs = await Promise.all([0, 1, 2, 3].map((i) => new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(process.execPath, [CLI, 'analyze', OTHERS[i], '-q', '--db', db], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr!.on('data', (d) => { err += d; });
      c.on('close', (code) => resolve({ code, err }));
    })));
    const ok = runs.filter((r) => r.code === 0).length;
    expect(ok).toBeGreaterThanOrEqual(1);
    for (const r of runs) {
      // A run that got the store prints at most notes (how it grouped the two files into points).
      if (r.code === 0) expect(r.err.split('\n').filter((l) => l && !l.startsWith('tcpdiag: note: '))).toEqual([]);
      else {
        expect(r.code).toBe(3);
        expectOneLine({ ...r, out: '', signal: null }, /being written by another tcpdiag|locked by another process/);
      }
    }
    expect(integrity(db)).toBe('ok');
    const caps = query<{ status: string; n: number }>(db, 'SELECT status, (SELECT count(*) FROM connections x WHERE x.capture_id = c.id) AS n FROM captures c');
    expect(caps).toHaveLength(ok);
    for (const c of caps) { expect(c.status).toBe('complete'); expect(c.n).toBeGreaterThan(0); }
    expect(query(db, 'SELECT count(DISTINCT id) AS n FROM connections')).toEqual([{ n: caps.reduce((k, c) => k + c.n, 0) }]);
    // The next run works.
    expect(cli(['analyze', '--db', db, '-q']).code).toBe(0);
  });
});
