import type Database from 'better-sqlite3';
import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readSharedError } from '../flows/writer.js';
import { removeAtExit, removeTempDir } from '../flows/tempDirs.js';
import { THREAD_ID_SOURCE, ThreadLife } from '../flows/threadLife.js';
import { WORKER_LIMITS } from '../heap.js';
import { THREAD_DETECTORS, type DetectorThreadData } from './threadShare.js';

/** The second thread of runDetectors: started on the store's file, waited for synchronously. */
export interface DetectorThread {
  /** Block until the thread has run its detectors; the file its findings are in (table found). Throws its error. */
  wait(): string;
  /** Stop it, remove its file, give the store its journal mode back. */
  end(): void;
}

const STATE_BYTES = 8 + 1024;

/**
 * Start THREAD_DETECTORS on another thread, or null to run every detector here: one core, a
 * store that is not a file, TCPDIAG_THREADS=1, or this module running from TypeScript sources
 * (the test runner), where a worker cannot load the compiled detector module.
 */
export function startDetectorThread(db: Database.Database, settings: DetectorThreadData['settings'], names: Map<number, string>): DetectorThread | null {
  // TCPDIAG_THREADS=2 insists on the thread (tests check it ran), =1 never starts it.
  const want = process.env.TCPDIAG_THREADS;
  const cannot = (why: string): null => {
    if (want === '2') throw new Error(`TCPDIAG_THREADS=2 but the detectors cannot run on two threads: ${why}`);
    return null;
  };
  const url = new URL('./detectorThread.js', import.meta.url);
  if (want === '1') return null;
  if (availableParallelism() < 2 && want !== '2') return null;
  if (!import.meta.url.endsWith('.js') || !existsSync(fileURLToPath(url))) return cannot('not running from the compiled JavaScript');
  if (db.memory || db.name === '' || db.inTransaction) return cannot('the store is not a file');
  // WAL lets this connection write findings while the thread reads; the store's own mode comes
  // back at the end (a kept store stays a plain rollback-journal file for sqlite3 users).
  const mode = db.pragma('journal_mode', { simple: true }) as string;
  if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') return cannot('the store cannot be put in WAL mode');
  // Checkpoints cannot finish while the thread reads, and retrying one per commit cost ~30%
  // of stale-ack's writes on the bench store: one checkpoint when the mode is restored.
  const autoCheckpoint = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  db.pragma('wal_autocheckpoint = 0');
  const restore = (): void => {
    try {
      db.pragma(`wal_autocheckpoint = ${autoCheckpoint}`);
      db.pragma(`journal_mode = ${mode}`);
    } catch { /* after a failure the thread may still hold the file: the store stays in WAL mode */ }
  };
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), 'tcpdiag-detectors-'));
  } catch {
    restore();
    return cannot(`cannot create a folder in ${tmpdir()}`);
  }
  removeAtExit(dir);
  const out = join(dir, 'findings.sqlite');
  const state = new Int32Array(new SharedArrayBuffer(STATE_BYTES));
  const life = new ThreadLife();
  const data: DetectorThreadData = { path: db.name, out, settings, names: [...names], ids: THREAD_DETECTORS, state: state.buffer as SharedArrayBuffer, life: life.buf };
  const worker = new Worker(threadBoot(url.href), { eval: true, workerData: data, resourceLimits: WORKER_LIMITS });
  worker.unref();
  let ended = false;
  return {
    wait(): string {
      while (Atomics.load(state, 0) === 0) {
        Atomics.wait(state, 0, 0, 1000);
        // Its last word is written before it ends, so one read after ended() still sees it.
        if (life.ended() && Atomics.load(state, 0) === 0) throw new Error('the detector thread ended without saying why (out of memory?)');
      }
      if (Atomics.load(state, 0) === 2) {
        const { code, message } = readSharedError(state.buffer as SharedArrayBuffer);
        throw Object.assign(new Error(message), { code });
      }
      return out;
    },
    end(): void {
      if (ended) return;
      ended = true;
      void worker.terminate();
      removeTempDir(dir);
      restore();
    },
  };
}

/**
 * The thread's program: detectorThread.js through a dynamic import whose failure is caught. A
 * module that cannot load (a syntax error in a half-written dist/, a file gone) otherwise ends
 * the thread before it can set `state`, and wait() blocked on it for ever, deaf to SIGTERM
 * (seen once, while `tsc` rewrote dist/ under a running analyze). The error then travels like
 * the thread's own (readSharedError: from byte 8, "CODE\tmessage").
 */
export function threadBoot(href: string): string {
  return `${THREAD_ID_SOURCE}
  import(${JSON.stringify(href)}).catch((e) => {
    const { workerData } = require('node:worker_threads');
    const state = new Int32Array(workerData.state);
    const text = new TextEncoder().encode('\\t' + String((e && e.message) || e));
    new Uint8Array(workerData.state, 8).set(text.subarray(0, workerData.state.byteLength - 9));
    Atomics.store(state, 0, 2);
    Atomics.notify(state, 0);
  })`;
}
