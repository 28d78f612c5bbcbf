import { memoryUsage } from 'node:process';

const T0 = performance.now();

/**
 * With TCPDIAG_PHASES set, one stderr line as each stage of a run ends: its time since start,
 * resident memory and JavaScript heap, so the benches (bench/floor.mjs, bench/big.mjs) can say
 * where time and memory go in a real run. Silent otherwise.
 */
export function phase(name: string): void {
  if (!process.env.TCPDIAG_PHASES) return;
  const m = memoryUsage();
  process.stderr.write(`phase ${name}: ${((performance.now() - T0) / 1000).toFixed(2)} s, rss ${(m.rss / 2 ** 20).toFixed(0)} MB, heap ${(m.heapUsed / 2 ** 20).toFixed(0)} of ${(m.heapTotal / 2 ** 20).toFixed(0)} MB, external ${(m.external / 2 ** 20).toFixed(0)} MB\n`);
}
