import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/flows/store.js';
import { buildReport } from '../../src/report/build.js';
import { pipeline, SAMPLES, scenarios } from '../helpers/pipeline.js';

/**
 * The claims test: on every sample, no two numbers of one report disagree (headline, totals,
 * cause figures, findingCounts), and every remedy offered has its preconditions true in the
 * store, each checked here by its own SQL over the connections and findings tables (not through
 * detectors/facts.ts, which the report uses).
 */

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

const TW_S = 60;

/** Each remedy condition, re-derived from the store's rows. */
const CHECKS: Record<string, (one: (sql: string) => number) => boolean> = {
  'stale-acks': (one) => one("SELECT count(*) FROM findings WHERE detector = 'stale-ack'") > 0,
  // A reuse within TIME_WAIT follows a previous connection closed with a FIN (prev_active_closer).
  'failed-reuses': (one) => one(`SELECT count(*) FROM connections WHERE prev_id IS NOT NULL AND syn_count > 0 AND prev_active_closer IS NOT NULL AND prev_gap_usec < ${TW_S * 1e6} AND answer IN ('ack', 'rst', 'none')`) > 0,
  'reuse-within-time-wait': (one) => one(`SELECT count(*) FROM connections WHERE prev_id IS NOT NULL AND syn_count > 0 AND prev_active_closer IS NOT NULL AND prev_gap_usec < ${TW_S * 1e6}`) > 0,
  'ports-run-out': (one) => one("SELECT count(*) FROM findings WHERE detector = 'exhaustion-forecast' AND severity = 'warning'") > 0,
  'rate-near-sustainable': () => true, // a problem trigger only; never the sole reason a remedy is offered (see below)
  'server-closes-first': (one) => one("SELECT count(*) FROM connections WHERE first_fin_by IS NOT NULL") >= 5
    && one("SELECT avg(first_fin_by = 'server') FROM connections WHERE first_fin_by IS NOT NULL") > 0.5,
  'client-closes-first': (one) => one("SELECT count(*) FROM connections WHERE first_fin_by IS NOT NULL") >= 5
    && one("SELECT avg(first_fin_by = 'client') FROM connections WHERE first_fin_by IS NOT NULL") > 0.5,
  'timestamps-stripped': (one) => one("SELECT count(*) FROM findings WHERE detector = 'ts-stripped' AND severity != 'info'") > 0,
  'synack-without-timestamps': (one) => one('SELECT count(*) FROM connections WHERE syn_count > 0 AND syn_ts = 1 AND synack_count > 0 AND synack_ts = 0') > 0,
  'timestamps-end-to-end': (one) => one('SELECT count(*) FROM connections WHERE synack_count > 0 AND synack_ts = 0') === 0
    && one("SELECT count(*) FROM findings WHERE detector = 'ts-stripped' AND severity != 'info'") === 0,
  'clients-without-timestamps': (one) => one('SELECT avg(syn_ts = 0 AND syn_nop_run < 10) FROM connections WHERE syn_count > 0') >= 0.5,
  'behind-nat': (one) => one("SELECT count(*) FROM findings WHERE detector = 'nat-clients'") > 0
    || one("SELECT count(*) FROM findings WHERE detector = 'two-point' AND json_type(evidence, '$.sourceNat') = 'object'") > 0
    || one('SELECT count(*) FROM (SELECT 1 FROM connections WHERE attempt_id IS NOT NULL GROUP BY attempt_id, capture_id HAVING count(*) > 1)') > 0,
  'windows-clients': () => true,
  'unanswered-syns': (one) => one('SELECT coalesce(sum(syn_rtx_unanswered), 0) FROM connections') > 0,
  'synacks-not-taken': (one) => one('SELECT coalesce(sum(syn_rtx_after_synack), 0) FROM connections') > 0,
  'syns-lost-between-points': (one) => one("SELECT coalesce(sum(json_extract(evidence, '$.attemptsNotArriving')), 0) FROM findings WHERE detector = 'two-point'") > 0,
  'listen-overflow': (one) => one("SELECT count(*) FROM findings WHERE detector = 'listen-overflow'") > 0,
  'paws-drop': (one) => one("SELECT count(*) FROM findings WHERE detector = 'paws-drop'") > 0,
  refused: (one) => one("SELECT count(*) FROM connections WHERE conn_state = 'REJ'") > 0,
};

function cases(): { name: string; files: string[] }[] {
  const out: { name: string; files: string[] }[] = [];
  for (const s of scenarios()) {
    const caps = (s.expected.captures as { file: string }[]).map((c) => join(s.dir, c.file));
    for (const f of caps) out.push({ name: `${s.name}/${f.split('/').pop()}`, files: [f] });
    if (caps.length > 1) out.push({ name: `${s.name}/all points`, files: caps });
  }
  for (const f of readdirSync(join(SAMPLES, 'corpus')).filter((x) => /\.(pcap|pcapng)(\.gz)?$/.test(x))) out.push({ name: `corpus/${f}`, files: [join(SAMPLES, 'corpus', f)] });
  return out;
}

