import { execFileSync } from 'node:child_process';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONN_STATES } from '../../src/flows/query.js';
import { hasTshark, ROOT, SAMPLES } from '../helpers/pipeline.js';

/**
 * `flows --format zeek` read back by a conn.log reader written to Zeek's ASCII log format
 * (logging/writers/ascii: #separator, #fields, #types, "-" unset, "(empty)" empty), with every
 * value checked against its declared type, and the packet counts against tshark.
 */

interface Log { fields: string[]; types: string[]; rows: Record<string, string>[] }

function readConnLog(text: string): Log {
  const lines = text.split('\n').filter((l) => l.length > 0);
  expect(lines[0]).toBe('#separator \\x09');
  const meta = new Map<string, string[]>();
  const rows: string[][] = [];
  for (const l of lines.slice(1)) {
    if (l.startsWith('#')) { const [k, ...v] = l.slice(1).split('\t'); meta.set(k, v); } else rows.push(l.split('\t'));
  }
  expect(meta.get('path')).toEqual(['conn']);
  expect(meta.get('unset_field')).toEqual(['-']);
  expect(meta.has('open') && meta.has('close')).toBe(true);
  const fields = meta.get('fields')!;
  const types = meta.get('types')!;
  expect(types.length).toBe(fields.length);
  return { fields, types, rows: rows.map((r) => { expect(r.length).toBe(fields.length); return Object.fromEntries(fields.map((f, i) => [f, r[i]])); }) };
}

const TYPE_OK: Record<string, (v: string) => boolean> = {
  time: (v) => /^\d+\.\d{6}$/.test(v), interval: (v) => /^\d+\.\d{6}$/.test(v), string: (v) => v.length > 0, enum: (v) => v === 'tcp',
  addr: (v) => isIP(v) !== 0, port: (v) => /^\d+$/.test(v) && Number(v) <= 65535, count: (v) => /^\d+$/.test(v), bool: (v) => v === 'T' || v === 'F',
};

describe('flows --format zeek', () => {
  for (const f of ['tw-stale-ack-ts-stripped/server.pcap', 'refused/client.pcap', 'tw-stale-ack-ts-stripped-ipv6/server.pcap', 'corpus/zeek-tcp-missing-syn.pcap']) {
    it(`${f} reads as a conn.log`, () => {
      const file = join(SAMPLES, f);
      const log = readConnLog(execFileSync('node', [join(ROOT, 'dist/cli.js'), 'flows', file, '--format', 'zeek'], { encoding: 'utf8' }));
      expect(log.fields.slice(0, 6)).toEqual(['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p']);
      expect(log.fields).toContain('conn_state');
      expect(log.fields).toContain('history');
      for (const r of log.rows) {
        log.fields.forEach((name, i) => { const v = r[name]; if (v !== '-') expect([name, v, TYPE_OK[log.types[i]](v)]).toEqual([name, v, true]); });
        expect(CONN_STATES).toContain(r.conn_state);
      }
      expect(new Set(log.rows.map((r) => r.uid)).size).toBe(log.rows.length);
      const flows = JSON.parse(execFileSync('node', [join(ROOT, 'dist/cli.js'), 'flows', file, '--format', 'json'], { encoding: 'utf8' })) as unknown[];
      expect(log.rows.length).toBe(flows.length);
      if (hasTshark()) {
        const tcp = execFileSync('tshark', ['-r', file, '-n', '-Y', 'tcp', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean).length;
        expect(log.rows.reduce((n, r) => n + Number(r.orig_pkts) + Number(r.resp_pkts), 0)).toBe(tcp);
      }
    });
  }
});
