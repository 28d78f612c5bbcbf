#!/usr/bin/env node
/**
 * The decoder alone, without files, reads or process start-up: a capture is
 * loaded into memory once and parsed REPS times in 4 MiB windows (as the
 * reader hands chunks to RecordParser.parse), with a no-op consumer. Prints
 * each repetition's time in order (the first includes V8's warm-up) and the
 * median rate.
 *
 * Instructions per packet, steady and immune to the machine's noise: run it
 * under callgrind with two repetition counts and divide the difference by the
 * packets it adds. --single-threaded makes V8 compile on the main thread, so
 * the count does not depend on when a background compile finishes (without
 * it, two identical runs differed by 17 %). For a capture of P packets:
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded bench/decode-memory.mjs F 4
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded bench/decode-memory.mjs F 10
 *   (Ir of the second - Ir of the first) / (6 * P)
 * (use a capture of a few hundred thousand packets: valgrind runs ~50 times slower).
 * Usage: npm run build && node bench/decode-memory.mjs FILE [reps=5]
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { RecordParser } = await import(join(process.env.TCPDIAG_DIST ?? join(ROOT, 'dist'), 'decode/parser.js'));
const file = process.argv[2];
if (!file) { console.error('usage: node bench/decode-memory.mjs FILE [reps]'); process.exit(2); }
const reps = Number(process.argv[3] ?? 5);
const bytes = readFileSync(file);
const WINDOW = 4 << 20;
const times = [];
let packets = 0;
for (let r = 0; r < reps; r++) {
  const p = new RecordParser(file, () => {}, null);
  const t0 = process.hrtime.bigint();
  for (let pos = 0; ;) {
    const end = Math.min(pos + WINDOW, bytes.length);
    pos = p.parse(bytes, pos, end, end === bytes.length);
    if (end === bytes.length || p.error !== null) break;
  }
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  packets = p.dec.tcpPackets;
}
const sorted = [...times].sort((a, b) => a - b);
const median = (sorted[(reps - 1) >> 1] + sorted[reps >> 1]) / 2;
console.log(`${file}: ${packets} TCP packets; seconds per repetition in order: ${times.map((t) => t.toFixed(3)).join(' ')}`);
console.log(`median ${median.toFixed(3)} s: ${(packets / median / 1e6).toFixed(2)} M packets/s`);
