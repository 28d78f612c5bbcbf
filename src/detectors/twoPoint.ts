import { fastRows } from './batch.js';
import { sqlPercentiles } from './sqlPercentiles.js';
import { ep, firstN } from './format.js';
import { frameRef, type Detector, type DetectorContext, type Finding } from './types.js';

/**
 * two-point: the same connections seen at two capture points (both ends, or both sides of a
 * gateway), matched by the client's ISN and the server port (a NAT rewrites addresses and
 * ports but not sequence numbers), and what the path between them did:
 *  - address/port rewriting (NAT), ISN rewriting (matches found by tuple and time only);
 *  - SYN options removed or changed: timestamps (reported by ts-stripped), MSS clamping,
 *    window scale, SACK-permitted;
 *  - SYNs and SYN-ACKs lost between the points (handshake packets only: data packet counts
 *    differ between points whenever segmentation offload re-cuts segments);
 *  - one-way delay, from the SYN (client to server) and the SYN-ACK (server to client); when
 *    the two clocks disagree the two directions are averaged and the offset reported.
 * Which capture is nearer the client: the one where the SYN to SYN-ACK round trip is longer.
 */

type Row = Record<string, any>;

interface Pair { near: Row; far: Row }

/** The handshake options compared between the points (connections columns). */
const OPTION_KEYS = ['syn_mss', 'syn_wscale', 'syn_sack_perm', 'syn_ts', 'synack_mss', 'synack_wscale', 'synack_sack_perm', 'synack_ts'];
/** The columns of one SYN-ACK (and the round trip to it), taken together from the row that saw it. */
const SYNACK_KEYS = ['synack_ts_usec', 'rtt_syn_usec', 'synack_mss', 'synack_wscale', 'synack_sack_perm', 'synack_ts'];
/** Columns of the attempt's first row at a point. */
const FIRST_KEYS = ['id', 'client_addr', 'client_port', 'server_addr', 'server_port', 'syn_ts_usec', 'syn_frame', 'syn_mss', 'syn_wscale', 'syn_sack_perm', 'syn_ts'];
/** At most this many distinct address mappings or option changes are named; the rest are counted. */
const NAMED = 3;

export const twoPoint: Detector = {
  id: 'two-point',
  title: 'What the path between two capture points did',
  run(ctx: DetectorContext): Finding[] {
    const { db } = ctx;
    const caps = db.prepare('SELECT id FROM captures ORDER BY id').pluck().all() as number[];
    if (caps.length < 2) return [];
    const findings: Finding[] = [];
    for (let i = 0; i < caps.length; i++) {
      for (let j = i + 1; j < caps.length; j++) {
        const f = comparePoints(ctx, caps[i], caps[j]);
        if (f) findings.push(f);
      }
    }
    return findings;
  },
};

/**
 * Each attempt at each of two points as one row, in temp.two_point: an attempt whose retry a NAT
 * moved to another port has several rows at a point, and its first row (by SYN time) stands for
 * it, with its SYNs and SYN-ACKs summed and its source ports as a sorted list. The SYN-ACK
 * columns come from the first of its rows that had a SYN-ACK: the first row is often the port
 * that drew a stale ACK, whose SYN-ACK columns are NULL (no SYN-ACK seen). Built in SQL so that
 * memory holds no connection rows (two 100 000-connection captures held 200 MB as objects).
 */
function mergeAttempts(ctx: DetectorContext, capA: number, capB: number): void {
  const cols = [...new Set([...FIRST_KEYS, ...SYNACK_KEYS])];
  ctx.db.prepare('DROP TABLE IF EXISTS temp.two_point').run();
  ctx.db.prepare(`CREATE TEMP TABLE two_point AS
    WITH r AS (
      SELECT capture_id, attempt_id, syn_count, synack_count, ${cols.join(', ')},
        row_number() OVER (PARTITION BY capture_id, attempt_id ORDER BY syn_ts_usec, id) AS k,
        row_number() OVER (PARTITION BY capture_id, attempt_id, synack_count > 0 ORDER BY syn_ts_usec, id) AS ks
      FROM connections WHERE syn_count > 0 AND capture_id IN (?, ?)),
    g AS (
      SELECT capture_id, attempt_id, sum(syn_count) AS syn_count, sum(synack_count) AS synack_count,
        group_concat(DISTINCT client_port ORDER BY client_port) AS ports
      FROM r GROUP BY capture_id, attempt_id)
    SELECT f.capture_id, f.attempt_id, g.syn_count, g.synack_count, g.ports,
      ${FIRST_KEYS.filter((k) => !SYNACK_KEYS.includes(k)).map((k) => `f.${k}`).join(', ')},
      ${SYNACK_KEYS.map((k) => `CASE WHEN s.id IS NULL THEN f.${k} ELSE s.${k} END AS ${k}`).join(', ')}
    FROM r f JOIN g ON g.capture_id = f.capture_id AND g.attempt_id = f.attempt_id
      LEFT JOIN r s ON s.capture_id = f.capture_id AND s.attempt_id = f.attempt_id AND s.synack_count > 0 AND s.ks = 1
    WHERE f.k = 1`).run(capA, capB);
  ctx.db.prepare('CREATE INDEX temp.two_point_attempt ON two_point (capture_id, attempt_id)').run();
}

