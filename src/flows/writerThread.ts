import type Database from 'better-sqlite3';

/** What the writer thread is started with (worker_threads workerData). */
export interface WriterData {
  path: string;
  /** Resolved path of better-sqlite3, so the thread loads the same module wherever it runs. */
  sqlite: string;
  pragmas: string[];
  dirs: string[];
  eventKinds: string[];
  /** Shared Int32Array: see STATE_* in writer.ts. */
  state: SharedArrayBuffer;
  /** ThreadLife.buf (threadLife.ts). */
  life: SharedArrayBuffer;
  connNums: number;
  connStrs: number;
  eventNums: number;
  anomalyNums: number;
  anomalyKinds: string[];
  anomalyDetails: string[];
}

/** Joins a batch's strings (none of them holds control characters: addresses, letters, digits). */
export const STR_SEP = '\x00';
/** Stands for NULL among them. */
export const STR_NULL = '\x01';

/** A batch of packed rows (rowPack.ts), or an instruction. */
export type WriterMessage =
  | { type: 'rows'; conns: number; nums: Float64Array; strs: string; events: number; evNums: Float64Array; anomalies: number; anNums: Float64Array }
  | { type: 'close' };

/**
 * The writer thread's whole program. It runs from source text (worker `eval`), so it
 * must not use anything from outside its own body: the same text then runs from dist/
 * and under the test runner, which cannot start a .ts file as a worker. State indices
 * here and in writer.ts: 0 batches done, 1 error flag; the error text follows from byte 8.
 */
export function writerMain(req: NodeRequire, wt: typeof import('node:worker_threads')): void {
  const data = wt.workerData as WriterData;
  const state = new Int32Array(data.state);
  const errText = new Uint8Array(data.state, 8);
  // The SQLite result code travels with the message (SQLITE_FULL: the main thread says "disk full").
  const fail = (e: unknown): void => {
    const code = (e as { code?: unknown })?.code;
    errText.set(new TextEncoder().encode(`${typeof code === 'string' ? code : ''}\t${String((e as Error)?.message ?? e)}`).subarray(0, errText.length - 1));
    Atomics.store(state, 1, 1);
    Atomics.notify(state, 0);
  };
  let Db: typeof Database;
  try {
    Db = req(data.sqlite) as typeof Database;
  } catch (e) {
    fail(e);
    return;
  }
  let db: Database.Database | null = null;
  let insConn: Database.Statement;
  let insEvent: Database.Statement;
  let insEvents: Database.Statement;
  let insAnomaly: Database.Statement;
  const anArgs: unknown[] = new Array(data.anomalyNums);
  // Events go EV_ROWS to a statement: their 14 columns are cheap to bind, and one statement per
  // row cost ~35% more (sqlite3_step and statement reset per row dominate small rows).
  const EV_ROWS = 16;
  const evArgs: unknown[] = new Array(data.eventNums * EV_ROWS);
  const evOne: unknown[] = new Array(data.eventNums);
  let insConns: Database.Statement;
  // Connections go CONN_ROWS to a statement as well: ~17% less than one per row on 99 columns
  // (bench/sqlite-floor.mjs).
  const CONN_ROWS = 16;
  let textCol: boolean[] = [];
  let connArgs: unknown[] = [];
  let connsArgs: unknown[] = [];

  function open(): Database.Database {
    const d = new Db(data.path);
    for (const p of data.pragmas) d.pragma(p);
    const cols = d.pragma('table_info(connections)') as { type: string }[];
    textCol = cols.map((c) => c.type.toUpperCase() === 'TEXT');
    const texts = textCol.filter((t) => t).length;
    if (texts !== data.connStrs || cols.length - texts !== data.connNums) throw new Error('rowPack.ts does not match the connections table');
    connArgs = new Array(cols.length);
    const row = (n: number): string => `(${new Array(n).fill('?').join(',')})`;
    insConn = d.prepare(`INSERT INTO connections VALUES ${row(cols.length)}`);
    insConns = d.prepare(`INSERT INTO connections VALUES ${new Array(CONN_ROWS).fill(row(cols.length)).join(',')}`);
    connsArgs = new Array(cols.length * CONN_ROWS);
    insEvent = d.prepare(`INSERT INTO events VALUES ${row(data.eventNums)}`);
    insEvents = d.prepare(`INSERT INTO events VALUES ${new Array(EV_ROWS).fill(row(data.eventNums)).join(',')}`);
    insAnomaly = d.prepare(`INSERT INTO anomalies VALUES ${row(data.anomalyNums)}`);
    return d;
  }

  function event(nums: Float64Array, n: number, out: unknown[], o: number): void {
    for (let i = 0; i < data.eventNums; i++) {
      const v = nums[n + i];
      out[o + i] = i === 4 ? data.dirs[v] : i === 5 ? data.eventKinds[v] : v !== v ? null : v;
    }
  }

  function rows(m: Extract<WriterMessage, { type: 'rows' }>): void {
    let n = 0;
    let s = 0;
    const strs = m.strs.split('\x00'); // STR_SEP: this body cannot see module constants
    const w = connArgs.length;
    const fill = (out: unknown[], o: number): void => {
      for (let i = 0; i < w; i++) {
        if (textCol[i]) { const v = strs[s++]; out[o + i] = v === '\x01' ? null : v; }
        else { const v = m.nums[n++]; out[o + i] = v !== v ? null : v; }
      }
    };
    let r = 0;
    for (; r + CONN_ROWS <= m.conns; r += CONN_ROWS) {
      for (let j = 0; j < CONN_ROWS; j++) fill(connsArgs, j * w);
      insConns.run(connsArgs);
    }
    for (; r < m.conns; r++) { fill(connArgs, 0); insConn.run(connArgs); }
    const ew = data.eventNums;
    let e = 0;
    for (; e + EV_ROWS <= m.events; e += EV_ROWS) {
      for (let j = 0; j < EV_ROWS; j++) event(m.evNums, (e + j) * ew, evArgs, j * ew);
      insEvents.run(evArgs);
    }
    for (; e < m.events; e++) { event(m.evNums, e * ew, evOne, 0); insEvent.run(evOne); }
    // Anomalies are few (most connections have none): one statement per row.
    const aw = data.anomalyNums;
    for (let k = 0; k < m.anomalies; k++) {
      for (let i = 0; i < aw; i++) {
        const v = m.anNums[k * aw + i];
        anArgs[i] = v !== v ? null : i === 2 ? data.anomalyKinds[v] : i === 5 ? data.dirs[v] : i === 13 ? data.anomalyDetails[v] : v;
      }
      insAnomaly.run(anArgs);
    }
  }

  wt.parentPort!.on('message', (m: WriterMessage) => {
    try {
      if (Atomics.load(state, 1) === 0) {
        db ??= open();
        if (m.type === 'rows') {
          db.exec('BEGIN');
          rows(m);
          db.exec('COMMIT');
        } else { db.close(); db = null; }
      }
    } catch (e) {
      // Roll the batch back now: the store keeps every batch committed before it, whole.
      try { if (db?.inTransaction) db.exec('ROLLBACK'); } catch { /* the error below is reported */ }
      fail(e);
    }
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
  });
}
