import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { THREAD_ID_SOURCE, ThreadLife } from '../../src/flows/threadLife.js';

/**
 * ThreadLife tells a main thread blocked in Atomics.wait that its worker is gone, which it
 * cannot learn from the worker's events while blocked: each way a worker can end without a word
 * (process.exit in the worker, an uncaught throw, termination at its heap limit), checked with
 * the main thread blocked the whole time, and a worker still busy is not taken for ended.
 */

/** Start a worker that records its TID, then runs `then`; block until the TID is there. */
function start(then: string, limits?: { maxOldGenerationSizeMb: number }): { life: ThreadLife; worker: Worker } {
  const life = new ThreadLife();
  const worker = new Worker(`${THREAD_ID_SOURCE}\n${then}`, { eval: true, workerData: { life: life.buf }, resourceLimits: limits });
  worker.on('error', () => { /* the thread's own end, which the test is about */ });
  const ids = new Int32Array(life.buf);
  for (let i = 0; i < 200 && Atomics.load(ids, 0) === 0; i++) Atomics.wait(ids, 0, 0, 50);
  return { life, worker };
}

/** Blocked (no event loop turn) for up to ms: how long until ended() said so, or null. */
function blockedUntilEnded(life: ThreadLife, ms: number): number | null {
  const t0 = Date.now();
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() - t0 < ms) {
    if (life.ended()) return Date.now() - t0;
    Atomics.wait(pause, 0, 0, 50);
  }
  return null;
}

describe('ThreadLife', () => {
  it('records a real thread id', () => {
    const { life, worker } = start('setTimeout(() => {}, 2000);');
    expect(new Int32Array(life.buf)[0]).toBeGreaterThan(0);
    expect(life.ended()).toBe(false);
    void worker.terminate();
  });

  it.each([
    ['process.exit() in the worker', 'process.exit(0);', undefined],
    ['an uncaught throw', "throw new Error('boom');", undefined],
    ['termination at its heap limit', 'const xs = []; for (;;) xs.push(new Array(1e5).fill(Math.random()));', { maxOldGenerationSizeMb: 32 }],
  ] as const)('sees the end of a worker by %s while blocked', (_, then, limits) => {
    const { life } = start(then, limits);
    expect(blockedUntilEnded(life, 20_000)).not.toBeNull();
  });

  it('does not take a busy worker for ended', () => {
    const { life, worker } = start('const t = Date.now(); while (Date.now() - t < 1500) {}');
    expect(blockedUntilEnded(life, 1000)).toBeNull();
    void worker.terminate();
  });
});
