#!/usr/bin/env node
/**
 * One end-to-end run on a large capture (not a test): `tcpdiag analyze FILE -q` under
 * /usr/bin/time -v with its temporary store in a fresh TMPDIR, whose size is sampled every
 * 0.5 s for the peak temporary disk; prints wall time, CPU time, peak RSS, peak temporary
 * disk and whether the store was removed at exit. Make the capture first, e.g. 10 GB:
 *   node bench/gen-connections.mjs 40000 /big/connections-40000.pcap
 * Usage: npm run build && node bench/big.mjs FILE [TMPDIR-parent=os.tmpdir()]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILE = process.argv[2];
if (!FILE) { console.error('usage: node bench/big.mjs FILE [TMPDIR-parent]'); process.exit(2); }
const tmp = mkdtempSync(join(process.argv[3] ?? tmpdir(), 'tcpdiag-big-'));
const CLI = process.env.TCPDIAG_CLI ?? join(ROOT, 'dist/cli.js');

function du(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    try { n += e.isDirectory() ? du(p) : statSync(p).blocks * 512; } catch { /* removed meanwhile */ }
  }
  return n;
}

let peak = 0;
const sampler = setInterval(() => { peak = Math.max(peak, du(tmp)); }, 500);
const t0 = performance.now();
const child = spawn('/usr/bin/time', ['-v', process.execPath, CLI, 'analyze', FILE, '-q'], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
let out = '', err = '';
child.stdout.on('data', (d) => { out += d; });
child.stderr.on('data', (d) => { err += d; });
child.on('close', (code) => {
  clearInterval(sampler);
  const wall = (performance.now() - t0) / 1000;
  const f = (re) => Number(re.exec(err)?.[1]);
  const left = du(tmp);
  console.log(`${FILE}: ${(statSync(FILE).size / 1e9).toFixed(2)} GB; node ${process.version}; ${cpus().length} x ${cpus()[0].model}; exit ${code}`);
  console.log(`wall ${wall.toFixed(1)} s, user ${f(/User time \(seconds\): ([\d.]+)/).toFixed(1)} s, system ${f(/System time \(seconds\): ([\d.]+)/).toFixed(1)} s, `
    + `peak RSS ${(f(/Maximum resident set size \(kbytes\): (\d+)/) / 1024).toFixed(0)} MB, peak temporary disk ${(peak / 1e9).toFixed(2)} GB, left after exit ${left} bytes`);
  console.log(out.trim());
  if (code !== 0) console.log(err.split('\n').filter((l) => !/^\t/.test(l)).join('\n').trim());
  rmSync(tmp, { recursive: true, force: true });
});
