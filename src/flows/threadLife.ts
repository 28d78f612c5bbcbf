import { existsSync } from 'node:fs';

/**
 * Whether a worker thread still runs, for a main thread blocked in Atomics.wait on it. Blocked,
 * it cannot see the worker's 'exit' or 'error' events (they need the event loop), so a worker
 * that ends without setting its shared state (terminated at its heap limit, a crash outside its
 * own try) would leave it waiting for ever. On Linux a thread is /proc/self/task/TID while it
 * runs; the worker writes its TID (from /proc/thread-self) first thing, with THREAD_ID_SOURCE.
 * Measured here with the main thread blocked: the entry was gone within 0.2 s of a worker's
 * process.exit(), an uncaught throw, and termination at a 32 MB old-generation limit.
 * Where /proc is not there the worker writes -1, and the answer is always "running".
 */
export class ThreadLife {
  /** [0]: the worker's TID; 0 before it has started, -1 where it cannot be known. */
  readonly buf = new SharedArrayBuffer(4);
  private readonly tid = new Int32Array(this.buf);
  private readonly since = Date.now();

  /** True once the thread is known to have ended (or never to have started: START_GRACE_MS). */
  ended(): boolean {
    const tid = Atomics.load(this.tid, 0);
    if (tid > 0) return !existsSync(`/proc/self/task/${tid}`);
    return tid === 0 && Date.now() - this.since > START_GRACE_MS;
  }
}

/**
 * A worker that has not run its first line this long after it was created never will: one
 * starts in ~50 ms here, and in a few seconds on a machine loaded many times over.
 */
const START_GRACE_MS = 120_000;

/**
 * The statement a worker's source runs first, with its workerData's `life` (ThreadLife.buf) and
 * `require` in scope (eval'd workers are CommonJS).
 */
export const THREAD_ID_SOURCE = `(() => {
  const ids = new Int32Array(require('node:worker_threads').workerData.life);
  try { ids[0] = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()) || -1; } catch { ids[0] = -1; }
})();`;
