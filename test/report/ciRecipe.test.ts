import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, SAMPLES } from '../helpers/pipeline.js';

/** The CI recipe in README.md, run as written on sample captures with baselines. */

const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-ci-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const script = /# ci-recipe-begin\n([\s\S]*?)# ci-recipe-end/.exec(readme)![1];
const TCPDIAG = `node ${join(ROOT, 'dist/cli.js')}`;
const gate = (caps: string, bases: string) => spawnSync('sh', ['-c', script, 'gate', caps, bases], { encoding: 'utf8', env: { ...process.env, TCPDIAG, NO_COLOR: '1' } });
const analyze = (args: string[]) => spawnSync('node', [join(ROOT, 'dist/cli.js'), 'analyze', ...args], { encoding: 'utf8' });

describe('README CI recipe', () => {
  it('passes when the captures show what their baselines accepted, fails on a regression', () => {
    const caps = join(dir, 'captures');
    const bases = join(dir, 'baselines');
    mkdirSync(caps); mkdirSync(bases);
    // The incident (accepted, known) and a healthy capture.
    copyFileSync(join(SAMPLES, 'tw-stale-ack-ts-stripped', 'server.pcap'), join(caps, 'incident.pcap'));
    copyFileSync(join(SAMPLES, 'tw-reuse-ts-kept', 'server.pcap'), join(caps, 'healthy.pcap'));
    for (const f of ['incident.pcap', 'healthy.pcap']) expect(analyze([join(caps, f), '--format', 'json', '-o', join(bases, `${f}.json`)]).status).toBe(0);
    const ok = gate(caps, bases);
    expect([ok.status, ok.stdout.match(/^::error/m)]).toEqual([0, null]);

    // The healthy service starts showing the incident: its baseline no longer matches.
    copyFileSync(join(SAMPLES, 'tw-stale-ack-ts-stripped', 'server.pcap'), join(caps, 'healthy.pcap'));
    const bad = gate(caps, bases);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^::error file=[^,]*healthy\.pcap,title=tcpdiag stale-ack/m);
    writeFileSync(join(dir, 'out.txt'), bad.stdout);
  }, 120_000);
});