/** The median of the values `sql` selects (column v), as stats.percentile; NaN for none. */
const sqlMedian = (ctx: DetectorContext, sql: string): number => sqlPercentiles(ctx.db, sql, [50])?.values[0] ?? NaN;

/** Distinct keys with how many items have each, most frequent first (then first seen), counted as items come. */
class Counted {
  private readonly m = new Map<string, { key: string[]; n: number }>();
  add(k: string[]): void {
    const id = JSON.stringify(k);
    const e = this.m.get(id);
    if (e) e.n++; else this.m.set(id, { key: k, n: 1 });
  }
  list(): { key: string[]; n: number }[] { return [...this.m.values()].sort((x, y) => y.n - x.n); }
}

function comparePoints(ctx: DetectorContext, capA: number, capB: number): Finding | null {
  // The same attempts at both points, as flows/attempts.ts matched them (client ISN and server
  // port, or 4-tuple in order where a box rewrote ISNs).
  const { db } = ctx;
  const how = db.prepare('SELECT matched_by FROM capture_pairs WHERE a_capture_id = ? AND b_capture_id = ?').pluck().get(capA, capB) as string | undefined;
  if (how === undefined) return null;
  const isnRewritten = how === 'tuple';
  mergeAttempts(ctx, capA, capB);
  try {
    return comparePairs(ctx, capA, capB, isnRewritten);
  } finally {
    db.prepare('DROP TABLE IF EXISTS temp.two_point').run();
  }
}

