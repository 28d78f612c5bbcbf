import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CLI, cli, expectOneLine, integrity, query, scratch, SERVER, spawn } from './helpers.js';

// Each case spawns the CLI (~0.3 s of start-up apiece on a busy 2-core machine).
vi.setConfig({ testTimeout: 120_000 });

const require = createRequire(import.meta.url);
const s = scratch();
// Runs as nobody (root only) must reach the store inside.
chmodSync(s.dir, 0o755);
afterAll(() => s.done());

/**
 * Start `analyze` on a FIFO, write the first `bytes` of the sample into it and send `sig`.
 * A FIFO holds 64 KiB: once 200 000 bytes are written into it, the CLI has read at least
 * 135 000 of them, so the signal lands mid-ingest whatever the machine's speed.
 */
async function stopMidIngest(sig: NodeJS.Signals, args: string[], tmp: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> {
  const fifo = join(s.dir, `fifo-${sig}-${Math.random().toString(36).slice(2)}`);
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const c = spawn(process.execPath, [CLI, 'analyze', fifo, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
  let err = '';
  c.stderr!.on('data', (d) => { err += d; });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => c.on('close', (code, signal) => resolve({ code, signal })));
  // Non-blocking, so a CLI that never opens the FIFO fails the test instead of hanging it.
  let exited = false;
  void done.then(() => { exited = true; });
  const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));
  let fd = -1;
  while (fd < 0 && !exited) {
    try { fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK); } catch { await tick(); }
  }
  const data = readFileSync(SERVER).subarray(0, 200_000);
  for (let off = 0; off < data.length && !exited;) {
    try { off += writeSync(fd, data, off); } catch { await tick(); }
  }
  expect(exited).toBe(false);
  c.kill(sig);
  const r = await done;
  if (fd >= 0) closeSync(fd);
  return { ...r, err };
}

