#!/usr/bin/env node
/**
 * Issue #16's ratio bench (not a test): tcpdiag analyze against its peers, on both shapes, in
 * ONE run on one machine.
 *   short  bench/out/connections.pcap  (node bench/gen-connections.mjs 1000: 100 000 short connections)
 *   long   bench/out/long.pcap         (node bench/gen-long.mjs 320: 16 000 long connections, ~180 packets each)
 * Each capture is made if missing. Per shape, these commands run strictly one after another
 * (never two at once: the machine's 2 cores are shared), round-robin (run 1 of every command,
 * then run 2, ...) so a drift of the machine's speed during the bench hits every command alike,
 * each RUNS times under /usr/bin/time -v, the capture read once untimed before every run:
 *   analyze    node dist/cli.js analyze F -q             (ingest + detectors + report)
 *   tcptrace   tcptrace -n F > /dev/null                 (rebuilds every connection too)
 *   tshark     tshark -r F -q -z conv,tcp > tmp          (conversations; gives the connection count)
 *   tcpdump    tcpdump -r F -w /dev/null                 (the floor: read and write every record)
 *   ingest     node dist/cli.js flows F --limit 0 --db T (only with --flows: decode, track, store)
 * and prints per shape the median wall time and median peak RSS of each, packets (records in the
 * file), connections (tshark's conv,tcp rows), and the ratios analyze/tcptrace (target <= 0.5)
 * and analyze/tshark (target <= 0.1), each marked met or not met, under a header line naming the
 * machine (cpus, model, kernel, node, tool versions, the build measured).
 *
 * Usage: npx tsc -p tsconfig.json && node bench/peers.mjs [--runs 3] [--shapes short,long]
 *          [--short COPIES=1000] [--long COPIES=320] [--flows]
 *   TCPDIAG_CLI=path/to/cli.js measures another build.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CLI, ROOT, SHAPES, capture, machine, median, timed, warm } from './timed.mjs';

const opts = { runs: 3, shapes: 'short,long', short: SHAPES.short.defaultCopies, long: SHAPES.long.defaultCopies, flows: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--flows') opts.flows = true;
  else if (a === '--shapes') opts.shapes = process.argv[++i];
  else if (['--runs', '--short', '--long'].includes(a)) opts[a.slice(2)] = Number(process.argv[++i]);
  else { console.error(`usage: node bench/peers.mjs [--runs N] [--shapes short,long] [--short COPIES] [--long COPIES] [--flows] (unknown: ${a})`); process.exit(2); }
}
const shapes = opts.shapes.split(',');
for (const s of shapes) if (!SHAPES[s]) { console.error(`--shapes: short and/or long, not ${s}`); process.exit(2); }

const TARGETS = [
  { peer: 'tcptrace', max: 0.5 },
  { peer: 'tshark', max: 0.1 },
];

const tmp = mkdtempSync(join(tmpdir(), 'tcpdiag-peers-'));
const db = join(tmp, 'store.sqlite');
const convOut = join(tmp, 'conv.txt');
const fmt = (x, d = 2) => x.toFixed(d);
console.log(`machine: ${machine()}`);
console.log(`${opts.runs} runs of each command, round-robin, one at a time; medians; the capture read untimed before every run`);
try {
  for (const shape of shapes) {
    const { file } = capture(shape, opts[shape]);
    const cases = [
      { name: 'analyze', cmd: 'node dist/cli.js analyze F -q', argv: [process.execPath, CLI, 'analyze', file, '-q'] },
      { name: 'tcptrace', cmd: 'tcptrace -n F > /dev/null', argv: ['tcptrace', '-n', file] },
      { name: 'tshark', cmd: 'tshark -r F -q -z conv,tcp', argv: ['tshark', '-r', file, '-q', '-z', 'conv,tcp'], stdout: convOut },
      { name: 'tcpdump', cmd: 'tcpdump -r F -w /dev/null', argv: ['tcpdump', '-r', file, '-w', '/dev/null'] },
    ];
    if (opts.flows) cases.push({ name: 'ingest', cmd: 'node dist/cli.js flows F --limit 0 --db T', argv: [process.execPath, CLI, 'flows', file, '--limit', '0', '--db', db], before: () => rmSync(db, { force: true }) });
    const runs = new Map(cases.map((c) => [c.name, []]));
    let packets = 0;
    for (let r = 0; r < opts.runs; r++) {
      for (const c of cases) {
        packets = warm(file);
        c.before?.();
        const m = timed(c.argv, c.stdout);
        runs.get(c.name).push(m);
        console.error(`  ${shape} run ${r + 1}/${opts.runs} ${c.name}: ${fmt(m.secs)} s, ${fmt(m.rssMb, 0)} MB`);
      }
    }
    const connections = readFileSync(convOut, 'utf8').split('\n').filter((l) => l.includes('<->')).length;
    const wall = (n) => median(runs.get(n).map((x) => x.secs));
    console.log('');
    console.log(`${shape}: ${relative(ROOT, file)}, ${packets} packets, ${connections} connections (tshark conv,tcp rows), `
      + `${fmt(statSync(file).size / 1e6, 0)} MB, ${fmt(packets / connections, 1)} packets per connection`);
    console.log(`  ${'command'.padEnd(44)} ${'wall s'.padStart(7)} ${'M pkt/s'.padStart(8)} ${'peak RSS MB'.padStart(12)}   runs (s)`);
    for (const c of cases) {
      const rs = runs.get(c.name);
      const s = wall(c.name);
      console.log(`  ${c.cmd.padEnd(44)} ${fmt(s).padStart(7)} ${fmt(packets / s / 1e6).padStart(8)} `
        + `${fmt(median(rs.map((x) => x.rssMb)), 0).padStart(12)}   ${rs.map((x) => fmt(x.secs)).join(' ')}`);
    }
    for (const t of TARGETS) {
      const ratio = wall('analyze') / wall(t.peer);
      console.log(`  analyze / ${t.peer}: ${fmt(ratio, 3)} (target <= ${t.max}: ${ratio <= t.max ? 'met' : 'not met'})`);
    }
    console.log(`  analyze / tcpdump (the floor): ${fmt(wall('analyze') / wall('tcpdump'), 1)}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
