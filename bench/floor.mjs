#!/usr/bin/env node
/**
 * Where the end-to-end time goes, stage by stage, in one process (not a test): each stage is
 * the one before plus one more piece of the pipeline, so the differences are each piece's cost.
 *   decode        readCapture with a no-op callback (the decoder alone)
 *   + track       the tracker with a sink that drops every finished connection
 *   + pack        the same, also packing each batch as the writer thread would (rowPack.ts)
 *   + store       flows into a real temporary store (writer thread), indexes, attempts
 *   + detectors   runDetectors over that store (one thread, then two)
 *   + report      buildReport
 * CPU time is this thread's plus its workers' (process.cpuUsage); wall and CPU are medians of
 * RUNS. The file is read once, untimed, first. Usage: npm run build && node bench/floor.mjs [FILE] [runs=3]
 */
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILE = process.argv[2] ?? join(ROOT, 'bench/out/connections.pcap');
const RUNS = Number(process.argv[3] ?? 3);
const load = (m) => import(pathToFileURL(join(ROOT, 'dist', m)).href);
const { readCapture } = await load('decode/index.js');
const { Tracker } = await load('flows/tracker.js');
const { Store } = await load('flows/store.js');
const { ingestCapture } = await load('flows/ingest.js');
const { assignAttempts } = await load('flows/attempts.js');
const { runDetectors } = await load('detectors/index.js');
const { buildReport } = await load('report/build.js');
const { packConn, packEvents, CONN_NUMS, CONN_STRS, EVENT_NUMS } = await load('flows/rowPack.js');

readFileSync(FILE); // into the page cache
const TW = 60e6;
const settings = { timeWaitUsec: TW, portLo: 32768, portHi: 60999 };
const results = new Map();
async function timed(label, f) {
  const t = performance.now(); const u = process.cpuUsage();
  const r = await f();
  const c = process.cpuUsage(u);
  if (!results.has(label)) results.set(label, []);
  results.get(label).push([(performance.now() - t) / 1000, (c.user + c.system) / 1e6]);
  return r;
}
const tracked = (sink) => async () => {
  const tr = new Tracker(1, sink, { timeWaitUsec: TW, firstId: 1 });
  await readCapture(FILE, (p) => tr.onPacket(p));
  tr.finish();
  return tr.connections;
};
for (let run = 0; run < RUNS; run++) {
  await timed('decode', () => readCapture(FILE, () => {}));
  await timed('decode + track', tracked({ flush() {} }));
  let batch = [];
  const pack = (cs) => {
    const nums = new Float64Array(cs.length * CONN_NUMS); const strs = new Array(cs.length * CONN_STRS);
    let ev = 0; for (const c of cs) ev += c.eventCount;
    const evNums = new Float64Array(ev * EVENT_NUMS); let e = 0;
    cs.forEach((c, i) => { packConn(c, nums, i * CONN_NUMS, strs, i * CONN_STRS); e = packEvents(c, evNums, e); });
  };
  await timed('decode + track + pack', tracked({ flush(c) { batch.push(c); if (batch.length >= 4000) { pack(batch); batch = []; } } }));
  for (const threads of ['1', '']) {
    process.env.TCPDIAG_THREADS = threads;
    const store = Store.open();
    try {
      await timed('decode + track + store (indexes, attempts)', async () => {
        await ingestCapture(store, FILE, { timeWaitUsec: TW, hash: false });
        store.index();
        assignAttempts(store.db);
      });
      await timed(`detectors (${threads === '1' ? 'one thread' : 'two threads'})`, () => runDetectors(store.db, settings));
      await timed('report (buildReport)', () => buildReport(store.db, { version: 'bench', timeWaitS: 60, portRange: [32768, 60999] }));
    } finally {
      store.close();
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${FILE}; node ${process.version}; ${RUNS} runs; medians (store stages: ${RUNS * 2} runs)`);
console.log(`${'stage'.padEnd(46)} ${'wall s'.padStart(7)} ${'cpu s'.padStart(7)}`);
for (const [label, xs] of results) console.log(`${label.padEnd(46)} ${median(xs.map((x) => x[0])).toFixed(2).padStart(7)} ${median(xs.map((x) => x[1])).toFixed(2).padStart(7)}`);
