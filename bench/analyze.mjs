#!/usr/bin/env node
/**
 * End-to-end benchmark (not a test). Makes the connections capture if it is missing
 * (bench/gen-connections.mjs), then times, one run after another (never two at once: the
 * machine's cores are shared), each command RUNS times under /usr/bin/time -v:
 *   ingest      tcpdiag flows --limit 0 --db <tmp>   (decode, track, write and index the store)
 *   end to end  tcpdiag analyze -q                   (ingest + detectors + report)
 *   decode      tcpdiag decode --count-only          (the ceiling for ingest)
 *   tshark      tshark -r F -q -z conv,tcp           (reference)
 * and prints medians of wall time and peak RSS, and packets/s.
 * Usage: npm run build && node bench/analyze.mjs [copies=1000] [runs=3]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const COPIES = Number(process.argv[2] ?? 1000);
const RUNS = Number(process.argv[3] ?? 3);
const FILE = join(ROOT, 'bench/out', COPIES === 1000 ? 'connections.pcap' : `connections-${COPIES}.pcap`);
// TCPDIAG_CLI: another build to compare (e.g. a copy of dist/ from before a change).
const CLI = process.env.TCPDIAG_CLI ?? join(ROOT, 'dist/cli.js');
// The generator replays a 2581-packet, 100-connection lab capture.
const PACKETS = COPIES * 2581;
const CONNECTIONS = COPIES * 100;

if (!existsSync(FILE)) execFileSync(process.execPath, [join(ROOT, 'bench/gen-connections.mjs'), String(COPIES), FILE], { stdio: 'inherit' });

function timed(args) {
  const r = spawnSync('/usr/bin/time', ['-v', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const secs = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
  const rssMb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]) / 1024;
  return { secs, rssMb };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tmp = mkdtempSync(join(tmpdir(), 'tcpdiag-bench-'));
const db = join(tmp, 'store.sqlite');

const cases = [
  { label: 'ingest: tcpdiag flows --limit 0 --db', args: () => [process.execPath, CLI, 'flows', FILE, '--db', db, '--limit', '0'], before: () => rmSync(db, { force: true }) },
  { label: 'end to end: tcpdiag analyze -q', args: () => [process.execPath, CLI, 'analyze', FILE, '-q'] },
  { label: 'decode: tcpdiag decode --count-only', args: () => [process.execPath, CLI, 'decode', '--count-only', FILE] },
  { label: 'tshark -q -z conv,tcp', args: () => ['tshark', '-r', FILE, '-q', '-z', 'conv,tcp'] },
];

console.log(`${FILE}: ${PACKETS} packets, ${CONNECTIONS} connections, ${(statSync(FILE).size / 1e6).toFixed(0)} MB; `
  + `node ${process.version}; ${cpus().length} x ${cpus()[0].model}; ${RUNS} runs each, medians`);
console.log(`${'command'.padEnd(40)} ${'wall s'.padStart(7)} ${'M pkt/s'.padStart(8)} ${'peak RSS MB'.padStart(12)}   runs (s)`);
try {
  for (const c of cases) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      c.before?.();
      runs.push(timed(c.args()));
    }
    const s = median(runs.map((r) => r.secs));
    const m = median(runs.map((r) => r.rssMb));
    console.log(`${c.label.padEnd(40)} ${s.toFixed(2).padStart(7)} ${(PACKETS / s / 1e6).toFixed(2).padStart(8)} ${m.toFixed(0).padStart(12)}   ${runs.map((r) => r.secs.toFixed(2)).join(' ')}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
