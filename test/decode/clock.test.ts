import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClockWatch, CLOCK_STEPS_KEPT, EXACT_USEC_LIMIT, IMPLAUSIBLE_STEP_USEC } from '../../src/decode/clock.js';
import { readCapture } from '../../src/decode/index.js';
import { corpus, hasTshark, ROOT, sampleCaptures } from './helpers.js';

/**
 * The decoder's clock watch (src/decode/clock.ts) against tshark: on every capture under
 * samples/, the steps of more than a year between consecutive frames and the frames dated past
 * 2^53 µs are exactly those tshark's frame.time_epoch shows (computed here in exact
 * nanoseconds), with the same frame numbers, interface ids and timestamps.
 */

const YEAR_NS = BigInt(IMPLAUSIBLE_STEP_USEC) * 1000n;
const EXACT_NS = BigInt(EXACT_USEC_LIMIT) * 1000n;
const tmp = mkdtempSync(join(tmpdir(), 'tcpdiag-clock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** tshark reads gzip itself; zstd (tshark 4.0 cannot) is decompressed first. */
function tsharkPath(f: string): string {
  if (!f.endsWith('.zst')) return f;
  const out = join(tmp, `${relative(ROOT, f).replace(/\//g, '_')}.pcapng`);
  writeFileSync(out, execFileSync('zstd', ['-dc', f], { maxBuffer: 64 * 1024 * 1024 }));
  return out;
}

interface TsharkStep { prevFrame: number; frame: number; prevIface: number; iface: number; prevSec: number; prevNsec: number; sec: number; nsec: number; deltaNs: bigint }

function tsharkClock(f: string): { steps: TsharkStep[]; beyond: number[] } {
  const out = execFileSync('tshark', ['-r', tsharkPath(f), '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.number', '-e', 'frame.interface_id', '-e', 'frame.time_epoch'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  const steps: TsharkStep[] = [];
  const beyond: number[] = [];
  let prev: { frame: number; iface: number; sec: number; nsec: number; ns: bigint } | null = null;
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [n, iface, epoch] = line.split('\t');
    // Blocks without a timestamp (pcapng SPB, custom blocks) have no time: the step is to the next timestamped frame.
    if (!epoch) continue;
    const [s, frac = '0'] = epoch.split('.');
    const sec = Number(s);
    const nsec = Number(frac.padEnd(9, '0').slice(0, 9));
    const ns = BigInt(s) * 1_000_000_000n + BigInt(nsec);
    const cur = { frame: Number(n), iface: iface === '' ? 0 : Number(iface), sec, nsec, ns };
    if (ns / 1000n >= EXACT_NS / 1000n) beyond.push(cur.frame);
    if (prev !== null) {
      const d = ns - prev.ns;
      if (d > YEAR_NS || d < -YEAR_NS) {
        steps.push({ prevFrame: prev.frame, frame: cur.frame, prevIface: prev.iface, iface: cur.iface, prevSec: prev.sec, prevNsec: prev.nsec, sec, nsec, deltaNs: d });
      }
    }
    prev = cur;
  }
  return { steps, beyond };
}

describe.skipIf(!hasTshark())('clock steps and inexact times, against tshark', () => {
  const files = sampleCaptures();
  it('covers the samples, and the pcapng whose clock steps by years', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain(corpus('pcapplusplus-pcapng-example-tsresol9.pcapng'));
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))('%s', async (_, f) => {
    const info = await readCapture(f, () => {});
    const want = tsharkClock(f);
    expect(info.clock.steps).toBe(want.steps.length);
    expect(info.clock.first.map(({ deltaSec, ...rest }) => rest)).toEqual(want.steps.slice(0, CLOCK_STEPS_KEPT).map(({ deltaNs, ...rest }) => rest));
    for (const [i, s] of info.clock.first.entries()) {
      const exact = Number(want.steps[i].deltaNs) / 1e9;
      expect(Math.abs(s.deltaSec - exact)).toBeLessThanOrEqual(Math.abs(exact) * 2 ** -50 + 1e-6);
    }
    expect(info.clock.beyondExact).toBe(want.beyond.length);
    expect(info.clock.firstBeyondFrame).toBe(want.beyond[0] ?? null);
  }, 60_000);

  it('the pcapplusplus example: frame 2 jumps 46 years ahead and frame 3 back; interface 1 is past 2^53 µs from frame 60', async () => {
    // What the file holds (its IDBs and EPBs read by hand): interface 0 (ETHERNET, if_tsresol 9)
    // has frames 1-59 in 2015 but frame 2 (the SYN-ACK) in 2061; interface 1 (LINUX_SLL, µs)
    // has frames 60-159 with the high word 0xffffffff: 2^64 µs less 505 s, which tshark shows as
    // the year 586524 (unsigned, as pcapng §4.3 defines the timestamp).
    const want = tsharkClock(corpus('pcapplusplus-pcapng-example-tsresol9.pcapng'));
    expect(want.steps.map((s) => [s.prevFrame, s.frame, s.prevIface, s.iface])).toEqual([[1, 2, 0, 0], [2, 3, 0, 0], [59, 60, 0, 1]]);
    expect(want.beyond).toEqual(Array.from({ length: 100 }, (_, i) => 60 + i));
    // The zstd copy holds the same packets: the same facts.
    const a = await readCapture(corpus('pcapplusplus-pcapng-example-tsresol9.pcapng'), () => {});
    const b = await readCapture(corpus('pcapplusplus-pcapng-example.pcapng.zst'), () => {});
    expect(b.clock).toEqual(a.clock);
  });
});

describe('ClockWatch', () => {
  const feed = (usecs: number[]): ClockWatch => {
    const w = new ClockWatch();
    usecs.forEach((u, i) => w.observe(i + 1, 0, Math.floor(u / 1e6), (u % 1e6) * 1000, u));
    return w;
  };
  const T = 1_795_437_951_000_000; // 2026-11-24, as the lab captures

  it('counts a step only beyond a year either way, never a silence of days or an NTP step', () => {
    expect(feed([T, T + 30 * 86_400e6, T + 30 * 86_400e6 - 2e6, T + IMPLAUSIBLE_STEP_USEC]).steps).toBe(0);
    const w = feed([T, T + IMPLAUSIBLE_STEP_USEC + 1, T]);
    expect(w.steps).toBe(2);
    expect(w.first.map((s) => [s.prevFrame, s.frame, s.deltaSec])).toEqual([[1, 2, (IMPLAUSIBLE_STEP_USEC + 1) / 1e6], [2, 3, -(IMPLAUSIBLE_STEP_USEC + 1) / 1e6]]);
  });

  it('keeps the first steps in full and counts the rest', () => {
    const w = feed(Array.from({ length: 20 }, (_, i) => (i % 2 ? T : 0)));
    expect(w.steps).toBe(19);
    expect(w.first.map((s) => s.frame)).toEqual([2, 3, 4, 5, 6].slice(0, CLOCK_STEPS_KEPT));
  });

  it('counts frames dated at or past 2^53 µs, from the first', () => {
    const w = feed([EXACT_USEC_LIMIT - 2e6, EXACT_USEC_LIMIT, EXACT_USEC_LIMIT + 4096]);
    expect([w.steps, w.beyondExact, w.firstBeyondFrame]).toEqual([0, 2, 2]);
  });
});