describe('claims: one report, one set of numbers', () => {
  for (const c of cases()) {
    it(c.name, async () => {
      const { store } = await pipeline(c.files, TW_S);
      stores.push(store);
      const db = store.db;
      const one = (sql: string): number => db.prepare(sql).pluck().get() as number;
      const r = buildReport(db, { version: 'test', timeWaitS: TW_S, portRange: [32768, 60999] });
      const t = r.totals;

      // Totals against the rows, counted here without the attempts table.
      expect(t.connections).toBe(one('SELECT count(*) FROM connections'));
      expect(t.attempts).toBe(one('SELECT count(DISTINCT attempt_id) FROM connections'));
      expect(t.staleAcks).toBe(one("SELECT count(DISTINCT c.attempt_id) FROM findings f JOIN connections c ON c.id = f.conn_id WHERE f.detector = 'stale-ack'"));
      expect(t.established + t.refused + t.unanswered + t.staleAcks).toBeGreaterThanOrEqual(0);
      expect(t.established + t.refused + t.unanswered).toBeLessThanOrEqual(t.attempts);
      expect(t.staleAcks).toBeLessThanOrEqual(t.attempts);
      if (r.captures.length === 1) expect(t.synRetransmits).toBe(one('SELECT coalesce(sum(syn_count), 0) FROM connections WHERE syn_count > 0') - t.attempts);

      // findingCounts count the store's findings.
      for (const [d, n] of Object.entries(r.findingCounts)) {
        expect(n.error + n.warning + n.info).toBe(one(`SELECT count(*) FROM findings WHERE detector = '${d}'`));
      }

      // Cause figures are the totals' numbers; every "N of M" a report states has N <= M.
      for (const cause of r.causes) {
        if ('attempts' in cause.figures) expect(cause.figures.attempts).toBe(t.attempts);
        if ('staleAcks' in cause.figures) expect(cause.figures.staleAcks).toBe(t.staleAcks);
        if ('refused' in cause.figures) expect(cause.figures.refused).toBe(t.refused);
      }
      const texts = [r.verdict.headline, ...r.causes.map((x) => x.explanation), ...r.remedies.map((x) => x.why), ...r.withheld.map((x) => x.reason)];
      for (const s of texts) {
        for (const m of s.matchAll(/(\d+) of (\d+)/g)) expect(Number(m[1])).toBeLessThanOrEqual(Number(m[2]));
        expect(s).not.toMatch(/\b1 (source ports|frames|connections|attempts)\b/);
        expect(s).not.toMatch(/NaN|undefined|Infinity/);
      }
      const stale = r.causes.find((x) => x.id === 'time-wait-stale-ack');
      if (stale) {
        expect(stale.explanation).toContain(`answers ${t.staleAcks} of ${t.attempts} connection attempts`);
        // The verdict states the figures once, in the cause's summary, and never repeats the explanation.
        if (r.causes[0] === stale) expect(r.verdict.headline).toContain(stale.summary);
        expect(r.verdict.headline).not.toContain(stale.explanation);
        // A rate per second is never stated from under a second of connections.
        expect(stale.explanation).not.toMatch(/\d+\/s over \d+(\.\d)? ms/);
      }

      // Every remedy offered has its preconditions true in the store; every withheld one says why.
      for (const m of r.remedies) {
        expect(m.preconditions.length).toBeGreaterThan(0);
        for (const p of m.preconditions) expect([m.id, p, CHECKS[p]?.((sql) => one(sql))]).toEqual([m.id, p, true]);
        expect(m.preconditions.some((p) => p !== 'rate-near-sustainable' && p !== 'windows-clients')).toBe(true);
      }
      for (const w of r.withheld) {
        expect(w.reason.length).toBeGreaterThan(0);
        expect(w.because.length).toBeGreaterThan(0);
      }
      // Remedies of the top cause come first.
      if (r.causes.length && r.causes[0].remedies.length) expect(r.remedies[0].id).toBe(r.causes[0].remedies[0]);
    });
  }
});

describe('claims: hosts behind NAT are never over-counted', () => {
  it('nat-clients-ts2 (3 hosts behind one SNAT address, per samples/nat-clients-ts2/README.md)', async () => {
    const { store } = await pipeline([join(SAMPLES, 'nat-clients-ts2', 'server.pcap')], TW_S);
    stores.push(store);
    const hosts = store.db.prepare("SELECT json_extract(evidence, '$.estimatedHosts') FROM findings WHERE detector = 'nat-clients'").pluck().all() as (number | null)[];
    expect(hosts.length).toBe(1);
    expect(hosts[0]).not.toBeNull();
    expect(hosts[0]!).toBeLessThanOrEqual(3);
  });

  for (const one of ['tw-stale-ack-ts-stripped/server.pcap', 'tw-reuse-ts-kept/server.pcap', 'client-closes-first/server.pcap']) {
    it(`${one}: one client host, no NAT claim`, async () => {
      const { store } = await pipeline([join(SAMPLES, one)], TW_S);
      stores.push(store);
      expect(store.db.prepare("SELECT count(*) FROM findings WHERE detector = 'nat-clients'").pluck().get()).toBe(0);
    });
  }
});
