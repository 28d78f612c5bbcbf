#!/usr/bin/env node
/**
 * Per-phase times after ingest (not a test): on a copy of a kept store (`tcpdiag flows F --db
 * STORE`), runs each detector and writes its findings as runDetectors does, then gathers the
 * report's facts and builds the report, printing wall and CPU time of each. Medians of RUNS.
 * TCPDIAG_DIST: another build's dist/ to compare (its store must be of its own schema).
 * Usage: npm run build && node bench/detectors.mjs STORE [runs=3]
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const DIST = resolve(process.env.TCPDIAG_DIST ?? new URL('../dist', import.meta.url).pathname);
const load = (m) => import(pathToFileURL(join(DIST, m)).href);
const det = await load('detectors/index.js');
// Builds before the typed contract kept the facts in report/facts.js, with gatherFacts(db, timeWaitS).
const typed = await load('detectors/facts.js').catch(() => null);
const gatherFacts = typed ? (db) => typed.gatherFacts(db, { timeWaitS: 60, portRange: [32768, 60999] }) : (await load('report/facts.js')).gatherFacts;
const { buildReport } = await load('report/build.js');
const STORE = process.argv[2];
const RUNS = Number(process.argv[3] ?? 3);
if (!STORE) { console.error('usage: node bench/detectors.mjs STORE [runs]'); process.exit(2); }

const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-det-'));
const times = new Map(); // phase -> [[wall, cpu], ...]
const timed = (phase, f) => {
  const t = performance.now(); const u = process.cpuUsage();
  const r = f();
  const c = process.cpuUsage(u);
  if (!times.has(phase)) times.set(phase, []);
  times.get(phase).push([performance.now() - t, (c.user + c.system) / 1000]);
  return r;
};
try {
  for (let run = 0; run < RUNS; run++) {
    const path = join(dir, `store-${run}.sqlite`);
    copyFileSync(STORE, path);
    const db = new Database(path);
    const ctx = { db, timeWaitUsec: 60e6, portLo: 32768, portHi: 60999, captureName: (id) => `capture${id}` };
    // Stores of schema 5 and later have the typed kind and reason columns.
    const typedCols = db.pragma('table_info(findings)').length === 10;
    const ins = db.prepare(`INSERT INTO findings VALUES (?,?,?,?,?,?,?,?${typedCols ? ',?,?' : ''})`);
    db.prepare('DELETE FROM findings').run();
    for (const d of det.DETECTORS) {
      timed(d.id, () => db.transaction(() => {
        for (const f of d.run(ctx)) {
          const row = [f.id, f.detector, f.severity, f.captureId, f.connId, f.tsUsec, f.summary, JSON.stringify(f.evidence)];
          ins.run(...(typedCols ? [...row, f.kind ?? null, f.reason ?? null] : row));
        }
      })());
    }
    timed('report: facts', () => gatherFacts(db, 60));
    timed('report: whole (facts again + the rest)', () => buildReport(db, { version: 'bench', timeWaitS: 60, portRange: [32768, 60999] }));
    db.close();
    rmSync(path);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${STORE}; ${DIST}; ${RUNS} runs, medians`);
console.log(`${'phase'.padEnd(40)} ${'wall ms'.padStart(8)} ${'cpu ms'.padStart(8)}`);
for (const [phase, xs] of times) console.log(`${phase.padEnd(40)} ${median(xs.map((x) => x[0])).toFixed(0).padStart(8)} ${median(xs.map((x) => x[1])).toFixed(0).padStart(8)}`);
