#!/usr/bin/env node
/**
 * Does tcpdiag's memory grow with the capture? (issue #16 target: peak RSS under 300 MB, flat
 * from 1 to 40 million packets.) Not a test. For each copy count in the list, makes the capture
 * if missing (bench/gen-connections.mjs, or bench/gen-long.mjs with --shape long), reads it once
 * untimed, and runs
 *   node dist/cli.js analyze F -q
 * RUNS times under /usr/bin/time -v, one run at a time; prints per size the packets, connections,
 * file size, median wall time and the median and highest peak RSS (target <= 300 MB marked), then
 * the growth of peak RSS from the smallest to the largest capture and between the last two, in
 * MB per million packets.
 * Captures this script makes are deleted after they are measured (the largest are several GB),
 * unless --keep-files; captures that were there already are left alone.
 *
 * Usage: npx tsc -p tsconfig.json && node bench/rss-scale.mjs [--shape short|long]
 *          [--copies 100,1000,4000,16000] [--runs 1] [--keep-files]
 *   short (default): copies of 2581 packets / 100 connections (16000 copies: 41 M packets, ~4.0 GB);
 *   long: copies of 9086 packets / 50 connections (default list 10,100,320,1100,4400: up to 40 M
 *   packets, ~4.1 GB).
 */
import { rmSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { CLI, ROOT, SHAPES, capture, machine, median, timed, warm } from './timed.mjs';

const opts = { shape: 'short', copies: undefined, runs: 1, keep: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--shape') opts.shape = process.argv[++i];
  else if (a === '--copies') opts.copies = process.argv[++i].split(',').map(Number);
  else if (a === '--runs') opts.runs = Number(process.argv[++i]);
  else if (a === '--keep-files') opts.keep = true;
  else { console.error(`usage: node bench/rss-scale.mjs [--shape short|long] [--copies N,N,...] [--runs N] [--keep-files] (unknown: ${a})`); process.exit(2); }
}
const shape = SHAPES[opts.shape];
if (!shape) { console.error(`--shape: short or long, not ${opts.shape}`); process.exit(2); }
const list = opts.copies ?? (opts.shape === 'short' ? [100, 1000, 4000, 16000] : [10, 100, 320, 1100, 4400]);
if (!list.every((n) => Number.isInteger(n) && n > 0)) { console.error('--copies: a comma-separated list of positive integers'); process.exit(2); }
const TARGET = 300;

console.log(`machine: ${machine()}`);
console.log(`${opts.shape} shape (${shape.gen}), ${opts.runs} run(s) of \`node dist/cli.js analyze F -q\` per size, one at a time`);
console.log(`${'copies'.padStart(7)} ${'packets'.padStart(11)} ${'connections'.padStart(11)} ${'file MB'.padStart(8)} `
  + `${'wall s'.padStart(8)} ${'peak RSS MB'.padStart(12)} ${'(highest)'.padStart(9)}   target <= ${TARGET} MB`);
const rows = [];
for (const copies of list) {
  const { file, made } = capture(opts.shape, copies);
  try {
    const packets = warm(file);
    const runs = [];
    for (let r = 0; r < opts.runs; r++) runs.push(timed([process.execPath, CLI, 'analyze', file, '-q']));
    const rss = median(runs.map((x) => x.rssMb));
    const top = Math.max(...runs.map((x) => x.rssMb));
    rows.push({ packets, rss });
    console.log(`${String(copies).padStart(7)} ${String(packets).padStart(11)} ${String(copies * shape.perCopy).padStart(11)} `
      + `${(statSync(file).size / 1e6).toFixed(0).padStart(8)} ${median(runs.map((x) => x.secs)).toFixed(2).padStart(8)} `
      + `${rss.toFixed(0).padStart(12)} ${top.toFixed(0).padStart(9)}   ${top <= TARGET ? 'met' : 'not met'}  ${relative(ROOT, file)}`);
  } finally {
    if (made && !opts.keep) rmSync(file, { force: true });
  }
}
if (rows.length >= 2) {
  const [a, b] = [rows[0], rows[rows.length - 1]];
  const [p, q] = [rows[rows.length - 2], rows[rows.length - 1]];
  const slope = (x, y) => ((y.rss - x.rss) / ((y.packets - x.packets) / 1e6)).toFixed(2);
  console.log(`peak RSS ${a.rss.toFixed(0)} MB at ${a.packets} packets -> ${b.rss.toFixed(0)} MB at ${b.packets} packets: `
    + `${(b.rss - a.rss >= 0 ? '+' : '') + (b.rss - a.rss).toFixed(0)} MB, ${slope(a, b)} MB per M packets overall, `
    + `${slope(p, q)} MB per M packets between the last two sizes`);
}
