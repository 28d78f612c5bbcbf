#!/usr/bin/env node
/**
 * The long fault fuzz: `node bench/fuzz.mjs [SECONDS=600] [SEED=1] [CLI_EVERY=25]`.
 *
 * Seeded mutations of every corpus and lab capture (scripts/fuzz-cases.mjs, the same
 * generator as test/faults/fuzz.test.ts) through the whole `analyze` of the built dist/
 * (`npm run build` first), in process, rotating the four formats; every CLI_EVERY-th input
 * also through `node dist/cli.js analyze` to check exit code and stderr. Runs until the time
 * budget is spent, then prints how many inputs it tried and what they gave. A failure (a
 * throw, an exit other than 0 or 3, an empty report, JSON that does not parse, a stack trace,
 * an input still running after 60 s, a temporary store left behind) is saved under
 * bench/fuzz-failures/ with its seed and index, so it can be replayed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseCaptures, fuzzInput, rng } from '../scripts/fuzz-cases.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.argv[2] ?? 600);
const SEED = Number(process.argv[3] ?? 1);
const CLI_EVERY = Number(process.argv[4] ?? 25);
const FORMATS = ['text', 'md', 'json', 'html'];
const PER_INPUT_LIMIT_MS = 60_000;

const { analyzeCommand } = await import(join(ROOT, 'dist', 'commands', 'analyze.js'));
const work = mkdtempSync(join(tmpdir(), 'tcpdiag-fuzz-'));
const tmp = join(work, 'tmp');
mkdirSync(tmp);
process.env.TMPDIR = tmp;
const failDir = join(ROOT, 'bench', 'fuzz-failures');

const bases = baseCaptures(join(ROOT, 'samples'));
const r = rng(SEED);
const codes = new Map();
const kinds = new Map();
let tried = 0, cliRuns = 0, failures = 0, bytes = 0;
const realWrite = process.stderr.write.bind(process.stderr);

function fail(i, inp, why) {
  failures++;
  mkdirSync(failDir, { recursive: true });
  const name = `seed${SEED}-input${i}`;
  writeFileSync(join(failDir, name), inp.bytes);
  writeFileSync(join(failDir, `${name}.txt`), `base ${inp.base}\nmutations ${inp.kinds.join(',')}\n${why}\n`);
  realWrite(`FAIL ${name}: ${why.split('\n')[0]}\n`);
}

const t0 = Date.now();
while (Date.now() - t0 < SECONDS * 1000) {
  const i = tried++;
  const inp = fuzzInput(r, bases);
  for (const k of inp.kinds) kinds.set(k, (kinds.get(k) ?? 0) + 1);
  bytes += inp.bytes.length;
  const f = join(work, 'input');
  writeFileSync(f, inp.bytes);
  const format = FORMATS[i % FORMATS.length];
  const out = join(work, `report.${format}`);
  rmSync(out, { force: true });
  process.stderr.write = () => true; // capture errors are expected; keep the terminal for results
  let timer;
  try {
    const code = await Promise.race([
      analyzeCommand([f], { timeWait: 60, portRange: '32768-60999', format, output: out }),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`still running after ${PER_INPUT_LIMIT_MS / 1000} s`)), PER_INPUT_LIMIT_MS); }),
    ]);
    codes.set(code, (codes.get(code) ?? 0) + 1);
    process.stderr.write = realWrite;
    if (code !== 0 && code !== 3) fail(i, inp, `exit ${code}`);
    const text = readFileSync(out, 'utf8');
    if (text.length === 0) fail(i, inp, `empty ${format} report`);
    if (format === 'json') JSON.parse(text);
  } catch (e) {
    process.stderr.write = realWrite;
    fail(i, inp, `${format}: ${e?.stack ?? e}`);
  } finally {
    clearTimeout(timer);
    process.stderr.write = realWrite;
  }
  if (readdirSync(tmp).length > 0) { fail(i, inp, `temporary store left: ${readdirSync(tmp).join(', ')}`); rmSync(tmp, { recursive: true, force: true }); mkdirSync(tmp); }
  if (CLI_EVERY > 0 && i % CLI_EVERY === 0) {
    cliRuns++;
    const res = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'analyze', f, '--format', format], { encoding: 'utf8', timeout: PER_INPUT_LIMIT_MS, maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1' } });
    if (![0, 3].includes(res.status) || /\n\s+at |internal error/.test(res.stderr)) fail(i, inp, `CLI exit ${res.status} ${res.signal ?? ''}: ${res.stderr}`);
  }
  if (tried % 100 === 0) realWrite(`${tried} inputs, ${((Date.now() - t0) / 1000).toFixed(0)} s, ${failures} failures\n`);
}
rmSync(work, { recursive: true, force: true });
const secs = (Date.now() - t0) / 1000;
console.log(`tried ${tried} inputs (${(bytes / 1e6).toFixed(1)} MB) from ${bases.length} captures in ${secs.toFixed(0)} s, seed ${SEED}: ${cliRuns} also through the CLI`);
console.log(`exit codes: ${[...codes].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}: ${n}`).join(', ')}`);
console.log(`mutations: ${[...kinds].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
console.log(`failures: ${failures}${failures ? ` (inputs in ${failDir})` : ''}`);
process.exitCode = failures > 0 ? 1 : 0;
