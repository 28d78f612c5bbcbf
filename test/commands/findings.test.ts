import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTshark, ROOT, SAMPLES, tsharkFields } from '../helpers/pipeline.js';

/**
 * `tcpdiag findings`: every finding of a kept store. Stale-ack findings are stored by their typed
 * columns only and rendered from the connections when read, so the command, the JSON report and
 * the frames tshark decodes must agree on them.
 */

const CLI = join(ROOT, 'dist/cli.js');
const run = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
const dir = mkdtempSync(join(tmpdir(), 'tcpdiag-findings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FILE = join(SAMPLES, 'tw-stale-ack-ts-stripped', 'server.pcap');
const DB = join(dir, 'kept.sqlite');

type F = { id: string; detector: string; severity: string; connId: number | null; summary: string; evidence: Record<string, any> };
let report: { findings: F[]; findingCounts: Record<string, Record<string, number>> };

beforeAll(() => {
  const r = run(['analyze', FILE, '--db', DB, '--format', 'json']);
  expect(r.status).toBe(0);
  report = JSON.parse(r.stdout);
});

describe('tcpdiag findings', () => {
  it('stores stale ACKs by their typed columns and renders them as the report does', () => {
    const db = new Database(DB, { readonly: true });
    const stored = db.prepare("SELECT id, kind, reason, conn_id, summary, evidence FROM findings WHERE detector = 'stale-ack' ORDER BY rowid").all() as Record<string, any>[];
    const others = db.prepare("SELECT count(*) FROM findings WHERE detector != 'stale-ack' AND (summary IS NULL OR evidence IS NULL)").pluck().get();
    const total = db.prepare('SELECT count(*) FROM findings').pluck().get() as number;
    db.close();
    expect(stored.length).toBeGreaterThan(10);
    expect(stored.every((s) => s.summary === null && s.evidence === null && s.kind !== null && s.conn_id !== null)).toBe(true);
    expect(others).toBe(0);

    const r = run(['findings', '--db', DB, '--format', 'json']);
    expect(r.status).toBe(0);
    const all = JSON.parse(r.stdout) as F[];
    expect(all.length).toBe(total);
    const stale = all.filter((f) => f.detector === 'stale-ack');
    expect(stale.map((f) => f.id)).toEqual(stored.map((s) => s.id));
    expect(stale.map((f) => [f.evidence.relation, f.evidence.rejectReason])).toEqual(stored.map((s) => [s.kind, s.reason]));
    // Every finding the report lists reads the same here.
    const byId = new Map(all.map((f) => [f.id, f]));
    for (const f of report.findings) expect(byId.get(f.id)).toEqual(f);
    const counts: Record<string, number> = {};
    for (const f of all) counts[f.detector] = (counts[f.detector] ?? 0) + 1;
    for (const [d, c] of Object.entries(report.findingCounts)) expect(counts[d]).toBe(c.info + c.warning + c.error);
  });

  it.skipIf(!hasTshark())('renders the ACK each stale-ack names as tshark decodes that frame', () => {
    const stale = (JSON.parse(run(['findings', '--db', DB, '--format', 'json', '--detector', 'stale-ack']).stdout) as F[]);
    expect(stale.length).toBeGreaterThan(10);
    const frames = new Map(tsharkFields(FILE, 'tcp.flags == 0x010', ['frame.number', 'tcp.seq_raw', 'tcp.ack_raw']).map((x) => [Number(x[0]), [Number(x[1]), Number(x[2])]]));
    const syns = new Map(tsharkFields(FILE, 'tcp.flags == 0x002', ['frame.number', 'tcp.seq_raw']).map((x) => [Number(x[0]), Number(x[1])]));
    for (const f of stale) {
      expect(frames.get(f.evidence.ackFrame)).toEqual([f.evidence.ackSeq, f.evidence.ackAck]);
      expect(syns.get(f.evidence.synFrame)).toBe(f.evidence.synSeq);
      expect(f.evidence.ackAck).not.toBe((f.evidence.synSeq + 1) >>> 0);
    }
  });

  it('text: one line per finding; --detector and --limit narrow it; usage errors exit 2', () => {
    const json = JSON.parse(run(['findings', '--db', DB, '--format', 'json']).stdout) as F[];
    const text = run(['findings', '--db', DB]);
    expect(text.status).toBe(0);
    expect(text.stdout.split('\n').filter(Boolean)).toEqual(json.map((f) => `${f.severity} ${f.id}: ${f.summary}`));
    const two = run(['findings', '--db', DB, '--detector', 'stale-ack', '--limit', '2']).stdout.split('\n').filter(Boolean);
    expect(two).toEqual(json.filter((f) => f.detector === 'stale-ack').slice(0, 2).map((f) => `${f.severity} ${f.id}: ${f.summary}`));
    const bad = run(['findings', '--db', DB, '--detector', 'nosuch']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--detector must be one of stale-ack, challenge-ack, /);
    expect(run(['findings']).status).toBe(2);
  });

  it('says so when the detectors never ran on a store, or a run did not finish', () => {
    const db = new Database(DB, { readonly: true });
    const marked = db.prepare("SELECT value FROM settings WHERE key = 'findings_complete'").pluck().get();
    const total = db.prepare('SELECT count(*) FROM findings').pluck().get();
    db.close();
    expect(marked).toBe(String(total));

    const flowsOnly = join(dir, 'flows-only.sqlite');
    expect(run(['flows', FILE, '--db', flowsOnly, '--limit', '0']).status).toBe(0);
    const never = run(['findings', '--db', flowsOnly]);
    expect([never.status, never.stdout]).toEqual([2, '']);
    expect(never.stderr).toBe(`tcpdiag: ${flowsOnly}: the detectors have not run on this store: tcpdiag analyze --db ${flowsOnly} runs them\n`);

    // A run cut short (a thread that ended, a signal) leaves its findings without the mark.
    const cut = join(dir, 'cut-short.sqlite');
    copyFileSync(DB, cut);
    const w = new Database(cut);
    w.prepare("DELETE FROM settings WHERE key = 'findings_complete'").run();
    w.prepare('DELETE FROM findings WHERE rowid > 5').run();
    w.close();
    const partial = run(['findings', '--db', cut]);
    expect(partial.status).toBe(3);
    expect(partial.stdout.split('\n').filter(Boolean)).toHaveLength(5);
    expect(partial.stderr).toBe(`tcpdiag: ${cut}: the detector run that wrote these findings did not finish: they are not all there; tcpdiag analyze --db ${cut} runs the detectors again\n`);
    // Running them again puts the mark back.
    expect(run(['analyze', '--db', cut, '-q']).status).toBe(0);
    expect(run(['findings', '--db', cut]).status).toBe(0);
  });
});
