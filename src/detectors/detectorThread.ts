import Database from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import { collectGarbage } from '../heap.js';
import { DETECTORS } from './index.js';
import { frameRefOf } from './pieces.js';
import { findingRow, HELD_FINDINGS_COLUMNS, type DetectorThreadData } from './threadShare.js';

/**
 * The second core's share of the detectors (threadShare.ts): run them in DETECTORS order on a
 * read-only connection of the store and write each finding, as it comes, to a file of this
 * thread's own, which the main thread copies into the store after. Runs only from the compiled
 * JavaScript (dist/); the main thread waits on `state` (Atomics).
 */
const data = workerData as DetectorThreadData;
const state = new Int32Array(data.state);
try {
  const db = new Database(data.path, { readonly: true, fileMustExist: true });
  // Detectors scan; a smaller cache than the main thread's costs them nothing measurable and
  // keeps this thread's share of peak memory down.
  db.pragma('cache_size = -4096');
  const out = new Database(data.out);
  for (const p of ['journal_mode = OFF', 'synchronous = OFF', 'cache_size = -4096']) out.pragma(p);
  out.exec(`CREATE TABLE found (${HELD_FINDINGS_COLUMNS})`);
  const ins = out.prepare('INSERT INTO found VALUES (?,?,?,?,?,?,?,?,?,?,?)');
  const names = new Map(data.names);
  const ctx = { db, ...data.settings, captureName: (id: number) => names.get(id) ?? `capture${id}`, frameRef: frameRefOf(db) };
  const write = out.transaction((seq: number, d: (typeof DETECTORS)[number]) => { for (const f of d.run(ctx)) ins.run(seq, ...findingRow(f)); });
  DETECTORS.forEach((d, seq) => { if (data.ids.includes(d.id)) { write(seq, d); collectGarbage(); } });
  out.close();
  db.close();
  Atomics.store(state, 0, 1);
} catch (e) {
  const code = (e as { code?: unknown })?.code;
  new Uint8Array(data.state, 8).set(new TextEncoder().encode(`${typeof code === 'string' ? code : ''}\t${String((e as Error)?.message ?? e)}`).subarray(0, data.state.byteLength - 9));
  Atomics.store(state, 0, 2);
}
Atomics.notify(state, 0);
