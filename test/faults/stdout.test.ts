import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CAN_MOUNT, CLI, cli, expectOneLine, scratch, SERVER, spawn, tmpfs } from './helpers.js';

// Each case spawns the CLI (~0.3 s of start-up apiece on a busy 2-core machine).
vi.setConfig({ testTimeout: 120_000 });

/** Run with stdout a pipe whose reading end is closed before the CLI writes: every write gets EPIPE. */
function closedPipe(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    c.stdout!.destroy();
    let err = '';
    c.stderr!.on('data', (d) => { err += d; });
    c.on('close', (code) => resolve({ code, err }));
  });
}

/** Run with stdout on /dev/full: every write gets ENOSPC (null(4): "No space left on device"). */
function devFull(args: string[]): ReturnType<typeof cli> {
  const fd = openSync('/dev/full', 'w');
  try {
    return cli(args, { stdio: ['ignore', fd, 'pipe'] });
  } finally {
    closeSync(fd);
  }
}

describe('stdout closed by its reader (| head): quiet, exit 141 as git', () => {
  for (const format of ['text', 'md', 'json', 'html']) {
    it(`analyze --format ${format}`, async () => {
      const r = await closedPipe(['analyze', SERVER, '--format', format]);
      expect(r.err).toBe('');
      expect(r.code).toBe(141);
    });
  }
  it('flows, decode, decode --count-only', async () => {
    for (const args of [['flows', SERVER], ['decode', SERVER], ['decode', '--count-only', SERVER]]) {
      const r = await closedPipe(args);
      expect(r.err.replace(/^decoded in .*\n/, '')).toBe('');
      expect(r.code).toBe(141);
    }
  });
});

describe.skipIf(!existsSync('/dev/full'))('stdout on a full device: one line, exit 3, the capture not blamed', () => {
  it('analyze in every format', () => {
    for (const format of ['text', 'md', 'json', 'html']) {
      const r = devFull(['analyze', SERVER, '--format', format]);
      expect(r.code).toBe(3);
      expectOneLine(r, /^tcpdiag: cannot write the report to stdout: no space left on device\n$/);
    }
  });
  it('decode and flows', () => {
    const d = devFull(['decode', SERVER]);
    expect(d.code).toBe(3);
    expectOneLine(d, /^tcpdiag: cannot write the packet lines to stdout: no space left on device\n$/);
    expect(d.err).not.toContain(SERVER);
    const f = devFull(['flows', SERVER]);
    expect(f.code).toBe(3);
    expectOneLine(f, /^tcpdiag: cannot write the connection table to stdout: no space left on device\n$/);
  });
  it('-o /dev/full is reported and /dev/full left alone', () => {
    const r = cli(['analyze', SERVER, '-o', '/dev/full']);
    expect(r.code).toBe(3);
    expectOneLine(r, /^tcpdiag: cannot write \/dev\/full: no space left on device\n$/);
    expect(existsSync('/dev/full')).toBe(true);
  });
});

describe.skipIf(!CAN_MOUNT)('-o on a full file system (a 16 KiB tmpfs)', () => {
  const s = scratch();
  const umount = CAN_MOUNT ? tmpfs(s.dir, '16k') : () => {};
  afterAll(() => { umount(); s.done(); });
  it('one line, exit 3, no partial report left; the next run with room works', () => {
    const out = join(s.dir, 'report.html');
    const r = cli(['analyze', SERVER, '--format', 'html', '-o', out]);
    expect(r.code).toBe(3);
    expectOneLine(r, /^tcpdiag: cannot write .*report\.html: no space left on device; the partial file was removed\n$/);
    expect(existsSync(out)).toBe(false);
    const q = cli(['analyze', SERVER, '-q', '-o', join(s.dir, 'verdict.txt')]);
    expect(q.code).toBe(0);
  });
});
