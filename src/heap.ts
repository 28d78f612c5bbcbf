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
