import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/report/json.js';
import { REPORT_SCHEMA_VERSION, type Report } from '../../src/report/model.js';
import { okReport, staleAckReport } from './fixtures.js';

// Read from src on purpose: tsc does not copy JSON to dist, and runtime code never loads it.
const schemaPath = fileURLToPath(new URL('../../src/report/schema.json', import.meta.url));
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;

// strict: unknown keywords or a typo'd $ref fail compilation instead of silently matching anything.
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
const validate = ajv.compile(schema);

/** The report as a JSON consumer sees it: through renderJson, not the in-memory object. */
const asJson = (r: Report): unknown => JSON.parse(renderJson(r));
const errorsOf = (x: unknown): string[] => (validate(x) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

/** A fixture with one change applied to its JSON form. */
function broken(edit: (j: any) => void): unknown {
  const j = asJson(staleAckReport()) as any;
  edit(j);
  return j;
}

describe('report schema', () => {
  it('carries the current schema version', () => {
    expect((schema.properties as any).schemaVersion.const).toBe(REPORT_SCHEMA_VERSION);
  });

  it('accepts the stale-ack report and the all-OK report', () => {
    expect(errorsOf(asJson(staleAckReport()))).toEqual([]);
    expect(errorsOf(asJson(okReport()))).toEqual([]);
  });

  it('keeps Finding.evidence open but checks its frames', () => {
    expect(errorsOf(broken((j) => { j.findings[0].evidence.anything = { nested: [1, 'x'] }; }))).toEqual([]);
    expect(errorsOf(broken((j) => { j.findings[0].evidence.frames = ['4409']; }))).not.toEqual([]);
  });

  it.each<[string, (j: any) => void]>([
    ['a bad finding severity', (j) => { j.findings[0].severity = 'critical'; }],
    ['a bad cause severity', (j) => { j.causes[0].severity = 'fatal'; }],
    ['a bad verdict status', (j) => { j.verdict.status = 'fine'; }],
    ['a bad confidence', (j) => { j.causes[0].confidence = 'certain'; }],
    ['a bad remedy place', (j) => { j.remedies[0].where = 'kernel'; }],
    ['a bad remedy risk', (j) => { j.remedies[0].risk = 'none'; }],
    ['an unknown detector', (j) => { j.findings[0].detector = 'rst-storm'; }],
    ['an unknown detector in findingCounts', (j) => { j.findingCounts['rst-storm'] = { info: 0, warning: 0, error: 0 }; }],
    ['a missing required field', (j) => { delete j.totals.staleAcks; }],
    ['a missing ladder (null is required, not absent)', (j) => { delete j.ladder; }],
    ['an extra top-level field', (j) => { j.extra = 1; }],
    ['an extra field in a cause', (j) => { j.causes[0].hint = 'x'; }],
    ['a score above 1', (j) => { j.causes[0].score = 1.5; }],
    ['a port range of three', (j) => { j.settings.portRange = [1, 2, 3]; }],
    ['a port out of range', (j) => { j.settings.portRange = [1024, 70000]; }],
    ['a fractional count', (j) => { j.timeline.buckets[0].newConnections = 1.5; }],
    ['a string where a number goes', (j) => { j.totals.connections = '1160'; }],
    ['a ladder packet without direction', (j) => { delete j.ladder.packets[0].fromClient; }],
    ['a wrong tool name', (j) => { j.tool.name = 'other'; }],
    ['another schema version', (j) => { j.schemaVersion = 1; }],
  ])('rejects %s', (_, edit) => {
    expect(errorsOf(broken(edit))).not.toEqual([]);
  });

  it('says where the error is', () => {
    expect(errorsOf(broken((j) => { j.findings[1].severity = 'critical'; }))).toContain('/findings/1/severity must be equal to one of the allowed values');
  });
});

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli.js');
const samples = join(root, 'samples');
const CORPUS_PICKS = ['suricata-base64-decode-5885-stale-ack.pcap', 'tcpdump-ssh-synack-ts-nop-run.pcap', 'zeek-nmap-vsn-refused.pcap', 'malformed/crafted-pcap-cut-mid-record.pcap',
  'pcapplusplus-pcapng-example-tsresol9.pcapng'];
/**
 * Each lab scenario's client capture, both sides of one scenario together (two
 * captures in one report), and corpus files with odd shapes: a stale ACK from the
 * wild, a NOP run, refused connections, a capture cut mid-record, a clock that steps by years
 * (captures[].clock, durationS null, totals.clockWithheldAttempts, timeline.clockLeftOut).
 */
const cases: string[][] = existsSync(samples)
  ? [
    ...readdirSync(samples, { withFileTypes: true }).filter((d) => d.isDirectory() && !['corpus', 'lab'].includes(d.name)).map((d) => {
      const files = readdirSync(join(samples, d.name)).filter((f) => /^client\.pcap(ng)?$/.test(f));
      return files.slice(0, 1).map((f) => join(samples, d.name, f));
    }),
    ['client.pcap', 'server.pcap'].map((f) => join(samples, 'tw-stale-ack-ts-stripped', f)),
    // A rotated set (tcpdump -G): the per-file fields (files, synFileFrame, fileFrame).
    readdirSync(join(samples, 'rotated-tcpdump')).filter((f) => f.startsWith('g1-')).map((f) => join(samples, 'rotated-tcpdump', f)),
    ...CORPUS_PICKS.map((f) => [join(samples, 'corpus', f)]),
    // VXLAN on UDP 8472 (evidence decodeAs) and a zstd rotated set (pieces' zstdWindowBytes).
    [join(samples, 'vxlan-tw-stale-ack', 'underlay-8472.pcap')],
    readdirSync(join(samples, 'rotated-tcpdump-size')).filter((f) => f.endsWith('.zst')).map((f) => join(samples, 'rotated-tcpdump-size', f)),
  ].filter((c) => c.length > 0 && c.every((f) => existsSync(f)))
  : [];

// Needs a build (npm test runs tsc first); the fixtures above cover the schema without one.
describe.skipIf(!existsSync(cli) || cases.length === 0)('real `tcpdiag analyze --format json` output', () => {
  it.each(cases.map((c) => [c.map((f) => f.slice(samples.length + 1)).join(' + '), c]))('%s matches the schema', (_, files) => {
    let out: string;
    try {
      out = execFileSync(process.execPath, [cli, 'analyze', ...files, '--format', 'json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, maxBuffer: 1 << 28 });
    } catch (e) {
      // A non-zero exit (e.g. a damaged capture) still prints the report; validate that.
      out = String((e as { stdout?: string }).stdout ?? '');
      if (!out.trim()) throw e;
    }
    expect(errorsOf(JSON.parse(out))).toEqual([]);
  }, 60_000);

  it('a capture read from standard input (captures[].source) matches the schema', () => {
    const out = execFileSync(process.execPath, [cli, 'analyze', '-', '--format', 'json'], { cwd: root, encoding: 'utf8', input: readFileSync(join(samples, 'refused', 'client.pcap')), timeout: 60_000 });
    const j = JSON.parse(out);
    expect(j.captures[0].source).toBe('stdin');
    expect(errorsOf(j)).toEqual([]);
  }, 60_000);
});
