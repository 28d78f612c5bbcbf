import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fisherExact } from '../../src/report/compare.js';
import { ROOT, SAMPLES } from '../helpers/pipeline.js';

/**
 * `tcpdiag compare` on lab pairs where the lab knows what changed: the incident, then the same
 * traffic with one remedy applied (samples/tw-reuse-ts-kept: timestamps kept by the gateway;
 * samples/client-closes-first: the client closes first; each README says so), and one healthy
 * traffic seen at two points (nothing changed). samples/tw-remedy-wider-range (the client's
 * default port range) and samples/tw-remedy-pooling (4 pooled connections carrying the 100
 * requests) are the incident's traffic with the other two remedies; the counts asserted below are
 * the lab's own (expected.json, from tshark and the client/server logs).
 */

const CLI = join(ROOT, 'dist/cli.js');
const run = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const INCIDENT = join(SAMPLES, 'tw-stale-ack-ts-stripped', 'server.pcap');
const verdict = (j: { metrics: { name: string; verdict: string }[] }, name: string): string | undefined => j.metrics.find((m) => m.name === name)?.verdict;

describe('Fisher exact test', () => {
  it('gives the published two-sided p-values', () => {
    // Fisher's lady tasting tea, 3 of 4 right: p = 0.4857 (two-sided).
    expect(fisherExact(3, 1, 1, 3)).toBeCloseTo(0.4857, 4);
    // The dieting example of the Wikipedia article "Fisher's exact test": p = 0.002759.
    expect(fisherExact(1, 9, 11, 3)).toBeCloseTo(0.002759, 6);
    expect(fisherExact(0, 100, 0, 100)).toBe(1);
  });
});

describe('compare before and after', () => {
  for (const [remedy, after] of [['timestamps kept', 'tw-reuse-ts-kept'], ['the client closes first', 'client-closes-first']]) {
    it(`the incident, then ${remedy}: stale ACKs and SYN retransmits significantly better`, () => {
      const r = run(['compare', INCIDENT, join(SAMPLES, after, 'server.pcap'), '--format', 'json', '--fail-on', 'worse']);
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(verdict(j, 'stale-ack-share')).toBe('better');
      expect(verdict(j, 'syn-retransmit-share')).toBe('better');
      expect(j.worse).toEqual([]);
    });
  }

  /** A lab fact as seen in the server-side capture (plain, or given per capture). */
  const labFact = (sample: string, key: string): number => {
    const v = JSON.parse(readFileSync(join(SAMPLES, sample, 'expected.json'), 'utf8')).facts[key];
    return typeof v === 'number' ? v : v['server.pcap'];
  };
  const labCounts = (sample: string) => [labFact(sample, 'bare_ack_replies_to_syn'), labFact(sample, 'connections')];

  it('the incident, then a wider client port range: stale ACKs and SYN retransmits significantly better', () => {
    const after = 'tw-remedy-wider-range';
    expect(labFact(after, 'port_reuses_within_60s')).toBe(0);
    const r = run(['compare', INCIDENT, join(SAMPLES, after, 'server.pcap'), '--format', 'json', '--fail-on', 'worse']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    const stale = j.metrics.find((m: { name: string }) => m.name === 'stale-ack-share');
    expect(stale.counts.before).toEqual(labCounts('tw-stale-ack-ts-stripped'));
    expect(stale.counts.after).toEqual(labCounts(after));
    expect(stale.verdict).toBe('better');
    expect(verdict(j, 'syn-retransmit-share')).toBe('better');
    expect(j.worse).toEqual([]);
  });

  it('the incident, then pooling: 4 attempts instead of 100, no stale ACKs, too few attempts for a significant share', () => {
    const after = 'tw-remedy-pooling';
    const r = run(['compare', INCIDENT, join(SAMPLES, after, 'server.pcap'), '--format', 'json', '--fail-on', 'worse']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    const stale = j.metrics.find((m: { name: string }) => m.name === 'stale-ack-share');
    const [b, nb] = labCounts('tw-stale-ack-ts-stripped');
    const [a, na] = labCounts(after);
    expect([a, na]).toEqual([0, 4]); // the lab: 4 SYNs, 4 connections, no bare ACK answered a SYN
    expect(stale.counts.before).toEqual([b, nb]);
    expect(stale.counts.after).toEqual([a, na]);
    // Two-sided Fisher p for 43/100 vs 0/4, summed here from the hypergeometric law: 0.1403,
    // above 0.05, so 4 clean attempts cannot prove the share better on their own.
    const choose = (n: number, k: number): number => { let c = 1; for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i; return c; };
    const hyper = (x: number) => (choose(b + a, x) * choose(nb + na - b - a, na - x)) / choose(nb + na, na);
    const p = [0, 1, 2, 3, 4].map(hyper).filter((q) => q <= hyper(a) * (1 + 1e-7)).reduce((s, q) => s + q, 0);
    expect(stale.counts.pValue).toBeCloseTo(p, 9);
    expect(p).toBeGreaterThan(0.05);
    expect(stale.verdict).toBe('no significant change');
    expect(j.metrics.find((m: { name: string }) => m.name === 'stale-acks')).toMatchObject({ before: b, after: 0 });
    expect(j.worse).toEqual([]);
  });

  it('the other way round is worse, and --fail-on worse exits 1', () => {
    const r = run(['compare', join(SAMPLES, 'tw-reuse-ts-kept', 'server.pcap'), INCIDENT, '--fail-on', 'worse']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^WORSE: stale-ack-share, syn-retransmit-share$/m);
  });

  for (const s of ['tw-reuse-ts-kept', 'one-host-500']) {
    it(`${s}: the same healthy traffic at two points is no significant change`, () => {
      const r = run(['compare', join(SAMPLES, s, 'client.pcap'), join(SAMPLES, s, 'server.pcap'), '--format', 'json', '--fail-on', 'worse']);
      expect(r.status).toBe(0);
      const j = JSON.parse(r.stdout);
      for (const m of j.metrics.filter((x: { counts: unknown }) => x.counts)) expect([m.name, m.verdict]).toEqual([m.name, 'no significant change']);
    });
  }

  it('takes JSON reports and kept stores as well as captures', () => {
    const json = join(dir, 'before.json');
    const db = join(dir, 'after.sqlite');
    expect(run(['analyze', INCIDENT, '--format', 'json', '-o', json]).status).toBe(0);
    expect(run(['analyze', join(SAMPLES, 'tw-reuse-ts-kept', 'server.pcap'), '--db', db, '-q']).status).toBe(0);
    const r = run(['compare', json, db, '--format', 'md']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| stale-ack-share \| 43\.0% \(43 of 100\) \| 0\.0% \(0 of 100\) \| better \| Fisher exact p=/);
  });
});
