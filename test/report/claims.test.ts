import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/flows/store.js';
import { buildReport } from '../../src/report/build.js';
import type { Report } from '../../src/report/model.js';
import { renderText } from '../../src/report/text.js';
import { fact, hasTshark, pipeline, SAMPLES, scenarios, tsharkFields } from '../helpers/pipeline.js';

/**
 * The claims test: on every sample, no two numbers of one report disagree (headline, totals,
 * cause figures, findingCounts), and every remedy offered has its preconditions true in the
 * store, each checked here by its own SQL over the connections and findings tables (not through
 * detectors/facts.ts, which the report uses).
 */

const stores: Store[] = [];
afterAll(() => { for (const s of stores) s.close(); });

const TW_S = 60;

const ATTEMPT_SOURCES = `SELECT count(DISTINCT capture_id) AS points, count(DISTINCT client_addr) AS addrs, count(DISTINCT client_port) AS ports
  FROM connections WHERE attempt_id IS NOT NULL AND syn_count > 0 GROUP BY attempt_id`;

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
  // Per attempt (one client ISN, followed across capture points and ports): the source addresses and ports it used.
  'nat-keeps-ports': (one) => one(`SELECT count(*) FROM (${ATTEMPT_SOURCES}) WHERE points > 1 AND addrs > 1 AND ports = 1`) > 0
    && one(`SELECT count(*) FROM (${ATTEMPT_SOURCES}) WHERE ports > 1`) === 0,
  'nat-rewrites-ports': (one) => one(`SELECT count(*) FROM (${ATTEMPT_SOURCES}) WHERE ports > 1`) > 0,
  'nat-ports-unseen': (one) => one("SELECT count(*) FROM findings WHERE detector = 'nat-clients'") > 0
    && one(`SELECT count(*) FROM (${ATTEMPT_SOURCES}) WHERE points > 1 AND addrs > 1`) === 0,
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

      // The SYN-retransmit summary of a capture counts what the totals count: attempts (one client
      // ISN) and their retransmits, a retry a NAT moved to another port included.
      if (r.captures.length === 1) {
        const sum = r.findings.find((x) => x.detector === 'syn-retransmit' && x.connId === null);
        if (sum) {
          expect([sum.evidence.attempts, sum.evidence.synRetransmits]).toEqual([t.attempts, t.synRetransmits]);
          expect(sum.evidence.affected).toBe(one('SELECT count(*) FROM (SELECT 1 FROM connections WHERE attempt_id IS NOT NULL GROUP BY attempt_id HAVING sum(syn_count) > 1)'));
        }
      }

      // The pooling remedy's reused attempts are some of the attempts, once each across points.
      const pooling = r.remedies.find((m) => m.id === 'pooling');
      const reused = pooling?.why.match(/(\d+) connection attempts here, (\d+) of them/);
      if (reused) expect([Number(reused[1]), Number(reused[2]) <= t.attempts]).toEqual([t.attempts, true]);

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
      const texts = [r.verdict.headline, ...r.causes.flatMap((x) => [x.summary, x.explanation]), ...r.remedies.flatMap((x) => [x.why, x.setting]),
        ...r.withheld.map((x) => x.reason), ...r.findings.map((x) => x.summary), renderText(r, { color: false, quiet: false })];
      for (const s of texts) {
        for (const m of s.matchAll(/(\d+) of (\d+)/g)) expect(Number(m[1])).toBeLessThanOrEqual(Number(m[2]));
        expect(s).not.toMatch(/\b1 (source ports|ports|frames|connections|attempts|SYN retransmits|distinct ones|findings)\b/);
        expect(s).not.toMatch(/NaN|undefined|Infinity/);
        // The port range is the one assumed (--port-range), never seen configured in a capture.
        expect(s).not.toMatch(/configured port range/);
      }
      proseChecks(r, one);
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
        // What ruled it out holds in the store too.
        for (const p of w.because.filter((x) => !x.startsWith('not '))) expect([w.id, p, CHECKS[p]?.((sql) => one(sql))]).toEqual([w.id, p, true]);
      }
      // Remedies of the top cause come first.
      if (r.causes.length && r.causes[0].remedies.length) expect(r.remedies[0].id).toBe(r.causes[0].remedies[0]);
    });
  }
});

