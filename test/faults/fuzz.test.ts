import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { analyzeCommand } from '../../src/commands/analyze.js';
import { CaptureError, ExitError } from '../../src/errors.js';
// @ts-expect-error plain ES module shared with bench/fuzz.mjs
import { baseCaptures, fuzzInput, rng } from '../../scripts/fuzz-cases.mjs';
import { SAMPLES } from '../helpers/pipeline.js';
import { cli, expectOneLine, scratch } from './helpers.js';

/**
 * Seeded mutations of every corpus and lab capture through the whole `analyze` (decode,
 * store, detectors, report) in every format, in process so a minute covers a few hundred
 * inputs; a sample of them through the built CLI as well. A fixed count, not a time budget,
 * so every run tries the same inputs (bench/fuzz.mjs runs as many as a budget allows).
 * Allowed: exit 0 or 3 (damage reported), a report that renders (JSON that parses).
 */
// Each CLI case spawns Node (~0.3 s of start-up apiece on a busy 2-core machine).
vi.setConfig({ testTimeout: 120_000 });

const INPUTS = 200;
const CLI_RUNS = 12;
const FORMATS = ['text', 'md', 'json', 'html'];

const s = scratch();
afterAll(() => s.done());
const tmp = join(s.dir, 'tmp');
mkdirSync(tmp);

describe('fault fuzz: mutated captures through analyze', () => {
  const bases = baseCaptures(SAMPLES) as { path: string; bytes: Buffer }[];
  const r = rng(0x7cd1a6);
  const inputs = Array.from({ length: INPUTS }, () => fuzzInput(r, bases) as { base: string; bytes: Buffer; kinds: string[] });

  it(`${INPUTS} inputs in process, every format: no throw, reports render, temporary stores removed`, async () => {
    expect(bases.length).toBeGreaterThan(40);
    const oldTmp = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    // analyze prints capture errors on stderr: keep them out of the test log.
    const quiet = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const failures: string[] = [];
    const codes = new Map<number, number>();
    try {
      for (let i = 0; i < inputs.length; i++) {
        const inp = inputs[i];
        const f = join(s.dir, `in-${i}`);
        writeFileSync(f, inp.bytes);
        const format = FORMATS[i % FORMATS.length];
        const out = join(s.dir, `out-${i}.${format}`);
        try {
          const code = await analyzeCommand([f], { timeWait: 60, portRange: '32768-60999', format, output: out });
          codes.set(code, (codes.get(code) ?? 0) + 1);
          if (code !== 0 && code !== 3) failures.push(`${i} ${inp.base} ${inp.kinds}: exit ${code}`);
          const text = readFileSync(out, 'utf8');
          if (text.length === 0) failures.push(`${i}: empty ${format} report`);
          if (format === 'json') JSON.parse(text);
        } catch (e) {
          const what = e instanceof ExitError || e instanceof CaptureError ? e.message : (e as Error).stack;
          failures.push(`${i} ${inp.base} ${inp.kinds} (${format}): ${what}`);
        }
      }
    } finally {
      quiet.mockRestore();
      process.env.TMPDIR = oldTmp;
    }
    expect(failures).toEqual([]);
    // The mutations reach both outcomes: damage found, and damage the decoder reads through.
    expect(codes.get(3) ?? 0).toBeGreaterThan(INPUTS / 10);
    expect(codes.get(0) ?? 0).toBeGreaterThan(INPUTS / 10);
    expect(readdirSync(tmp)).toEqual([]);
  }, 180_000);

  it(`${CLI_RUNS} of them through the built CLI: exit 0 or 3, no stack trace, damage as one line plus its warning`, () => {
    for (let i = 0; i < CLI_RUNS; i++) {
      const f = join(s.dir, `cli-${i}`);
      writeFileSync(f, inputs[i].bytes);
      const res = cli(['analyze', f, '--format', FORMATS[i % FORMATS.length]], { env: { TMPDIR: tmp } });
      expect([0, 3]).toContain(res.code);
      expect(res.err).not.toMatch(/\n\s+at |internal error/);
      if (res.code === 3) {
        const [first, second, ...rest] = res.err.trim().split('\n');
        expectOneLine({ ...res, err: `${first}\n` }, new RegExp(`^tcpdiag: ${f.replace(/[/.]/g, '\\$&')}: \\w[\\w-]* at (decompressed )?byte offset \\d+`));
        expect(second).toMatch(/^tcpdiag: warning: .* was read only up to (decompressed )?byte offset \d+; results cover the packets before it$/);
        expect(rest).toEqual([]);
      }
    }
    expect(readdirSync(tmp)).toEqual([]);
  });
});
