#!/usr/bin/env node
/**
 * The kept store's size per connection (issue #16 target: under 600 bytes per connection on the
 * benchmark capture). Not a test. Makes the capture if missing, runs
 *   node dist/cli.js analyze F -q --db STORE        (timed: ingest + detectors + report, store kept)
 *   node dist/cli.js analyze --db STORE -q          (timed: detectors + report over the kept store)
 * one after the other under /usr/bin/time -v, then opens STORE read-only with better-sqlite3 and
 * prints the file's bytes per connection (file size / rows of `connections`) and where they go:
 * every table and index from SQLite's dbstat virtual table
 * (https://www.sqlite.org/dbstat.html: `SELECT name, sum(pgsize) FROM dbstat GROUP BY name`),
 * with its pages, bytes, bytes per connection, share of the file, payload and unused bytes
 * inside its pages, and rows (tables).
 *
 * Usage: npx tsc -p tsconfig.json && node bench/store-size.mjs [--shape short|long] [--copies N]
 *          [--file CAPTURE] [--keep STORE]
 *   --shape short (default): bench/out/connections.pcap (gen-connections.mjs 1000);
 *   --shape long: bench/out/long.pcap (gen-long.mjs 320); --copies N another copy count;
 *   --file: any capture instead; --keep: leave the store at STORE (default: a temporary file,
 *   removed at the end).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { CLI, ROOT, SHAPES, capture, machine, timed, warm } from './timed.mjs';

const opts = { shape: 'short', copies: undefined, file: undefined, keep: undefined };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--shape' || a === '--file' || a === '--keep') opts[a.slice(2)] = process.argv[++i];
  else if (a === '--copies') opts.copies = Number(process.argv[++i]);
  else { console.error(`usage: node bench/store-size.mjs [--shape short|long] [--copies N] [--file CAPTURE] [--keep STORE] (unknown: ${a})`); process.exit(2); }
}
if (!SHAPES[opts.shape]) { console.error(`--shape: short or long, not ${opts.shape}`); process.exit(2); }
const file = opts.file ? resolve(opts.file) : capture(opts.shape, opts.copies ?? SHAPES[opts.shape].defaultCopies).file;
const tmp = mkdtempSync(join(tmpdir(), 'tcpdiag-store-size-'));
const store = opts.keep ? resolve(opts.keep) : join(tmp, 'store.sqlite');
const TARGET = 600;

try {
  console.log(`machine: ${machine()}`);
  const packets = warm(file);
  rmSync(store, { force: true });
  const ingest = timed([process.execPath, CLI, 'analyze', file, '-q', '--db', store]);
  const rerun = timed([process.execPath, CLI, 'analyze', '--db', store, '-q']);
  const bytes = statSync(store).size;
  const db = new Database(store, { readonly: true });
  try {
    const connections = db.prepare('SELECT count(*) AS n FROM connections').get().n;
    const objects = new Map(db.prepare("SELECT name, type, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')").all().map((o) => [o.name, o]));
    const stat = db.prepare('SELECT name, count(*) AS pages, sum(pgsize) AS bytes, sum(payload) AS payload, sum(unused) AS unused '
      + 'FROM dbstat GROUP BY name ORDER BY bytes DESC, name').all();
    const { page_size: pageSize } = db.pragma('page_size', { simple: false })[0];
    const free = db.pragma('freelist_count', { simple: true });
    const perConn = bytes / connections;
    console.log(`${relative(ROOT, file) || file}: ${packets} packets; store ${bytes} bytes (${(bytes / 1e6).toFixed(1)} MB, `
      + `page size ${pageSize}, ${free} free pages), ${connections} connections: ${perConn.toFixed(0)} bytes per connection `
      + `(target <= ${TARGET}: ${perConn <= TARGET ? 'met' : 'not met'})`);
    console.log(`analyze F -q --db STORE: ${ingest.secs.toFixed(2)} s, ${ingest.rssMb.toFixed(0)} MB peak RSS; `
      + `analyze --db STORE -q (kept store): ${rerun.secs.toFixed(2)} s, ${rerun.rssMb.toFixed(0)} MB`);
    console.log(`${'object'.padEnd(36)} ${'kind'.padEnd(24)} ${'pages'.padStart(8)} ${'bytes'.padStart(12)} ${'B/conn'.padStart(8)} `
      + `${'share'.padStart(6)} ${'payload'.padStart(12)} ${'unused'.padStart(12)} ${'rows'.padStart(10)}`);
    let sum = 0;
    for (const s of stat) {
      sum += s.bytes;
      const o = objects.get(s.name);
      const kind = !o ? '(sqlite internal)' : o.type === 'index' ? `index on ${o.tbl_name}` : 'table';
      // Row counts of tables only (an index has one entry per row of its table, or per row
      // its WHERE clause keeps); quoted names, taken from sqlite_schema itself.
      const rows = o?.type === 'table' ? db.prepare(`SELECT count(*) AS n FROM "${s.name.replaceAll('"', '""')}"`).get().n : '';
      console.log(`${s.name.padEnd(36)} ${kind.padEnd(24)} ${String(s.pages).padStart(8)} ${String(s.bytes).padStart(12)} `
        + `${(s.bytes / connections).toFixed(1).padStart(8)} ${(100 * s.bytes / bytes).toFixed(1).padStart(5)}% `
        + `${String(s.payload).padStart(12)} ${String(s.unused).padStart(12)} ${String(rows).padStart(10)}`);
    }
    console.log(`${'total (dbstat)'.padEnd(36)} ${''.padEnd(24)} ${String(sum / pageSize).padStart(8)} ${String(sum).padStart(12)} `
      + `${(sum / connections).toFixed(1).padStart(8)} ${(100 * sum / bytes).toFixed(1).padStart(5)}%   (the rest: ${bytes - sum} bytes of free pages)`);
  } finally {
    db.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
