import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, SAMPLES } from '../helpers/pipeline.js';

/** The command line as a user meets it: spawned, with real pipes (and a real TTY where it matters). */

const CLI = join(ROOT, 'dist/cli.js');
const run = (args: string[], env: Record<string, string> = {}) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env } });
const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const STALE = join(SAMPLES, 'tw-stale-ack-ts-stripped', 'server.pcap');
const REFUSED = join(SAMPLES, 'refused', 'server.pcap');
const ANSI = /\x1b\[[0-9;]*m/g;

describe('terminal manners', () => {
  it('--version prints the package version', () => {
    const r = run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('--help shows examples and the exit codes', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Examples:/);
    expect(r.stdout).toMatch(/Exit codes:\n\s+0 /);
    expect(run(['analyze', '--help']).stdout).toMatch(/Exit codes:/);
  });

  it('a mistyped file name is one line and exit 3, nothing on stdout', () => {
    for (const cmd of ['analyze', 'flows']) {
      const r = run([cmd, 'nosuch.pcap']);
      expect(r.status).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('tcpdiag: nosuch.pcap: no such file\n');
    }
  });

  it('flows rejects a bad --tuple or --state (exit 2) and says "3 of 15" under --limit', () => {
    expect(run(['flows', REFUSED, '--tuple', 'foo']).status).toBe(2);
    expect(run(['flows', REFUSED, '--tuple', '999.1.1.1']).status).toBe(2);
    expect(run(['flows', REFUSED, '--state', 'XX']).status).toBe(2);
    expect(run(['flows', REFUSED, '--state', 'rej']).status).toBe(0);
    const r = run(['flows', REFUSED, '--limit', '3']);
    expect(r.status).toBe(0);
    // 15 connections: the lab's client log has 15 connect() calls (samples/refused/expected.json).
    expect(r.stdout).toMatch(/\n3 of 15 connections\n$/);
  });

  it('-o infers the format from the extension, --format wins when given', () => {
    for (const [ext, check] of [['md', (s: string) => s.startsWith('# tcpdiag report')], ['json', (s: string) => JSON.parse(s).schemaVersion === 2],
      ['html', (s: string) => s.startsWith('<!DOCTYPE html>')]] as [string, (s: string) => boolean][]) {
      const out = join(dir, `r.${ext}`);
      expect(run(['analyze', STALE, '-o', out]).status).toBe(0);
      expect(check(readFileSync(out, 'utf8'))).toBe(true);
    }
    const out = join(dir, 'forced.md');
    expect(run(['analyze', STALE, '-o', out, '--format', 'json']).status).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).schemaVersion).toBe(2);
  });

  it('-q is the verdict alone in every format', () => {
    const text = run(['analyze', STALE, '-q']).stdout;
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(text).toMatch(/^PROBLEM: /);
    const json = JSON.parse(run(['analyze', STALE, '-q', '--format', 'json']).stdout);
    expect(Object.keys(json)).toEqual(['schemaVersion', 'verdict']);
    expect(run(['analyze', STALE, '-q', '--format', 'md']).stdout).toMatch(/^\*\*Verdict \(problem\):\*\* [^\n]+\n$/);
    const html = run(['analyze', STALE, '-q', '--format', 'html']).stdout;
    expect(html).toContain('id="verdict"');
    expect(html).not.toContain('id="causes"');
  });

  it('--color always|never and FORCE_COLOR decide colour, whatever stdout is', () => {
    expect(run(['analyze', STALE, '-q', '--color', 'always']).stdout).toMatch(ANSI);
    expect(run(['analyze', STALE, '-q', '--color', 'never'], { FORCE_COLOR: '1' }).stdout).not.toMatch(ANSI);
    expect(run(['analyze', STALE, '-q'], { FORCE_COLOR: '1' }).stdout).toMatch(ANSI);
    expect(run(['analyze', STALE, '-q']).stdout).not.toMatch(ANSI); // a pipe, not a TTY
    expect(run(['analyze', STALE, '--color', 'sometimes']).status).toBe(2);
  });

  it.skipIf(!existsSync('/usr/bin/script'))('wraps to an 80-column terminal, tables too', () => {
    // script(1) gives the CLI a real TTY of 80 columns.
    const out = execFileSync('script', ['-qec', `stty cols 80; node ${CLI} analyze ${STALE}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const lines = out.replace(ANSI, '').replace(/\r/g, '').split('\n');
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) expect([l.length <= 80, l]).toEqual([true, l]);
  });
});

describe('kept stores remember their settings', () => {
  it('analyze --db re-runs with the TIME_WAIT period and port range it was made with, unless given again', () => {
    const db = join(dir, 'kept.sqlite');
    expect(run(['analyze', STALE, '--db', db, '--time-wait', '120', '--port-range', '49152-65535', '-q']).status).toBe(0);
    const again = JSON.parse(run(['analyze', '--db', db, '--format', 'json']).stdout);
    expect(again.settings).toEqual({ timeWaitS: 120, portRange: [49152, 65535] });
    const changed = JSON.parse(run(['analyze', '--db', db, '--format', 'json', '--time-wait', '60']).stdout);
    expect(changed.settings.timeWaitS).toBe(60);
    expect(JSON.parse(run(['analyze', '--db', db, '--format', 'json']).stdout).settings.timeWaitS).toBe(60);
  });
});
