import Database from 'better-sqlite3';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ROOT, SAMPLES } from '../helpers/pipeline.js';

/** The built CLI, as a user runs it (npm test builds dist/ first). */
export const CLI = join(ROOT, 'dist', 'cli.js');
export const SERVER = join(SAMPLES, 'tw-stale-ack-ts-stripped', 'server.pcap');
export const IS_ROOT = process.getuid?.() === 0;

export interface Run { code: number | null; signal: NodeJS.Signals | null; out: string; err: string }

/** Run the CLI to the end. `asNobody` drops root (uid/gid 65534) so file permissions apply. */
export function cli(args: string[], opts: SpawnSyncOptions & { asNobody?: boolean } = {}): Run {
  const [cmd, argv] = opts.asNobody && IS_ROOT
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args]]
    : [process.execPath, [CLI, ...args]];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 28, ...opts, env: { ...process.env, NO_COLOR: '1', ...opts.env } });
  return { code: r.status, signal: r.signal, out: String(r.stdout ?? ''), err: String(r.stderr ?? '') };
}

/** The fault contract: exactly one line on stderr, starting "tcpdiag: ", no stack trace, no "internal error". */
export function expectOneLine(r: Run, pattern: RegExp): void {
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(r.err).not.toMatch(/internal error/);
  expect(r.err.split('\n').filter((l) => l !== '')).toHaveLength(1);
  expect(r.err).toMatch(/^tcpdiag: /);
  expect(r.err).toMatch(pattern);
}

/**
 * PRAGMA integrity_check of a store, opened read-write as the sqlite3 shell opens it: a run
 * killed mid-commit leaves a hot journal that only a writable connection rolls back.
 */
export function integrity(db: string): string {
  const d = new Database(db, { fileMustExist: true });
  try {
    return d.pragma('integrity_check', { simple: true }) as string;
  } finally {
    d.close();
  }
}

export function query<T = Record<string, unknown>>(db: string, sql: string): T[] {
  const d = new Database(db, { fileMustExist: true });
  try {
    return d.prepare(sql).all() as T[];
  } finally {
    d.close();
  }
}

/** A fresh folder, removed by the returned function. */
export function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-faults-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Mount a tmpfs of `size` at dir (root only); returns the unmount. */
export function tmpfs(dir: string, size: string): () => void {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=1777`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  return () => { spawnSync('umount', [dir]); };
}

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN): tried once, on a scratch folder. */
export const CAN_MOUNT = ((): boolean => {
  if (!IS_ROOT) return false;
  const s = scratch();
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', s.dir]);
    if (r.status !== 0) return false;
    spawnSync('umount', [s.dir]);
    return true;
  } finally {
    s.done();
  }
})();

export { spawn };
