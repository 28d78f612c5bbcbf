import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, SAMPLES } from '../helpers/pipeline.js';

/**
 * Regression gates, spawned as a CI job runs them. The expected outcomes rest on the lab's facts:
 * the incident (samples/tw-stale-ack-ts-stripped, expected.json: 43 of 100 SYNs drew a stale
 * ACK) and the same traffic with timestamps kept (samples/tw-reuse-ts-kept: none did).
 */

const CLI = join(ROOT, 'dist/cli.js');
const run = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-gates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const INCIDENT = join(SAMPLES, 'tw-stale-ack-ts-stripped', 'server.pcap');
const HEALTHY = join(SAMPLES, 'tw-reuse-ts-kept', 'server.pcap');
const incidentFacts = JSON.parse(readFileSync(join(SAMPLES, 'tw-stale-ack-ts-stripped', 'expected.json'), 'utf8')).facts;

describe('--fail-on gates', () => {
  it('detector and detector:severity gates', () => {
    expect(run(['analyze', INCIDENT, '-q', '--fail-on', 'stale-ack']).status).toBe(1);
    expect(run(['analyze', HEALTHY, '-q', '--fail-on', 'stale-ack']).status).toBe(0);
    expect(run(['analyze', INCIDENT, '-q', '--fail-on', 'syn-retransmit:error']).status).toBe(1);
    expect(run(['analyze', INCIDENT, '-q', '--fail-on', 'server-closes-first:warning']).status).toBe(0);
    expect(run(['analyze', INCIDENT, '-q', '--fail-on', 'server-closes-first']).status).toBe(1);
  });

  it('metric gates compare the typed metric with the threshold', () => {
    const s = incidentFacts.bare_ack_replies_to_syn / incidentFacts.connections;
    expect(run(['analyze', INCIDENT, '-q', '--fail-on', `stale-ack-share>${(s - 0.01).toFixed(2)}`]).status).toBe(1);
    expect(run(['analyze', INCIDENT, '-q', '--fail-on', `stale-ack-share>${(s + 0.01).toFixed(2)}`]).status).toBe(0);
    expect(run(['analyze', HEALTHY, '-q', '--fail-on', 'stale-ack-share>0', '--fail-on', 'connect-p99-ms>200']).status).toBe(0);
  });

  it('rejects an unknown gate or metric with exit 2 and the list of valid ones', () => {
    const r = run(['analyze', INCIDENT, '--fail-on', 'stale-ack-rate>1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/metrics: stale-ack-share, /);
    const d = run(['analyze', INCIDENT, '--fail-on', 'rst-storm']);
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/a detector \(stale-ack, /);
    expect(run(['analyze', INCIDENT, '--fail-on', 'stale-ack:fatal']).status).toBe(2);
  });
});

describe('--baseline', () => {
  it('an accepted problem passes, a new one fails and is named', () => {
    const same = join(dir, 'incident.json');
    expect(run(['analyze', INCIDENT, '--format', 'json', '-o', same]).status).toBe(0);
    const again = run(['analyze', INCIDENT, '--baseline', same, '--fail-on', 'error', '--fail-on', 'stale-ack-share>0.01', '-q']);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/0 new findings, 0 gone; no metric moved/);

    const healthy = join(dir, 'healthy.json');
    expect(run(['analyze', HEALTHY, '--format', 'json', '-o', healthy]).status).toBe(0);
    const worse = run(['analyze', INCIDENT, '--baseline', healthy, '--fail-on', 'stale-ack', '--format', 'json']);
    expect(worse.status).toBe(1);
    const j = JSON.parse(worse.stdout);
    expect(j.baseline.newFindings).toContain('stale-ack/1/26');
    expect(j.baseline.metrics.find((m: { name: string }) => m.name === 'stale-ack-share')).toEqual({ name: 'stale-ack-share', before: 0, after: j.metrics.staleAcks / j.metrics.attempts });
    expect(j.gates[0].failed).toBe(true);

    // Better than the baseline: a metric gate that would fail alone passes.
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, readFileSync(same));
    expect(run(['analyze', HEALTHY, '--baseline', bad, '--fail-on', 'connect-max-ms>0.1', '-q']).status).toBe(0);
    expect(run(['analyze', HEALTHY, '--fail-on', 'connect-max-ms>0.1', '-q']).status).toBe(1);
  });

  it('refuses what is not a JSON report of this schema', () => {
    const txt = join(dir, 'x.json');
    writeFileSync(txt, '{"schemaVersion": 1}');
    expect(run(['analyze', INCIDENT, '--baseline', txt]).status).toBe(2);
    expect(run(['analyze', INCIDENT, '--baseline', join(dir, 'none.json')]).status).toBe(2);
  });
});

describe('CI-native output', () => {
  it('--format junit: one testsuite per capture, one testcase per gate, a failure with the findings', () => {
    const r = run(['analyze', INCIDENT, join(SAMPLES, 'tw-stale-ack-ts-stripped', 'client.pcap'), '--format', 'junit', '--fail-on', 'stale-ack', '--fail-on', 'refused']);
    expect(r.status).toBe(1);
    const xml = r.stdout;
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="tcpdiag"')).toBe(true);
    const suites = [...xml.matchAll(/<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)"/g)];
    expect(suites.map((m) => m[1].split('/').pop())).toEqual(['server.pcap', 'client.pcap']);
    for (const m of suites) expect(m[2]).toBe('2');
    expect((xml.match(/<testcase /g) ?? []).length).toBe(4);
    expect((xml.match(/<failure /g) ?? []).length).toBe(2); // stale-ack fails at both points; nothing was refused
    expect(xml).toMatch(/stale-ack\/1\/26: /);
    // Well-formed enough for a reporter: every tag closed, nothing unescaped.
    expect((xml.match(/<testsuite /g) ?? []).length).toBe((xml.match(/<\/testsuite>/g) ?? []).length);
    expect(xml.replace(/<[^>]+>/g, '')).not.toMatch(/[<>]/);
  });

  it('--format github: workflow-command annotations per failing finding', () => {
    const r = run(['analyze', INCIDENT, '--format', 'github', '--fail-on', 'stale-ack']);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    const ann = lines.filter((l) => l.startsWith('::'));
    expect(ann.length).toBe(10);
    for (const l of ann) expect(l).toMatch(/^::error file=[^,:]+server\.pcap,title=tcpdiag stale-ack \(stale-ack\)::[^\n]+$/);
    expect(lines[lines.length - 1]).toMatch(/^PROBLEM: /);
    expect(run(['analyze', HEALTHY, '--format', 'github']).stdout).not.toMatch(/^::error/m);
  });
});
