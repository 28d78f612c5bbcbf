import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { peakRate, perSecond, rateNumber, rateSpanText, rateText, spanRate } from '../../src/detectors/rate.js';
import type { Store } from '../../src/flows/store.js';
// @ts-expect-error plain ES module shared with scripts/update-golden.mjs
import { GOLDEN_CASES } from '../../scripts/golden-cases.mjs';
import { hasTshark, pipeline, ROOT, SAMPLES, tsharkFields } from '../helpers/pipeline.js';

/**
 * The one rate rule (src/detectors/rate.ts): N events from the first to the last are N - 1
 * intervals, so (N - 1) / span per second, printed with a span a reader can divide by and get
 * the printed rate. Checked by arithmetic, against tshark's frame times on the lab's SYN flood
 * and refused connections, and on every rate the golden reports print.
 */

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

/** "247/s, 299 intervals between 300 SYNs in 1.21 s": rate, intervals, events, span. */
const RATE_TEXT = /(\d+(?:\.\d)?)\/s, (\d+) intervals? between (\d+) \w+ in (\d+\.\d+) s/g;

describe('the rate rule', () => {
  it('SYNs at a steady period give exactly that rate: N - 1 intervals, not N', () => {
    // 501 SYNs 10 ms apart span 5 s: 100/s (N / span would say 100.2/s).
    const t = Array.from({ length: 501 }, (_, i) => 1_795_437_951_000_000 + i * 10_000);
    expect(spanRate(t)).toEqual({ kind: 'rate', perS: 100, windowUsec: 5e6, spanUsec: 5e6, connections: 501 });
    // Over a 2 s window (a TIME_WAIT shorter than the span): 201 SYNs spanning 2 s, still 100/s.
    expect(peakRate(t, 2e6)).toEqual({ kind: 'rate', perS: 100, windowUsec: 2e6, spanUsec: 2e6, connections: 201 });
  });

  it('a busy moment inside a long quiet span is a burst, never extrapolated', () => {
    const t = [0, ...Array.from({ length: 50 }, (_, i) => 100e6 + i * 1000), 200e6];
    expect(peakRate(t, 60e6)).toEqual({ kind: 'burst', connections: 50, spanUsec: 49_000 });
    expect(rateText(peakRate(t, 60e6))).toBe('a burst of 50 in 49 ms');
  });

  it('prints a span that divides to the printed rate, with the fewest digits', () => {
    let x = 0x1234567;
    const rnd = (): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32; };
    for (let i = 0; i < 20_000; i++) {
      const n = 2 + Math.floor(rnd() * 5000);
      const spanUsec = 1e6 + Math.floor(rnd() * 600e6);
      const r = { perS: perSecond(n, spanUsec), spanUsec, connections: n };
      const s = rateSpanText(r);
      expect(rateNumber((n - 1) / Number(s))).toBe(rateNumber(r.perS));
      // One digit fewer would not do (or it is the one-decimal floor).
      const d = s.split('.')[1].length;
      if (d > 1) expect(rateNumber((n - 1) / Number((spanUsec / 1e6).toFixed(d - 1)))).not.toBe(rateNumber(r.perS));
    }
  });
});

describe.skipIf(!hasTshark())('rates against tshark frame times', () => {
  it('syn-flood: (N - 1) / (last - first SYN) of the SYNs that never became a connection, per port (syn-flood/server.pcap)', async () => {
    const file = join(SAMPLES, 'syn-flood', 'server.pcap');
    const r = await pipeline([file]);
    stores.push(r.store);
    let rates = 0, bursts = 0;
    // Every TCP packet once: time, ports, SYN, ACK, RST.
    const pk = tsharkFields(file, 'tcp', ['frame.time_epoch', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.flags.reset'])
      .map((x) => ({ t: Math.round(Number(x[0]) * 1e6), sport: x[1], dport: x[2], syn: x[3] === '1' || x[3] === 'True', ack: x[4] === '1' || x[4] === 'True', rst: x[5] === '1' || x[5] === 'True' }));
    for (const port of [9001, 9002, 9003]) {
      const p = String(port);
      // A SYN became a connection when its client acknowledged a SYN-ACK (a bare ACK, no RST): 9001 and
      // 9002 got no SYN-ACK but for the holders', 9003's senders reset instead.
      const completed = new Set(pk.filter((x) => x.dport === p && !x.syn && x.ack && !x.rst).map((x) => x.sport));
      const syns = pk.filter((x) => x.dport === p && x.syn && !x.ack && !completed.has(x.sport)).map((x) => x.t).sort((a, b) => a - b);
      const f = r.findings.find((x) => x.detector === 'syn-flood' && String(x.evidence.server).endsWith(`:${port}`))!;
      const span = syns[syns.length - 1] - syns[0];
      expect(f.evidence.spanUsec).toBe(span);
      if (span < 1e6) {
        bursts++;
        expect(f.evidence.ratePerS).toBeNull();
        expect(f.summary).toContain(`a burst of ${syns.length} in ${(span / 1000).toFixed(0)} ms`);
        continue;
      }
      rates++;
      const perS = (syns.length - 1) / (span / 1e6);
      expect(f.evidence.ratePerS).toBeCloseTo(perS, 9);
      const m = [...f.summary.matchAll(RATE_TEXT)];
      expect(m).toHaveLength(1);
      const [, rate, intervals, events, spanS] = m[0];
      expect([Number(intervals), Number(events)]).toEqual([syns.length - 1, syns.length]);
      expect(rate).toBe(rateNumber(perS));
      expect(Number(spanS)).toBeCloseTo(span / 1e6, spanS.split('.')[1].length);
      expect(rateNumber(Number(intervals) / Number(spanS))).toBe(rate);
    }
    expect([rates, bursts]).toEqual([2, 1]);
  });

  it('refused: the refusals\' SYNs span under a second (tshark): a burst, no rate (refused/client.pcap)', async () => {
    const file = join(SAMPLES, 'refused', 'client.pcap');
    const syns = tsharkFields(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 3307', ['frame.time_epoch']).map((x) => Math.round(Number(x[0]) * 1e6));
    const r = await pipeline([file]);
    stores.push(r.store);
    const f = r.findings.find((x) => x.detector === 'refused')!;
    const span = syns[syns.length - 1] - syns[0];
    expect(span).toBeLessThan(1e6);
    expect(f.evidence.rate).toEqual({ kind: 'burst', connections: syns.length, spanUsec: span });
    expect(f.summary).toContain(`, a burst of ${syns.length} in ${(span / 1000).toFixed(0)} ms: `);
  });
});

describe('every rate the golden reports print divides out', () => {
  for (const c of GOLDEN_CASES as { dir: string; name: string }[]) {
    for (const ext of ['txt', 'md']) {
      it(`${c.dir}/${c.name}.${ext}`, () => {
        // Unwrapped: the text report folds sentences at 100 columns.
        const text = readFileSync(join(ROOT, c.dir, `${c.name}.${ext}`), 'utf8').replace(/\s*\n\s*/g, ' ').replace(/\s*│\s*/g, ' ');
        for (const [, rate, intervals, events, span] of text.matchAll(RATE_TEXT)) {
          expect(Number(intervals)).toBe(Number(events) - 1);
          expect(rateNumber(Number(intervals) / Number(span))).toBe(rate);
        }
        // No rate printed the old way ("2.6/s over 33.3 s").
        expect(text).not.toMatch(/\d\/s over \d/);
      });
    }
  }
});
