#!/usr/bin/env node
/**
 * How much of the machine's two cores one `tcpdiag analyze` uses, stage by stage and thread by
 * thread (issue #16: several captures on the command line use both cores). Not a test.
 *
 * Runs `node dist/cli.js analyze FILE... -q` with TCPDIAG_PHASES=1 (src/commands/phases.ts: one
 * stderr line as each stage ends) and samples /proc/PID/task/TID/stat every 20 ms: utime + stime
 * (fields 14 and 15, clock ticks; proc(5)) of every thread. Prints, per stage (plan: the
 * pre-pass over several files, src/commands/scan.ts; read, indexes, attempts, detectors,
 * report), its wall time, the CPU seconds of the process in it, their ratio (2.0 = both cores
 * busy), and the CPU of the threads that did most of it. Threads are
 * named by creation order: "main" (tid = pid), then "thread N" for the others; the writer
 * thread is the busiest during read besides main, the detector thread during detectors.
 * Each sample reads every thread's stat file, so a stage shorter than ~50 ms is not resolved.
 *
 * Usage: npx tsc -p tsconfig.json && node bench/cores.mjs [FILE...]
 *   default: bench/out/connections.pcap bench/out/long.pcap (two capture points)
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { CLI, ROOT, SHAPES, capture, machine, warm } from './timed.mjs';
import { relative } from 'node:path';

const files = process.argv.length > 2 ? process.argv.slice(2)
  : [capture('short', SHAPES.short.defaultCopies).file, capture('long', SHAPES.long.defaultCopies).file];
const TICK = 100; // CLK_TCK on Linux (getconf CLK_TCK)

console.log(`machine: ${machine()}`);
for (const f of files) console.log(`${relative(ROOT, f) || f}: ${warm(f)} packets`);

const child = spawn(process.execPath, [CLI, 'analyze', ...files, '-q'], { env: { ...process.env, TCPDIAG_PHASES: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
const t0 = performance.now();
const order = new Map(); // tid -> creation rank
const cpu = new Map(); // tid -> last ticks
const marks = []; // [name, seconds since start as the child saw it, ticks per tid at that moment]
let stderr = '';

function sample() {
  let tids;
  try { tids = readdirSync(`/proc/${child.pid}/task`); } catch { return; }
  for (const t of tids) {
    let s;
    try { s = readFileSync(`/proc/${child.pid}/task/${t}/stat`, 'utf8'); } catch { continue; }
    // comm (field 2) may hold spaces: count fields after its closing parenthesis
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    if (!order.has(t)) order.set(t, order.size);
    cpu.set(t, ticks);
  }
}
child.stderr.setEncoding('utf8');
child.stderr.on('data', (d) => {
  stderr += d;
  for (const m of d.matchAll(/^phase (\w+): ([\d.]+) s/gm)) { sample(); marks.push([m[1], Number(m[2]), new Map(cpu)]); }
});
const timer = setInterval(sample, 20);
const code = await new Promise((r) => child.on('exit', r));
clearInterval(timer);
const wall = (performance.now() - t0) / 1000;
if (code !== 0 && code !== 1) { console.error(stderr.slice(-2000)); process.exit(1); }

const name = (t) => (String(child.pid) === t ? 'main' : `thread ${order.get(t)}`);
console.log(`node ${relative(ROOT, CLI)} analyze ${files.map((f) => relative(ROOT, f)).join(' ')} -q: exit ${code}, ${wall.toFixed(2)} s wall`);
console.log(`${'stage'.padEnd(10)} ${'wall s'.padStart(7)} ${'cpu s'.padStart(7)} ${'cpu/wall'.padStart(8)}  busiest threads (cpu s)`);
let prevT = 0;
let prev = new Map();
let allCpu = 0;
for (const [stage, t, ticks] of marks) {
  const d = [...ticks].map(([tid, v]) => [tid, (v - (prev.get(tid) ?? 0)) / TICK]).sort((a, b) => b[1] - a[1]);
  const sum = d.reduce((n, [, v]) => n + v, 0);
  allCpu += sum;
  const w = t - prevT;
  console.log(`${stage.padEnd(10)} ${w.toFixed(2).padStart(7)} ${sum.toFixed(2).padStart(7)} ${(sum / w).toFixed(2).padStart(8)}  ${d.slice(0, 3).filter(([, v]) => v > 0.02).map(([tid, v]) => `${name(tid)} ${v.toFixed(2)}`).join(', ')}`);
  prevT = t;
  prev = ticks;
}
console.log(`${'all'.padEnd(10)} ${prevT.toFixed(2).padStart(7)} ${allCpu.toFixed(2).padStart(7)} ${(allCpu / prevT).toFixed(2).padStart(8)}  (up to the report; start-up and exit excluded)`);
