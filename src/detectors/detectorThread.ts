import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { DETECTORS } from './index.js';
import { frameRefOf } from './pieces.js';
import { findingRow, type DetectorThreadData, type DetectorThreadMessage } from './threadShare.js';

/**
 * The second core's share of the detectors (threadShare.ts): run them in DETECTORS order on a
 * read-only connection of the same store and hand each one's findings back as rows. Runs only
 * from the compiled JavaScript (dist/); the main thread waits on `state` (Atomics).
 */
const data = workerData as DetectorThreadData;
const state = new Int32Array(data.state);
const post = (m: DetectorThreadMessage): void => {
  data.port.postMessage(m);
  Atomics.add(state, 0, 1);
  Atomics.notify(state, 0);
};
try {
  const db = new Database(data.path, { readonly: true, fileMustExist: true });
  db.pragma('cache_size = -16384');
  const names = new Map(data.names);
  const ctx = { db, ...data.settings, captureName: (id: number) => names.get(id) ?? `capture${id}`, frameRef: frameRefOf(db) };
  for (const d of DETECTORS) {
    if (!data.ids.includes(d.id)) continue;
    const rows = [];
    for (const f of d.run(ctx)) rows.push(findingRow(f));
    post({ type: 'findings', detector: d.id, rows });
  }
  db.close();
  post({ type: 'done' });
} catch (e) {
  post({ type: 'error', message: String((e as Error)?.message ?? e), code: typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : null });
}
parentPort?.close();