/**
 * Sentences of causes against the store: each explained once, joined sentences in lower case,
 * one cause per endpoint, unanswered SYNs not counted twice, causes ranked by one rule.
 */
function proseChecks(r: Report, one: (sql: string) => number): void {
  const explanations = r.causes.map((c) => c.explanation);
  // No cause repeats a sentence, and no two causes share one.
  const sentences = explanations.flatMap((e) => e.split(/\. (?=[A-Z0-9[])/).map((x) => x.replace(/\.$/, '')));
  expect(sentences.length).toBe(new Set(sentences).size);
  for (const e of explanations) {
    expect(e.charAt(0)).toBe(e.charAt(0).toUpperCase());
    // Sentences joined with '; ' go on in lower case (acronyms such as TIME_WAIT and addresses aside).
    expect(e).not.toMatch(/; (The|A|It|Timestamps|Nothing|Something) /);
    expect(e).not.toMatch(/[Nn]othing failed/);
  }
  // One explanation per server endpoint / address, however many capture points saw it.
  const distinct = (detector: string, key: string): number => one(`SELECT count(DISTINCT json_extract(evidence, '$.${key}')) FROM findings WHERE detector = '${detector}'`);
  const cause = (id: string) => r.causes.find((c) => c.id === id);
  if (cause('listen-overflow')) expect(cause('listen-overflow')!.figures.servers).toBe(distinct('listen-overflow', 'server'));
  if (cause('paws-drop')) expect(cause('paws-drop')!.figures.addresses).toBe(distinct('paws-drop', 'address'));
  if (cause('syn-flood')) expect(cause('syn-flood')!.figures.endpoints).toBe(distinct('syn-flood', 'server'));
  // Unanswered SYN retransmits at an endpoint whose accept queue overflowed, or of SYNs a paws-drop
  // finding names (unanswered, from its address), are that cause's: syn-unanswered appears only
  // with others, or with SYNs lost between two points.
  const endpoint = "(CASE WHEN instr(c.server_addr, ':') > 0 THEN '[' || c.server_addr || ']' ELSE c.server_addr END) || ':' || c.server_port";
  const others = one(`SELECT coalesce(sum(c.syn_rtx_unanswered), 0) FROM connections c WHERE NOT EXISTS (SELECT 1 FROM findings f WHERE f.detector = 'listen-overflow'
      AND f.capture_id = c.capture_id AND json_extract(f.evidence, '$.server') = ${endpoint})
    AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.detector = 'paws-drop' AND f.capture_id = c.capture_id AND json_extract(f.evidence, '$.address') = c.client_addr AND c.synack_count = 0)`);
  const lostBetween = one("SELECT coalesce(sum(json_extract(evidence, '$.attemptsNotArriving')), 0) FROM findings WHERE detector = 'two-point'");
  const unanswered = cause('syn-unanswered');
  if (others === 0 && lostBetween === 0) expect(unanswered).toBeUndefined();
  if (unanswered && Number(unanswered.figures.unansweredRetransmits) > 0) expect(others).toBeGreaterThan(0);
  if (unanswered) {
    // A capture point proves no answer passed it; it is not assumed to sit at the client.
    expect(unanswered.explanation).not.toMatch(/not by the server|between client and server/);
    if (lostBetween > 0) expect(unanswered.explanation).not.toMatch(/listen queue|PAWS/);
  }
  // Stripped timestamps: the TIME_WAIT risk is stated only where the server is seen closing first.
  const stripped = cause('timestamps-stripped');
  if (stripped) {
    // Closes counted once per attempt (an attempt seen at two points closed once), each closed attempt's first FIN by the server or not.
    const closed = one('SELECT count(DISTINCT coalesce(attempt_id, -id)) FROM connections WHERE first_fin_by IS NOT NULL');
    const byServer = one("SELECT count(DISTINCT coalesce(attempt_id, -id)) FROM connections WHERE first_fin_by = 'server'");
    expect([stripped.figures.closed, stripped.figures.serverFirst]).toEqual([closed, byServer]);
    const serverFirst = closed >= 5 && byServer / closed > 0.5;
    expect(stripped.explanation.includes('would be answered with a stale ACK')).toBe(serverFirst);
    expect(stripped.title.includes('latent TIME_WAIT risk')).toBe(serverFirst);
  }
  // A reject reason is stated only when a stale-ack finding gives one.
  const stale = cause('time-wait-stale-ack');
  if (stale && one("SELECT count(*) FROM findings WHERE detector = 'stale-ack' AND reason IS NOT NULL") === 0) {
    expect(stale.explanation).not.toMatch(/reused SYNs (had|came|carried)/);
  }
  // One ranking: severity, then attempts affected, then confidence.
  const sev = { error: 2, warning: 1, info: 0 } as const;
  for (let i = 1; i < r.causes.length; i++) {
    const [a, b] = [r.causes[i - 1], r.causes[i]];
    expect(sev[a.severity]).toBeGreaterThanOrEqual(sev[b.severity]);
    if (a.severity === b.severity) expect(Number(a.figures.attemptsAffected)).toBeGreaterThanOrEqual(Number(b.figures.attemptsAffected));
  }
  for (const c of r.causes) expect(typeof c.figures.attemptsAffected).toBe('number');
  if (stale) expect(stale.figures.attemptsAffected).toBe(r.totals.staleAcks);
  if (cause('refused')) expect(cause('refused')!.figures.attemptsAffected).toBe(r.totals.refused);
}

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

describe('claims: cause sentences against the samples\' own facts', () => {
  const expected = (dir: string): any => JSON.parse(readFileSync(join(SAMPLES, dir, 'expected.json'), 'utf8'));
  const report = async (files: string[]): Promise<Report> => {
    const { store } = await pipeline(files.map((f) => join(SAMPLES, f)), TW_S);
    stores.push(store);
    return buildReport(store.db, { version: 'test', timeWaitS: TW_S, portRange: [32768, 60999] });
  };
  const count = (s: string, sub: string): number => s.split(sub).length - 1;

  it('listen-overflow, client and server: the one listener (198.19.2.2:3306, README) seen at two points is explained once', async () => {
    for (const dir of ['listen-overflow', 'listen-overflow-no-syncookies']) {
      const r = await report([`${dir}/client.pcap`, `${dir}/server.pcap`]);
      const lo = r.causes.filter((c) => c.id === 'listen-overflow');
      expect(lo.length).toBe(1);
      expect(lo[0].figures.servers).toBe(1);
      expect(lo[0].summary).toBe('1 server endpoint dropped completed handshakes');
      expect(count(lo[0].explanation, '198.19.2.2:3306 dropped completed handshakes')).toBe(1);
      // Every unanswered SYN retransmit was to that listener: no second cause counts them again.
      expect(r.causes.map((c) => c.id)).not.toContain('syn-unanswered');
    }
  });

  it('listen-overflow/server.pcap: raise-backlog names only the signs seen (no SYN-ACK resent: tshark and expected.json)', async () => {
    const file = join(SAMPLES, 'listen-overflow', 'server.pcap');
    const synAckRtx = fact(expected('listen-overflow'), 'synack_retransmits', 'server.pcap');
    expect(synAckRtx).toBe(0);
    if (hasTshark()) expect(tsharkFields(file, 'tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.analysis.retransmission', ['frame.number']).length).toBe(synAckRtx);
    const r = await report(['listen-overflow/server.pcap']);
    const why = r.remedies.find((m) => m.id === 'raise-backlog')!.why;
    expect(why).not.toMatch(/resent/);
    expect(why).toMatch(/^198\.19\.2\.2:3306 answered the SYN of \d+ connections, then ignored the client's ACK and data/);
    expect(r.causes.map((c) => c.id)).toEqual(['listen-overflow']);
  });

  it('paws-drop-crafted: the SYNs the paws-drop finding names are not counted again as an unexplained drop', async () => {
    const r = await report(['paws-drop-crafted/paws-drop-crafted.pcap']);
    expect(r.causes.map((c) => c.id)).toEqual(['paws-drop']);
    expect(r.remedies.map((m) => m.id)).not.toContain('check-drops');
  });

  it('snat-retry-other-port/client2.pcap: 29 attempts answered by a stale ACK rank above 1 unanswered SYN retransmit', async () => {
    const e = expected('snat-retry-other-port');
    const r = await report(['snat-retry-other-port/client2.pcap']);
    expect(r.causes[0].id).toBe('time-wait-stale-ack');
    expect(r.causes[0].figures.staleAcks).toBe(fact(e, 'connections_with_bare_ack_reply', 'client2.pcap'));
    const unanswered = r.causes.find((c) => c.id === 'syn-unanswered')!;
    // 38 SYN retransmits, 37 of them after a bare ACK: 1 after no answer.
    expect(unanswered.figures.unansweredRetransmits).toBe(fact(e, 'syn_retransmits', 'client2.pcap') - fact(e, 'bare_ack_replies_to_syn', 'client2.pcap'));
    expect(r.verdict.headline.startsWith(r.causes[0].title)).toBe(true);
  });

  it('snat-port-pool-ts-stripped: reuses accepted from TIME_WAIT as counted, no "nothing failed" beside the NAT\'s dropped SYNs', async () => {
    const e = expected('snat-port-pool-ts-stripped');
    const server = await report(['snat-port-pool-ts-stripped/server.pcap']);
    const stripped = server.causes.find((c) => c.id === 'timestamps-stripped')!;
    expect(e.facts.port_reuse_first_server_answer['syn-ack']).toBe(fact(e, 'port_reuses', 'server.pcap'));
    expect(stripped.explanation).toContain(`${fact(e, 'port_reuses', 'server.pcap')} SYNs reusing a 4-tuple within TIME_WAIT were accepted from the server's TIME_WAIT`);
    expect(stripped.explanation).toContain(`the server closes first (100% of ${fact(e, 'server_closes_first_connections', 'server.pcap')} closed connections)`);
    const all = await report(['client.pcap', 'client2.pcap', 'server.pcap'].map((f) => `snat-port-pool-ts-stripped/${f}`));
    const lost = all.causes.find((c) => c.id === 'syn-unanswered')!;
    expect(lost.figures.attemptsLostBetweenPoints).toBe(e.facts.connect_results.timeout);
    for (const c of all.causes) expect(`${c.summary} ${c.explanation}`).not.toMatch(/nothing failed|not by the server/i);
  });

  it('snat-port-pool/client.pcap: no reject reason is stated for tuples whose previous connection is not captured', async () => {
    const r = await report(['snat-port-pool/client.pcap']);
    const stale = r.causes.find((c) => c.id === 'time-wait-stale-ack')!;
    expect(stale.figures.linkedToPreviousFin).toBe(0);
    expect(stale.explanation).toContain('why the server refused the reused SYNs cannot be seen');
    expect(stale.explanation).not.toMatch(/neither a newer timestamp|; The /);
    expect(stale.explanation.startsWith('The previous connections on these 4-tuples are not in the capture')).toBe(true);
  });

  it('tw-incident-one-host-500: the sustainable rate is the assumed port range\'s (--port-range), not the lab\'s 40000-40003', async () => {
    expect(readFileSync(join(SAMPLES, 'tw-incident-one-host-500', 'lab-env.txt'), 'utf8')).toContain('ip_local_port_range = 40000\t40003');
    const r = await report(['tw-incident-one-host-500/server.pcap']);
    const stale = r.causes.find((c) => c.id === 'time-wait-stale-ack')!;
    expect(stale.explanation).toContain('the 471/s that the assumed port range, 32768-60999 by --port-range, would sustain');
    expect(stale.explanation).not.toContain('configured');
  });

  it('spoofed-syns/server.pcap: SYNs captured with no SYN-ACK are not placed "between client and server"', async () => {
    const r = await report(['spoofed-syns/server.pcap']);
    const c = r.causes.find((x) => x.id === 'syn-unanswered')!;
    expect(c.explanation).toContain('passed the capture point');
    expect(c.explanation).not.toMatch(/between client and server|silently/);
    expect(r.remedies.find((m) => m.id === 'check-drops')!.setting).not.toContain('between client and server');
  });
});
