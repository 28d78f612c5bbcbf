import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A young generation of 8 MiB semi-spaces instead of Node's 16: tcpdiag allocates short-lived
 * objects per connection, and the larger spaces only held more garbage resident. On the bench
 * capture (bench/gen-connections.mjs 1000, `/usr/bin/time -f %M node [--max-semi-space-size=N]
 * dist/cli.js analyze F -q`, one run each) peak RSS was 298 MB with Node's default and 245-254
 * MB with 4 or 8 MiB, in no more time. Imported first by cli.ts, before anything allocates much;
 * worker threads get the same through resourceLimits.
 */
export const YOUNG_SEMI_SPACE_MB = 8;
setFlagsFromString(`--max-semi-space-size=${YOUNG_SEMI_SPACE_MB}`);

/**
 * After each full collection V8 lets the old generation grow to a multiple of what survived it
 * before the next, a factor it picks from its collection and allocation speeds, up to 4
 * (MemoryController::GrowingFactor, v8/src/heap/heap-controller.cc). tcpdiag's stages keep
 * little alive but promote much short-lived data (pages of rows, findings on their way to the
 * store), and V8 picked 4 at nearly every collection (`--trace-gc-verbose` on the bench
 * capture): each thread's heap climbed to four times its live data, and the run's peak came
 * where the main thread's top and the detector thread's met, higher the longer the run. With a
 * factor of 1.5, peak RSS (bench/rss-scale.mjs, /usr/bin/time) was 204 / 229 / 251 MB at 2.6 /
 * 10 / 41 M packets, against 241 / 287 / 291 with V8's own (one run each, the 41 M one with
 * ts-stripped already paged); at 2.6 M packets it made 35 full collections instead of 23
 * (+0.4 s of pauses in `--trace-gc`).
 */
export const HEAP_GROWING_PERCENT = 50;
setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);

/** The same for a worker thread (two semi-spaces). */
export const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2 * YOUNG_SEMI_SPACE_MB };

/**
 * A full garbage collection, where a stage has left much garbage behind (after reading a
 * capture, after each detector): V8 otherwise lets the heap grow with the work done and
 * collects late, and peak memory grew with capture size though live data does not (measured:
 * bench/rss-scale.mjs). A no-op where the function cannot be had.
 */
export const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (() => void) | undefined;
    return typeof gc === 'function' ? gc : () => {};
  } catch {
    return () => {};
  }
})();