function comparePairs(ctx: DetectorContext, capA: number, capB: number, isnRewritten: boolean): Finding | null {
  const { db } = ctx;
  // Pairs in the order of the first point's attempts (their first SYN).
  const pairsSql = (what: string, where = '1'): string => `SELECT ${what} FROM temp.two_point a JOIN temp.two_point b ON b.capture_id = ${capB} AND b.attempt_id = a.attempt_id
    WHERE a.capture_id = ${capA} AND (${where})`;
  const matched = db.prepare(pairsSql('count(*)')).pluck().get() as number;
  if (matched === 0) return null;

  // The capture nearer the client sees the longer SYN -> SYN-ACK round trip.
  const rttA = sqlMedian(ctx, pairsSql('a.rtt_syn_usec AS v', 'a.rtt_syn_usec IS NOT NULL'));
  const rttB = sqlMedian(ctx, pairsSql('b.rtt_syn_usec AS v', 'b.rtt_syn_usec IS NOT NULL'));
  const aNear = !(rttB > rttA);
  const [n, f] = aNear ? ['a', 'b'] : ['b', 'a'];
  const nearCap = aNear ? capA : capB;
  const farCap = aNear ? capB : capA;
  const nearName = ctx.captureName(nearCap);
  const farName = ctx.captureName(farCap);

  // One pass over the pairs; what it keeps is bounded by the distinct mappings and option values.
  const opt = (v: any): string => (v === null || v === -1 ? 'absent' : String(v));
  const flag = (v: any): string => (v === 1 ? 'present' : 'absent');
  const DIFFS: { label: string; key: string; fmt: (v: any) => string; synAck: boolean }[] = [
    { label: 'SYN MSS', key: 'syn_mss', fmt: opt, synAck: false }, { label: 'SYN window scale', key: 'syn_wscale', fmt: opt, synAck: false },
    { label: 'SYN SACK-permitted', key: 'syn_sack_perm', fmt: flag, synAck: false }, { label: 'SYN timestamps', key: 'syn_ts', fmt: flag, synAck: false },
    { label: 'SYN-ACK MSS', key: 'synack_mss', fmt: opt, synAck: true }, { label: 'SYN-ACK window scale', key: 'synack_wscale', fmt: opt, synAck: true },
    { label: 'SYN-ACK SACK-permitted', key: 'synack_sack_perm', fmt: flag, synAck: true }, { label: 'SYN-ACK timestamps', key: 'synack_ts', fmt: flag, synAck: true },
  ];
  const diffs = DIFFS.map(() => ({ n: 0, first: null as Pair | null, kinds: new Counted() }));
  let nat = 0, kept = 0, dnat = 0, both = 0, synLost = 0, synAckLost = 0, nearSynsMatched = 0;
  let natFirst: Pair | null = null;
  const natMappings = new Counted();
  const dnatMappings = new Counted();
  const farSources = new Set<string>();
  const cols = (t: string): string => ['syn_count', 'synack_count', 'ports', ...new Set([...FIRST_KEYS, ...SYNACK_KEYS])].map((c) => `${t}.${c} AS ${t}_${c}`).join(', ');
  const pick = (r: Row, t: string): Row => { const o: Row = {}; for (const k in r) if (k.startsWith(`${t}_`)) o[k.slice(t.length + 1)] = r[k]; return o; };
  for (const r of fastRows<Row>(db.prepare(`${pairsSql(`${cols('a')}, ${cols('b')}`)} ORDER BY a.syn_ts_usec, a.id`))) {
    const p: Pair = { near: pick(r, n), far: pick(r, f) };
    // Source NAT: what is proven per connection is the address each one left from and arrived
    // from, and whether its source port (every port its SYNs used at each point) stayed the same.
    const samePorts = p.near.ports === p.far.ports;
    if (p.near.client_addr !== p.far.client_addr || !samePorts) {
      nat++;
      if (samePorts) kept++;
      natMappings.add([p.near.client_addr, p.far.client_addr]);
      farSources.add(p.far.client_addr);
      natFirst ??= p;
    }
    if (p.near.server_addr !== p.far.server_addr) {
      dnat++;
      dnatMappings.add([ep(p.near.server_addr, p.near.server_port), ep(p.far.server_addr, p.far.server_port)]);
    }
    // Options: compared only where both points saw the packet (every matched row has its SYN; the
    // SYN-ACK only where both points saw one), and a change is a different printed value (-1 and
    // NULL are both "absent"), counted per distinct change.
    const bothSynAck = p.near.synack_count > 0 && p.far.synack_count > 0;
    if (bothSynAck) both++;
    DIFFS.forEach((d, i) => {
      if (d.synAck && !bothSynAck) return;
      const x = d.fmt(p.near[d.key]);
      const y = d.fmt(p.far[d.key]);
      if (x === y) return;
      const acc = diffs[i];
      acc.n++;
      acc.first ??= p;
      // A SYN-ACK travels from the far point to the near one: its value as sent first.
      acc.kinds.add(d.synAck ? [y, x] : [x, y]);
    });
    synLost += Math.max(0, p.near.syn_count - p.far.syn_count);
    synAckLost += Math.max(0, p.far.synack_count - p.near.synack_count);
    nearSynsMatched += p.near.syn_count;
  }

  const changes: string[] = [];
  const ev: Record<string, unknown> = { near: nearName, far: farName, matched, matchedBy: isnRewritten ? 'tuple' : 'client ISN and server port' };
  // Example SYNs, as frame numbers of each capture: the finding's frames are the far capture's
  // (its captureId), the near capture's are named in the text.
  const nearFrames: number[] = [];
  const farFrames: number[] = [];
  const note = (p: Pair): void => { if (farFrames.length < 4 && !farFrames.includes(p.far.syn_frame)) { nearFrames.push(p.near.syn_frame); farFrames.push(p.far.syn_frame); } };

  if (nat) {
    const mappings = natMappings.list();
    const ports = [kept ? `source port kept on ${kept}` : '', nat - kept ? `source port rewritten on ${nat - kept}` : ''].filter(Boolean).join(', ');
    changes.push(`source NAT on ${nat} of ${matched} connections: ${named(mappings, ([a, b]) => (a === b ? `${a} (address kept)` : `${a} -> ${b}`), mappings.length > 1)}, ${ports}`);
    ev.sourceNat = {
      connections: nat, portsKept: kept, portsRewritten: nat - kept,
      mappings: mappings.map((m) => ({ near: m.key[0], far: m.key[1], connections: m.n })),
      farSources: [...farSources],
    };
    note(natFirst!);
  }
  if (dnat) {
    const mappings = dnatMappings.list();
    changes.push(`destination NAT on ${dnat} of ${matched} connections: ${named(mappings, ([a, b]) => `${a} -> ${b}`, mappings.length > 1)}`);
    ev.destinationNat = dnat;
  }
  if (isnRewritten) changes.push('the client ISN differs between the points on every connection: a box on the path randomises sequence numbers');
  ev.isnRewritten = isnRewritten;

  DIFFS.forEach((d, i) => {
    const acc = diffs[i];
    if (!acc.n) return;
    const from = d.synAck ? both : matched;
    const kinds = acc.kinds.list();
    const [first, second] = d.synAck ? [farName, nearName] : [nearName, farName];
    changes.push(`${d.label} changed on ${acc.n} of ${from}: ${kinds.length === 1
      ? `${kinds[0].key[0]}${d.synAck ? ' sent' : ''} at ${first}, ${kinds[0].key[1]} at ${second}`
      : `${first} -> ${second} ${named(kinds, ([x, y]) => `${x} -> ${y}`, true)}`}`);
    ev[d.key] = {
      changed: acc.n, compared: from, near: acc.first!.near[d.key], far: acc.first!.far[d.key],
      changes: kinds.map((k) => (d.synAck ? { far: k.key[0], near: k.key[1], connections: k.n } : { near: k.key[0], far: k.key[1], connections: k.n })),
    };
    note(acc.first!);
  });

  // Handshake packets lost between the points, and attempts the near point saw that never arrived.
  const near = db.prepare(`SELECT count(*) AS n, coalesce(sum(syn_count), 0) AS syns FROM temp.two_point WHERE capture_id = ?`).get(nearCap) as { n: number; syns: number };
  const nearOnly = near.n - matched;
  const synsOfUnmatched = near.syns - nearSynsMatched;
  if (synLost || synAckLost || nearOnly > 0) {
    changes.push(`lost between the points: ${synLost + synsOfUnmatched} SYNs${nearOnly > 0 ? ` (${synsOfUnmatched} of them from ${nearOnly} connection attempts that never reached ${farName})` : ''} and ${synAckLost} SYN-ACKs`);
  }
  ev.synsLost = synLost + synsOfUnmatched;
  ev.synAcksLost = synAckLost;
  ev.attemptsNotArriving = Math.max(0, nearOnly);

  // One-way delay from the first SYN and the first SYN-ACK.
  const fwdWhere = `${n}.syn_count = 1 AND ${f}.syn_count = 1`;
  const backWhere = `${n}.synack_count = 1 AND ${f}.synack_count = 1`;
  const fwdSql = pairsSql(`${f}.syn_ts_usec - ${n}.syn_ts_usec AS v`, fwdWhere);
  const backSql = pairsSql(`${n}.synack_ts_usec - ${f}.synack_ts_usec AS v`, backWhere);
  const f50 = sqlMedian(ctx, fwdSql);
  const b50 = sqlMedian(ctx, backSql);
  if (!Number.isNaN(f50) && !Number.isNaN(b50)) {
    if (f50 >= 0 && b50 >= 0) {
      changes.push(`one-way delay ${nearName} -> ${farName} p50 ${(f50 / 1000).toFixed(3)} ms, back p50 ${(b50 / 1000).toFixed(3)} ms`);
      ev.oneWayUsec = { forwardP50: f50, backP50: b50 };
    } else {
      const offset = (f50 - b50) / 2;
      const oneWay = (f50 + b50) / 2;
      changes.push(`the two clocks differ by about ${(offset / 1000).toFixed(3)} ms; one-way delay about ${(oneWay / 1000).toFixed(3)} ms each way`);
      ev.oneWayUsec = { estimatedP50: oneWay, clockOffsetUsec: offset };
    }
  }

  const optionsChanged = OPTION_KEYS.filter((k) => ev[k] !== undefined);
  const lostBetween = synLost + synsOfUnmatched + synAckLost > 0;
  ev.optionsChanged = optionsChanged;
  const altered = nat > 0 || dnat > 0 || isnRewritten || optionsChanged.length > 0 || lostBetween;
  return {
    id: `two-point/${nearCap}+${farCap}`,
    detector: 'two-point',
    severity: lostBetween || optionsChanged.includes('syn_ts') || optionsChanged.includes('synack_ts') ? 'warning' : 'info',
    captureId: farCap,
    connId: null,
    tsUsec: null,
    summary: `${nearName} (nearer the client) and ${farName}: ${matched} connections matched by ${ev.matchedBy}; ${altered ? changes.join('; ') : `nothing changed on the path${changes.length ? `; ${changes.join('; ')}` : ''}`}`
      + `${farFrames.length ? ` (example SYNs: frame${nearFrames.length === 1 ? '' : 's'} ${nearFrames.map((x) => frameRef(ctx, nearCap, x)).join(', ')} in ${nearName}, ${farFrames.map((x) => frameRef(ctx, farCap, x)).join(', ')} in ${farName})` : ''}`,
    evidence: { frames: firstN(farFrames, 8), nearCaptureId: nearCap, farCaptureId: farCap, nearFrames: firstN(nearFrames, 8), ...ev },
  };
}

/** The first NAMED distinct keys as text (each with its count when there are several), and how many more. */
function named(ks: { key: string[]; n: number }[], text: (k: string[]) => string, withCounts: boolean): string {
  const shown = ks.slice(0, NAMED).map((k) => `${text(k.key)}${withCounts ? ` (${k.n})` : ''}`);
  return `${shown.join(' and ')}${ks.length > NAMED ? ` and ${ks.length - NAMED} more` : ''}`;
}
