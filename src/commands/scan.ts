import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readCapture, type CaptureInfo } from '../decode/index.js';
import { WORKER_LIMITS } from '../heap.js';

/** A regular file read once without tracking, before the capture points are formed. */
export interface Scanned {
  path: string;
  info: CaptureInfo;
  /** SHA-256 of the capture bytes (decompressed), as ingest would take it. */
  sha256: string;
  /** The file's size and modification time when the scan began: ingest reuses sha256 only while they are the same. */
  size: number;
  mtimeMs: number;
  /** Which thread read it: the main one, or the worker (test/commands/scan.test.ts checks both ran). */
  by: 'main' | 'worker';
}

/** Read one file through the decoder alone, hashing its capture bytes. */
export async function scanHere(path: string): Promise<Scanned> {
  const st = statSync(path);
  const hash = createHash('sha256');
  const info = await readCapture(path, () => {}, { onCaptureBytes: (b) => { hash.update(b); } });
  return { path, info, sha256: hash.digest('hex'), size: st.size, mtimeMs: st.mtimeMs, by: 'main' };
}

/**
 * Scan every file, this thread and a worker taking the next file from one queue, so that
 * several captures use both cores before tracking starts. On the two bench captures
 * (bench/cores.mjs, three runs each) the stage took 1.10 / 1.18 / 1.27 s on one thread
 * (TCPDIAG_THREADS=1) and 0.95 / 0.73 / 0.90 s on two. The worker takes the second file at
 * once, before it has even started, so with two files or more both threads always read.
 * Results come back in the order given, whatever order the scans end in, so the plan does not
 * depend on which thread was faster. A file whose worker scan
 * failed or stopped at damage is scanned again here, so its error is the one this thread's
 * reader raises (with its byte offset), exactly as without the worker.
 */
export async function scanAll(paths: string[]): Promise<Scanned[]> {
  const out = new Map<string, Scanned>();
  const queue = [...paths];
  const worker = paths.length >= 2 ? startScanWorker() : null;
  const mine = async (): Promise<void> => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) out.set(p, await scanHere(p));
  };
  const theirs = async (w: ScanWorker): Promise<void> => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
      const r = await w.scan(p);
      // A CaptureError loses its class crossing threads: a damaged file is read again here.
      if (r === null || r.info.error !== null) redo.push(p);
      else out.set(p, { ...r, by: 'worker' });
    }
  };
  const redo: string[] = [];
  try {
    await Promise.all(worker === null ? [mine()] : [mine(), theirs(worker)]);
  } finally {
    worker?.end();
  }
  for (const p of redo) out.set(p, await scanHere(p));
  return paths.map((p) => out.get(p)!);
}

interface ScanWorker {
  /** The worker's scan of one path; null when reading threw there. */
  scan(path: string): Promise<Scanned | null>;
  end(): void;
}

/**
 * A worker for scanAll, or null where one cannot run: one core, TCPDIAG_THREADS=1, or this
 * module running from TypeScript sources (the test runner), where a worker cannot load the
 * compiled decoder.
 */
function startScanWorker(): ScanWorker | null {
  if (process.env.TCPDIAG_THREADS === '1' || availableParallelism() < 2) return null;
  const url = new URL('./scanThread.js', import.meta.url);
  if (!import.meta.url.endsWith('.js') || !existsSync(fileURLToPath(url))) return null;
  const worker = new Worker(url, { resourceLimits: WORKER_LIMITS });
  // Referenced only while it scans: this thread may have nothing else keeping the event loop
  // alive while it waits for the answer, and an idle worker must not keep the process alive.
  worker.unref();
  let waiting: ((r: Scanned | null) => void) | null = null;
  const settle = (r: Scanned | null): void => { const w = waiting; waiting = null; worker.unref(); w?.(r); };
  let dead = false;
  worker.on('message', (m: Scanned | { failed: string }) => settle('failed' in m ? null : m));
  // A worker that dies (its heap limit, a crash) leaves its file to this thread.
  worker.on('error', () => { dead = true; settle(null); });
  worker.on('exit', () => { dead = true; settle(null); });
  return {
    scan(path) {
      if (dead) return Promise.resolve(null);
      return new Promise((resolve) => { waiting = resolve; worker.ref(); worker.postMessage(path); });
    },
    end() { void worker.terminate(); },
  };
}
