import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasTshark, ROOT, SAMPLES, tsharkFields } from '../helpers/pipeline.js';

/**
 * A capture whose clock steps by years (src/decode/clock.ts, src/detectors/clock.ts): the report
 * states the steps as tshark shows them and states no span, RTT or connect time from it. A
 * capture with a sound clock keeps its span, which is tshark's first-to-last frame time.
 */

const F = join(SAMPLES, 'corpus', 'pcapplusplus-pcapng-example-tsresol9.pcapng');
const NAME = 'pcapplusplus-pcapng-example-tsresol9.pcapng';
const analyze = (files: string[], format: string): string =>
  execFileSync(process.execPath, [join(ROOT, 'dist/cli.js'), 'analyze', ...files, '--format', format], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

/** "1472003999.360" from tshark's "1472003999.360434207" (or "-1472003999.360380631"), rounded to the ms as the report prints. */
function msText(delta: string): string {
  const neg = delta.startsWith('-');
  const [s, frac = ''] = delta.replace(/^-/, '').split('.');
  const ns = BigInt(s) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
  const ms = (ns + 500_000n) / 1_000_000n;
  return `${neg ? '-' : ''}${ms / 1000n}.${String(ms % 1000n).padStart(3, '0')}`;
}

describe.skipIf(!hasTshark())('a capture clock that steps by years', () => {
  const delta = new Map(tsharkFields(F, 'frame', ['frame.number', 'frame.interface_id', 'frame.time_delta']).map((r) => [Number(r[0]), { iface: Number(r[1]), delta: r[2] }]));
  const syns = tsharkFields(F, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', ['frame.number']).length;

  it('JSON: the steps tshark shows, no span, no RTT or connect time, the attempts left out counted', () => {
    const r = JSON.parse(analyze([F], 'json'));
    const c = r.captures[0];
    expect(c.durationS).toBeNull();
    expect(c.clock.steps).toBe(3);
    for (const s of c.clock.first) {
      expect(delta.get(s.frame)!.iface).toBe(s.iface);
      // A double holds 1.8e13 s to ~4 ms: deltaSec within its precision (the text prints the exact difference).
      const exact = Number(delta.get(s.frame)!.delta);
      expect(Math.abs(s.deltaSec - exact)).toBeLessThanOrEqual(Math.abs(exact) * 2 ** -50 + 1e-6);
    }
    expect(c.clock.first.map((s: { frame: number }) => s.frame)).toEqual([2, 3, 60]);
    expect(r.totals.attempts).toBe(syns);
    expect(r.totals.clockWithheldAttempts).toBe(syns);
    expect(r.totals.handshakeRttMs).toEqual({ p50: null, p99: null });
    expect(r.totals.connectMs).toEqual({ p50: null, p99: null, max: null });
    expect(r.timeline.buckets).toEqual([]);
    expect(r.timeline.clockLeftOut).toEqual([NAME]);
  });

  it('text: each step with tshark\'s frame.time_delta, and no span or RTT where they would rest on it', () => {
    const out = analyze([F], 'text');
    for (const [frame, prev, way] of [[2, 1, 'after'], [3, 2, 'before'], [60, 59, 'after']] as const) {
      const d = delta.get(frame)!;
      expect(out).toMatch(new RegExp(`frame ${frame} \\(interface ${d.iface}, [^)]+\\) is ${msText(d.delta).replace(/^-/, '').replace('.', '\\.')} s \\([0-9.]+ years\\) ${way} frame ${prev} \\(interface ${delta.get(prev)!.iface}, `));
    }
    expect(out).toContain(`${NAME}: pcapng, 159 frames, 159 TCP, 15 connections (no span: its clock is not elapsed time)`);
    expect(out).not.toMatch(/RTT p50|connections over/);
    expect(out.split('\n')[0]).toContain(`(The clock of ${NAME} steps by years between frames: times measured there are not elapsed time, and the totals leave them out.)`);
  });

  it('a sound clock keeps its span: tshark\'s first to last frame time', () => {
    const f = join(SAMPLES, 'refused', 'client.pcap');
    const r = JSON.parse(analyze([f], 'json'));
    const t = tsharkFields(f, 'frame', ['frame.time_epoch']).map((x) => Math.round(Number(x[0]) * 1e6));
    expect(r.captures[0].clock).toBeUndefined();
    expect(r.totals.clockWithheldAttempts).toBeUndefined();
    expect(r.captures[0].durationS).toBe((t[t.length - 1] - t[0]) / 1e6);
  });
});

/**
 * A lab capture with its last record dated two years later (derived here, in a temporary file:
 * the record's ts_sec field rewritten, nothing else): tshark sees the step, the report states it,
 * and the refused and syn-flood findings state no rate from that capture.
 */
describe.skipIf(!hasTshark())('a lab capture whose last frame is dated two years on (derived in the test)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tcpdiag-clock-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const TWO_YEARS = 2 * 365 * 86_400;
  /** The copy of a little-endian µs pcap with `add` seconds on its last record. */
  function lastFrameLater(src: string, add: number): { file: string; frames: number } {
    const b = Buffer.from(readFileSync(src));
    expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
    let at = 24, last = -1, frames = 0;
    while (at + 16 <= b.length) { last = at; frames++; at += 16 + b.readUInt32LE(at + 8); }
    b.writeUInt32LE(b.readUInt32LE(last) + add, last);
    const file = join(tmp, `later-${basename(dirname(src))}-${basename(src)}`);
    writeFileSync(file, b);
    return { file, frames };
  }

  for (const [dir, detector] of [['refused', 'refused'], ['syn-flood', 'syn-flood']] as const) {
    it(`${dir}: the step tshark shows, and ${detector} states no rate`, () => {
      const src = join(SAMPLES, dir, dir === 'refused' ? 'client.pcap' : 'server.pcap');
      const { file, frames } = lastFrameLater(src, TWO_YEARS);
      const d = tsharkFields(file, `frame.number == ${frames}`, ['frame.time_delta'])[0][0];
      expect(Number(d)).toBeGreaterThan(TWO_YEARS - 1);
      const r = JSON.parse(analyze([file], 'json'));
      expect(r.captures[0].clock.steps).toBe(1);
      expect(r.captures[0].clock.first[0]).toMatchObject({ prevFrame: frames - 1, frame: frames });
      expect(r.captures[0].durationS).toBeNull();
      const fs = r.findings.filter((f: { detector: string }) => f.detector === detector);
      expect(fs.length).toBeGreaterThan(0);
      for (const f of fs) {
        expect(f.summary).toContain('no rate stated: the capture clock is not elapsed time');
        expect(f.summary).not.toMatch(/\d\/s\b|a burst of/);
        expect(f.evidence.ratePerS).toBeNull();
      }
      const text = analyze([file], 'text');
      expect(text).toContain(`frame ${frames} (`);
      expect(text).toContain(` is ${msText(d)} s (2.0 years) after frame ${frames - 1} (`);
    });
  }
});
