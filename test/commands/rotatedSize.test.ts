/**
 * `tcpdump -C` sets: tcpdump 4.99 opens a new file once the current one is larger than -C
 * million bytes and names them x.pcap, x.pcap1, x.pcap2, ... (the first without a number, so
 * x.pcap10 sorts before x.pcap2 by name). samples/rotated-tcpdump-size is one such set made in the
 * lab (`-C 1`, stored zstd-compressed); the set must be read as one capture point in time order
 * and analysed as the files merged by mergecap, with the lab's own counts (expected.json: tshark
 * and the client/server logs) and no two-point finding. A set of 13 pieces named the same way
 * (editcap -c of a lab sample, renamed) checks x.pcap10 comes after x.pcap9.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decompress } from 'fzstd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTshark, ROOT, SAMPLES, tsharkFields } from '../helpers/pipeline.js';

const CLI = join(ROOT, 'dist/cli.js');
const DIR = join(SAMPLES, 'rotated-tcpdump-size');
const TMP = mkdtempSync(join(tmpdir(), 'tcpdiag-rotsize-'));
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));

interface Run { code: number | null; out: string; err: string }
function cli(args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const json = (r: Run): any => JSON.parse(r.out);
/** What a report says about the traffic, without the per-file lines. */
const gist = (rep: any) => ({
  totals: rep.totals, findingCounts: rep.findingCounts, causes: rep.causes.map((c: any) => [c.id, c.severity, c.figures]),
  metrics: rep.metrics, verdict: rep.verdict,
});

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/detectors/pieces.js'))) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
}, 120_000);
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe.skipIf(!hasTshark())('tcpdump -C 1 set (lab): one capture point, in time order, as the merged file', { timeout: 300_000 }, () => {
  const names: string[] = expected.pieces.map((p: any) => p.file);
  const paths = names.map((f) => join(TMP, f));
  let set: any, merged: any, setRun: Run;
  beforeAll(() => {
    // The files tcpdump wrote, under its names: pieces.sha256 was taken before compressing.
    const sums = new Map(readFileSync(join(DIR, 'pieces.sha256'), 'utf8').trim().split('\n').map((l) => { const [h, f] = l.split(/\s+/); return [f, h]; }));
    for (const p of expected.pieces) {
      const bytes = decompress(readFileSync(join(DIR, p.stored_as)));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(sums.get(p.file));
      writeFileSync(join(TMP, p.file), bytes);
    }
    execFileSync('mergecap', ['-F', 'pcap', '-w', join(TMP, 'merged.pcap'), ...paths]);
    // Given out of order: x.pcap2 first.
    setRun = cli(['analyze', '--format', 'json', paths[2], paths[0], paths[1]]);
    set = json(setRun);
    merged = json(cli(['analyze', '--format', 'json', join(TMP, 'merged.pcap')]));
  }, 300_000);

  it('the pieces are tcpdump -C pieces: each but the last just over 1 000 000 bytes, frames as tshark counts them', () => {
    for (const p of expected.pieces) {
      const size = readFileSync(join(TMP, p.file)).length;
      expect(size).toBe(p.bytes);
      expect(tsharkFields(join(TMP, p.file), 'frame', ['frame.number']).length).toBe(p.packets);
    }
    expect(expected.pieces.slice(0, -1).every((p: any) => p.bytes > 1_000_000)).toBe(true);
    expect(expected.pieces.at(-1).bytes).toBeLessThanOrEqual(1_000_000 + 200);
    expect(expected.pieces.length).toBeGreaterThanOrEqual(3);
  });

  it('read as one capture point in time order, whatever the order given', () => {
    expect(setRun.code).toBe(0);
    expect(set.captures).toHaveLength(1);
    expect(set.captures[0].grouping).toBe('rotated');
    expect(set.captures[0].pieces.map((p: any) => [p.name, p.frames])).toEqual(expected.pieces.map((p: any) => [p.file, p.packets]));
    expect(setRun.err).toMatch(/note: x\.pcap, x\.pcap1, x\.pcap2: read as one capture point in this order/);
  });

  it('the same attempts, stale ACKs, stripping and findings as the merged file; no two-point finding', () => {
    expect(gist(set)).toEqual(gist(merged));
    expect(set.findingCounts['two-point']).toBeUndefined();
    // The lab's own counts: client log, tshark on the merged file (expected.json).
    const f = expected.facts;
    expect(set.totals.attempts).toBe(f.connects_attempted);
    expect(set.totals.established).toBe(f.connects_ok);
    expect(set.totals.staleAcks).toBe(f.bare_ack_replies_to_syn);
    expect(set.totals.synRetransmits).toBe(f.syn_retransmits);
    expect(set.totals.attempts + set.totals.synRetransmits).toBe(f.syn_packets);
    expect(set.captures[0].tcpPackets).toBe(f.tcp_packets);
    expect(set.captures[0].frames).toBe(f.packets_captured);
    // Every SYN reached the server with a run of NOPs where the timestamp option was.
    expect(f.syns_with_10_nop_run).toBe(f.syn_packets);
    expect(set.metrics.timestampsStripped).toBeGreaterThan(0);
    expect(set.causes[0].id).toBe('time-wait-stale-ack');
  });

  it('the .zst files as stored are read the same way', () => {
    const zst = json(cli(['analyze', '--format', 'json', ...expected.pieces.map((p: any) => join(DIR, p.stored_as)).reverse()]));
    expect(zst.captures[0].pieces.map((p: any) => p.name)).toEqual(expected.pieces.map((p: any) => p.stored_as));
    expect(gist(zst)).toEqual(gist(set));
  });
});

describe.skipIf(!hasTshark())('x.pcap10 comes after x.pcap9: pieces ordered by time, not by name', { timeout: 120_000 }, () => {
  it('13 pieces named as tcpdump -C names them, given in name order', () => {
    const dir = join(TMP, 'thirteen');
    mkdirSync(dir);
    const whole = join(SAMPLES, 'tw-stale-ack-ts-stripped/server.pcap');
    execFileSync('editcap', ['-F', 'pcap', '-c', '200', whole, join(dir, 'piece.pcap')]);
    const made = readdirSync(dir).sort(); // piece_00000_..., in time order
    expect(made).toHaveLength(13);
    const tcpdumpName = (k: number): string => (k === 0 ? 'x.pcap' : `x.pcap${k}`);
    made.forEach((f, k) => renameSync(join(dir, f), join(dir, tcpdumpName(k))));
    const byName = readdirSync(dir).sort();
    expect(byName.slice(0, 4)).toEqual(['x.pcap', 'x.pcap1', 'x.pcap10', 'x.pcap11']);
    const r = json(cli(['analyze', '--format', 'json', ...byName.map((f) => join(dir, f))]));
    expect(r.captures).toHaveLength(1);
    expect(r.captures[0].pieces.map((p: any) => p.name)).toEqual(made.map((_, k) => tcpdumpName(k)));
    // First frame of each piece in tshark's time order: what editcap wrote, 200 frames each.
    expect(r.captures[0].pieces.map((p: any) => p.firstFrame)).toEqual(made.map((_, k) => 1 + 200 * k));
    const w = json(cli(['analyze', '--format', 'json', whole]));
    expect(gist(r)).toEqual(gist(w));
    expect(r.findingCounts['two-point']).toBeUndefined();
  });
});
