import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { THREAD_DETECTORS, type DetectorThreadData, type DetectorThreadMessage, type FindingRow } from './threadShare.js';

/** The second thread of runDetectors: started on the store's file, waited for synchronously. */
export interface DetectorThread {
  /** Block until the thread has run its detectors; their findings' rows by detector id. Throws its error. */
  results(): Map<string, FindingRow[]>;
  end(): void;
}

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
  const state = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const data: DetectorThreadData = { path: db.name, settings, names: [...names], ids: THREAD_DETECTORS, state: state.buffer as SharedArrayBuffer, port: port2 };
  const worker = new Worker(url, { workerData: data, transferList: [port2 as unknown as MessagePort] });
  worker.unref();
  let ended = false;
  return {
    results(): Map<string, FindingRow[]> {
      const out = new Map<string, FindingRow[]>();
      let read = 0;
      for (;;) {
        const m = receiveMessageOnPort(port1)?.message as DetectorThreadMessage | undefined;
        if (m === undefined) {
          // The thread counts a message up only after posting it: wait for the next one.
          Atomics.wait(state, 0, read, 1000);
          continue;
        }
        read++;
        if (m.type === 'findings') out.set(m.detector, m.rows);
        else if (m.type === 'done') return out;
        else throw Object.assign(new Error(m.message), { code: m.code ?? undefined });
      }
    },
    end(): void {
      if (ended) return;
      ended = true;
      port1.close();
      void worker.terminate();
      // After a failure the thread may still hold the file, and the store stays in WAL mode.
      try {
        db.pragma(`wal_autocheckpoint = ${autoCheckpoint}`);
        db.pragma(`journal_mode = ${mode}`);
      } catch { /* the error being thrown is the one to report */ }
    },
  };
}
