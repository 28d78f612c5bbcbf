import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { WORKER_LIMITS } from '../heap.js';
import { ANOMALY_DETAILS, ANOMALY_KINDS, AN_FIELDS } from './anomalies.js';
import { EVENT_KINDS, type Conn } from './conn.js';
import { ANOMALY_NUMS, CONN_NUMS, CONN_STRS, connAnomalies, DIRS, EVENT_NUMS, packAnomalies, packConn, packEvents } from './rowPack.js';
import { THREAD_ID_SOURCE, ThreadLife } from './threadLife.js';
import { STR_NULL, STR_SEP, writerMain, type WriterData, type WriterMessage } from './writerThread.js';

/**
 * Batches in flight before flush() waits for the writer: enough to ride out a slow commit,
 * few enough that memory stays bounded by the batch size, not by the capture size.
 */
const MAX_IN_FLIGHT = 3;
/** Shared state: [0] batches done (the thread counts up and notifies), [1] error flag, text after. */
const STATE_BYTES = 8 + 1024;

/**
 * Writes connection rows on a worker thread, so SQLite's inserts (most of the load time)
 * run on the second core while this one decodes and tracks. The tracker calls flush() from
 * inside the per-packet callback, where awaiting is not possible, so hand-offs and waits use
 * Atomics on shared memory, and every call here is synchronous like the in-thread store it
 * replaces.
 */
export class RowWriter {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(STATE_BYTES));
  private readonly life = new ThreadLife();
  private posted = 0;
  private closed = false;

  constructor(path: string, pragmas: string[]) {
    const data: WriterData = {
      path, pragmas, sqlite: createRequire(import.meta.url).resolve('better-sqlite3'),
      dirs: DIRS, eventKinds: [...EVENT_KINDS], state: this.state.buffer as SharedArrayBuffer, life: this.life.buf,
      connNums: CONN_NUMS, connStrs: CONN_STRS, eventNums: EVENT_NUMS,
      anomalyNums: ANOMALY_NUMS, anomalyKinds: [...ANOMALY_KINDS], anomalyDetails: [...ANOMALY_DETAILS],
    };
    this.worker = new Worker(`${THREAD_ID_SOURCE}\n(${writerMain.toString()})(require, require('node:worker_threads'))`, { eval: true, workerData: data, resourceLimits: WORKER_LIMITS });
    // Errors are reported through the shared state; the thread must never keep the process alive.
    this.worker.unref();
  }

  /** Pack these connections (and the events of those isPlain rejects) and queue them. */
  write(conns: Conn[], withEvents: (c: Conn) => boolean): void {
    let events = 0;
    let anomalies = 0;
    const an: number[][] = new Array(conns.length);
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i];
      if (withEvents(c)) events += c.eventCount;
      an[i] = connAnomalies(c);
      anomalies += an[i].length / AN_FIELDS;
    }
    const nums = new Float64Array(conns.length * CONN_NUMS);
    const strs: (string | null)[] = new Array(conns.length * CONN_STRS);
    const evNums = new Float64Array(events * EVENT_NUMS);
    const anNums = new Float64Array(anomalies * ANOMALY_NUMS);
    let e = 0;
    let a = 0;
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i];
      packConn(c, nums, i * CONN_NUMS, strs, i * CONN_STRS);
      if (withEvents(c)) e = packEvents(c, evNums, e);
      if (an[i].length > 0) a = packAnomalies(c, an[i], anNums, a);
    }
    // One joined string clones as one copy; an array of 44 000 strings cost ~15 ms a batch.
    for (let i = 0; i < strs.length; i++) if (strs[i] === null) strs[i] = STR_NULL;
    const text = strs.join(STR_SEP);
    this.post({ type: 'rows', conns: conns.length, nums, strs: text, events, evNums, anomalies, anNums }, [nums.buffer, evNums.buffer, anNums.buffer]);
    this.waitBelow(MAX_IN_FLIGHT);
  }

  /** Wait until every batch is committed (before this thread reads or writes the store itself). */
  drain(): void {
    this.waitBelow(1);
  }

  /** Wait for every batch, close the thread's database and end the thread. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.post({ type: 'close' }, []);
    try {
      this.waitBelow(1);
    } finally {
      void this.worker.terminate();
    }
  }

  private post(m: WriterMessage, transfer: ArrayBuffer[]): void {
    this.worker.postMessage(m, transfer);
    this.posted++;
  }

  /** Block until fewer than n batches are in flight; throw the writer's error if it failed. */
  private waitBelow(n: number): void {
    for (;;) {
      const done = Atomics.load(this.state, 0);
      if (Atomics.load(this.state, 1) !== 0) {
        const { code, message } = readSharedError(this.state.buffer as SharedArrayBuffer);
        throw Object.assign(new Error(`writing the store failed: ${message}`), { code });
      }
      if (this.posted - done < n) return;
      Atomics.wait(this.state, 0, done, 1000);
      // What it did before it ended is in the state already: read once more after ended().
      if (this.life.ended() && Atomics.load(this.state, 0) === done && Atomics.load(this.state, 1) === 0) {
        throw new Error('writing the store failed: the writer thread ended without saying why (out of memory?)');
      }
    }
  }
}

/**
 * The error a worker thread left in shared memory: from byte 8, "CODE\tmessage" (the SQLite
 * result code, e.g. SQLITE_FULL, so that the main thread can say "disk full"), NUL-terminated.
 */
export function readSharedError(buf: SharedArrayBuffer): { code: string | undefined; message: string } {
  const bytes = new Uint8Array(buf, 8);
  const end = bytes.indexOf(0);
  const [code, message] = new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end)).split('\t');
  return { code: code || undefined, message: message ?? '' };
}
