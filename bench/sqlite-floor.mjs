#!/usr/bin/env node
/**
 * The SQLite floor of the end-to-end target (not a test): how long better-sqlite3 takes
 * only to insert N rows into tcpdiag's real `connections` table (src/flows/schema.ts, same
 * pragmas as the store's writer), one prepared statement, batches of 4096 rows per
 * transaction, values prepared beforehand so nothing else is timed. Three variants: a row
 * per statement (what the writer does), 16 rows per statement, and only the first 20
 * columns (what a much narrower table would cost).
 * Usage: npm run build && node bench/sqlite-floor.mjs [rows=100000] [runs=3]
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCHEMA_SQL } from '../dist/flows/schema.js';

const N = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-floor-'));

function open() {
  const path = join(dir, 'floor.sqlite');
  rmSync(path, { force: true });
  const db = new Database(path);
  for (const p of ['journal_mode = MEMORY', 'synchronous = OFF', 'cache_size = -16384', 'foreign_keys = OFF']) db.pragma(p);
  db.exec(SCHEMA_SQL);
  return db;
}

const cols = open().pragma('table_info(connections)');
// Plausible values: addresses and short texts in TEXT columns, ~1/3 NULLs, integers elsewhere.
const rowAt = (r, width) => cols.slice(0, width).map((c, i) => (c.type === 'TEXT' ? `198.18.${r % 250}.${i}` : i === 0 ? r + 1 : i % 3 === 0 && !c.notnull ? null : r * 7 + i));
const rows = Array.from({ length: N }, (_, r) => rowAt(r, cols.length));

function time(label, width, perStatement) {
  const out = [];
  for (let k = 0; k < RUNS; k++) {
    const db = open();
    if (width < cols.length) { db.exec('DROP TABLE connections'); db.exec(`CREATE TABLE connections (${cols.slice(0, width).map((c) => `${c.name} ${c.type}`).join(', ')})`); }
    const one = `(${new Array(width).fill('?').join(',')})`;
    const st = db.prepare(`INSERT INTO connections VALUES ${new Array(perStatement).fill(one).join(',')}`);
    const args = new Array(width * perStatement);
    const t0 = performance.now();
    for (let i = 0; i < N; i += 4096) {
      db.exec('BEGIN');
      for (let j = i; j + perStatement <= Math.min(i + 4096, N); j += perStatement) {
        for (let q = 0; q < perStatement; q++) { const row = rows[j + q]; for (let c = 0; c < width; c++) args[q * width + c] = row[c]; }
        st.run(args);
      }
      db.exec('COMMIT');
    }
    out.push((performance.now() - t0) / 1000);
    db.close();
  }
  out.sort((a, b) => a - b);
  console.log(`${label.padEnd(44)} median ${out[out.length >> 1].toFixed(2)} s  [${out[0].toFixed(2)}-${out[out.length - 1].toFixed(2)}]`);
}

console.log(`${N} rows into connections (${cols.length} columns); ${RUNS} runs each`);
try {
  time(`all ${cols.length} columns, 1 row per statement`, cols.length, 1);
  time(`all ${cols.length} columns, 16 rows per statement`, cols.length, 16);
  time('first 20 columns, 1 row per statement', 20, 1);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