describe('SIGINT / SIGTERM during analyze', () => {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${sig} without --db: one line, exit ${code}, the temporary store removed`, async () => {
      const tmp = join(s.dir, `tmp-${sig}`);
      mkdirSync(tmp);
      const r = await stopMidIngest(sig, ['-q'], tmp);
      expect(r.code).toBe(code);
      expectOneLine({ ...r, out: '' }, new RegExp(`^tcpdiag: interrupted by ${sig}; the temporary store was removed\\n$`));
      expect(readdirSync(tmp)).toEqual([]);
    });
  }

  it('SIGTERM with --db: the capture is kept marked interrupted, and every report read from the store says so', async () => {
    const db = join(s.dir, 'term.sqlite');
    const r = await stopMidIngest('SIGTERM', ['--db', db], s.dir);
    expect(r.code).toBe(143);
    expectOneLine({ ...r, out: '' }, /interrupted by SIGTERM; .*term\.sqlite keeps the captures read so far; one stopped part way is marked interrupted there/);
    expect(integrity(db)).toBe('ok');
    const [cap] = query<{ status: string; frames: number; n: number }>(db, 'SELECT status, frames, (SELECT count(*) FROM connections) AS n FROM captures');
    expect(cap.status).toBe('interrupted');
    // Part of the capture was read (at least the 135 000 bytes the FIFO cannot have kept), not all of it.
    expect(cap.frames).toBeGreaterThan(0);
    expect(cap.frames).toBeLessThan(2581);
    expect(query(db, 'SELECT * FROM writer_lock')).toEqual([]);
    const json = cli(['analyze', '--db', db, '--format', 'json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.out).captures.map((c: { interrupted: boolean }) => c.interrupted)).toEqual([true]);
    expectOneLine(json, /term\.sqlite: fifo-SIGTERM-\w+ was not read to the end \(the run reading it was interrupted\)/);
    const text = cli(['analyze', '--db', db]);
    expect(text.out).toMatch(/was not read to the end: the run reading it into the store was\s+interrupted/);
    // The next run adds to it.
    expect(cli(['analyze', SERVER, '-q', '--db', db]).code).toBe(3);
    expect(query(db, 'SELECT status FROM captures ORDER BY id')).toEqual([{ status: 'interrupted' }, { status: 'complete' }]);
  });

  it('SIGKILL with --db (no cleanup at all): the store passes integrity_check, the capture reads as interrupted, the lock is taken over', async () => {
    const db = join(s.dir, 'kill.sqlite');
    const r = await stopMidIngest('SIGKILL', ['--db', db], s.dir);
    expect(r.signal).toBe('SIGKILL');
    expect(integrity(db)).toBe('ok');
    expect(query(db, 'SELECT status FROM captures')).toEqual([{ status: 'interrupted' }]);
    expect(query<{ n: number }>(db, 'SELECT count(*) AS n FROM writer_lock')[0].n).toBe(1);
    const next = cli(['analyze', SERVER, '-q', '--db', db]);
    expect(next.code).toBe(3);
    expectOneLine(next, /was not read to the end/);
    expect(query(db, 'SELECT * FROM writer_lock')).toEqual([]);
  });

  it('a writer killed inside a transaction leaves a hot journal: flows --db rolls it back, or says why it cannot', async () => {
    const db = join(s.dir, 'hot.sqlite');
    expect(cli(['analyze', SERVER, '-q', '--db', db]).code).toBe(0);
    const [before] = query<{ frames: number }>(db, 'SELECT frames FROM captures');
    // A process that changes the store inside a transaction and is killed before COMMIT.
    const child = spawn(process.execPath, ['-e', `
      const D = require(${JSON.stringify(require.resolve('better-sqlite3'))});
      const d = new D(${JSON.stringify(db)});
      d.pragma('cache_size = 1');
      d.exec('BEGIN IMMEDIATE'); d.exec('UPDATE captures SET frames = frames + 1');
      for (let i = 0; i < 200; i++) d.prepare('INSERT INTO settings VALUES (?, ?)').run('k' + i, 'x'.repeat(3000));
      process.stdout.write('ready'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const gone = new Promise<void>((resolve) => child.on('close', () => resolve()));
    // Ready, or dead (then the journal check below fails instead of the test hanging).
    await Promise.race([new Promise<void>((resolve) => child.stdout!.once('data', () => resolve())), gone]);
    child.kill('SIGKILL');
    await gone;
    expect(existsSync(`${db}-journal`)).toBe(true);
    chmodSync(db, 0o444);
    const ro = cli(['flows', '--db', db], { asNobody: true });
    expect(ro.code).toBe(3);
    expectOneLine(ro, /hot\.sqlite: a run writing it was killed mid-commit and only a writable open can roll its journal .*hot\.sqlite-journal\) back; open it once with write access/);
    chmodSync(db, 0o644);
    const rw = cli(['flows', '--db', db, '--format', 'json']);
    expect(rw.code).toBe(0);
    expect(existsSync(`${db}-journal`)).toBe(false);
    expect(query(db, 'SELECT frames FROM captures')).toEqual([before]);
    expect(JSON.parse(rw.out).length).toBeGreaterThan(0);
    expect(integrity(db)).toBe('ok');
  });

  it('SIGKILL at seeded random points of a --db run: integrity_check ok, no capture left looking whole', async () => {
    const whole = query<{ n: number }>(((): string => {
      const db = join(s.dir, 'kill-ref.sqlite');
      expect(cli(['flows', SERVER, '--db', db, '--limit', '0']).code).toBe(0);
      return db;
    })(), 'SELECT count(*) AS n FROM connections')[0].n;
    let x = 4242;
    const rnd = (): number => { x = (x * 1103515245 + 12345) % 2 ** 31; return x / 2 ** 31; };
    const db = join(s.dir, 'kill-random.sqlite');
    for (let i = 0; i < 6; i++) {
      const c = spawn(process.execPath, [CLI, 'analyze', SERVER, SERVER, SERVER, '-q', '--db', db], { stdio: 'ignore' });
      const done = new Promise<void>((resolve) => c.on('close', () => resolve()));
      setTimeout(() => c.kill('SIGKILL'), Math.floor(rnd() * 1500));
      await done;
      if (!existsSync(db)) continue;
      expect(integrity(db)).toBe('ok');
      const caps = query<{ status: string; frames: number; n: number }>(db, 'SELECT status, frames, (SELECT count(*) FROM connections x WHERE x.capture_id = c.id) AS n FROM captures c');
      for (const cap of caps) if (cap.status === 'complete') expect(cap).toEqual({ status: 'complete', frames: 2581, n: whole });
    }
    // After all that, a run still works on the same store.
    expect([0, 3]).toContain(cli(['analyze', SERVER, '-q', '--db', db]).code);
    expect(integrity(db)).toBe('ok');
  });

  it('signals at seeded random points of whole runs: the temporary store is always removed', async () => {
    const tmp = join(s.dir, 'tmp-random');
    mkdirSync(tmp);
    let x = 20261201;
    const rnd = (): number => { x = (x * 1103515245 + 12345) % 2 ** 31; return x / 2 ** 31; };
    for (let i = 0; i < 8; i++) {
      const delay = Math.floor(rnd() * 900);
      const sig = rnd() < 0.5 ? 'SIGINT' : 'SIGTERM';
      const c = spawn(process.execPath, [CLI, 'analyze', SERVER, '--format', 'html'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
      let err = '';
      c.stderr!.on('data', (d) => { err += d; });
      const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => c.on('close', (code, signal) => resolve({ code, signal })));
      setTimeout(() => c.kill(sig), delay);
      const r = await done;
      // Before the handlers are installed the signal's default action ends Node (no store yet);
      // after, exit 128+N with one line; a run that ended first exits 0.
      if (r.signal === null) expect([0, 130, 143]).toContain(r.code);
      expect(err).not.toMatch(/internal error|\n\s+at /);
      expect(readdirSync(tmp)).toEqual([]);
    }
  });
});
