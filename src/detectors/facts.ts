import type { AnomalyKind } from '../flows/anomalies.js';
import { anomalyCounts, captureLoss, type CaptureLoss } from '../flows/anomalyQuery.js';
import type Database from 'better-sqlite3';
import { clockTrustedSql, clockWithheldAttempts } from './clock.js';
import { sqlPercentiles } from './sqlPercentiles.js';
import { usualCloser, type Closer } from './closer.js';
import { ep } from './format.js';
import { FINDING_COLUMNS, findingReader, type FindingTableRow } from './index.js';
import { isHot, type RateFact } from './rate.js';
import { STRIPPED_NOP_RUN } from './tsStripped.js';
import type { Finding } from './types.js';
import { reuseWithinTimeWaitSql } from './timeWait.js';

/**
 * The typed analysis contract between the store and the report: every figure a verdict, a
 * cause or a remedy rests on, computed once here from the attempts table (flows/attempts.ts)
 * and the detectors' typed findings. The report renders these fields and runs no analysis of
 * its own, so its numbers cannot disagree: the headline, the totals, the cause text and the
 * remedies read the same fields.
 */

export interface Dist { n: number; p50: number; p99: number; max: number }

export interface AnalysisFacts {
  timeWaitS: number;
  portRange: [number, number];
  captures: number;
  /** connections rows (incarnations), attempts or not. */
  connections: number;
  /** Connection attempts (one client SYN sequence each, de-duplicated across ports and capture points). */
  attempts: number;
  /**
   * established: the client acknowledged the SYN-ACK (in a split handshake: both SYNs were
   * acknowledged); notCompleted: a SYN-ACK the client never acknowledged; otherAnswer: the
   * server's own SYN or an ACK of the SYN, and no handshake completed (flows/attempts.ts).
   */
  outcomes: { established: number; notCompleted: number; refused: number; foreignAck: number; otherAnswer: number; unanswered: number };
  synRetransmits: { total: number; afterStaleAck: number; afterSynAck: number; unanswered: number; attempts: number };
  /**
   * Unanswered SYN retransmits (and the attempts with one) that no listen-overflow or paws-drop
   * finding explains: those findings already account for the attempts at their endpoint (a full
   * queue) or the SYNs they name (per-host PAWS), so only the rest are a drop of unknown place.
   */
  unansweredNotExplained: { retransmits: number; attempts: number };
  /** Attempts whose retry a NAT moved to another source port. */
  crossPortRetries: number;
  /** Over attempts at capture points whose clock is elapsed time (clock.ts); the others are counted in clockWithheldAttempts. */
  connectUsec: Dist | null;
  handshakeRttUsec: Dist | null;
  clockWithheldAttempts: number;
  /** Closed attempts (and connections seen mid-stream), and those whose first FIN was the server's. */
  closes: { closed: number; serverFirst: number; closer: Closer | null };
  /** SYNs / SYN-ACKs with the timestamp option at every capture point that saw them. */
  timestamps: { synWithTs: number; synWithoutTsOrNops: number; synAcks: number; synAckWithTs: number; notAnsweredWithTs: number };
  clientLooksWindows: boolean;
  stale: {
    attempts: number; timeWait: number; notCaptured: number; sameTick: number; pawsBackwards: number;
    /** Attempts whose stale-ack finding gives no reject reason (the previous connection's state is not seen). */
    noReason: number;
    established: number; clientRsts: number; connectUsec: Dist | null;
    /** The lowest ACK frames (at most 6), and the first findings by capture and time (at most 10), one per attempt. */
    frames: number[]; sample: Finding[];
    /** The capture point of each of `frames`. */
    frameCaptures: number[];
  };
  challengeAcks: { count: number; sample: Finding[] };
  stripped: { count: number; twoPoint: boolean; nopRun: boolean; sample: Finding[]; weak: number };
  reuse: {
    paths: number; reuses: number; failed: number; acceptedFromTimeWait: number;
    /** Attempts (one client ISN, counted once across ports and capture points) with a SYN reusing a 4-tuple within TIME_WAIT. */
    attempts: number;
    /** Client addresses of paths with reuses (the first 5) and how many. */
    clients: string[]; clientCount: number;
    /** The path summary with most reuses. */
    top: PathSummary | null;
    /** Path summaries whose rate is above or close to what the range sustains. */
    hot: Finding[]; hotCount: number;
  };
  sustainablePerS: number;
  synRetransmitSummaries: Finding[];
  /**
   * Attempts whose client sent its SYN again after the server's SYN-ACK had passed the capture
   * point (attempts.rtx_after_synack > 0): the client had not taken that SYN-ACK. Their connect
   * time is to the SYN-ACK the client took; `othersConnectUsec` is every other attempt's.
   */
  synAckNotTaken: { attempts: number; established: number; connectUsec: Dist | null; othersConnectUsec: Dist | null; sample: Finding[] };
  twoPoint: Finding[];
  /** Attempts seen at the point nearer the client and never at the other. */
  lostBetweenPoints: number;
  /** Two-point findings that saw source NAT between the points. */
  sourceNatBetweenPoints: boolean;
  /**
   * That source NAT, from the two-point findings' evidence: the matched connections it
   * translated, those whose source port it kept and those whose port it rewrote, and each
   * distinct address mapping (the address at the point nearer the client, the one at the other).
   */
  sourceNat: { connections: number; portsKept: number; portsRewritten: number; mappings: NatMapping[] };
  listenOverflow: Finding[];
  pawsDrop: Finding[];
  natClients: Finding[];
  exhaustion: Finding[];
  refusedBy: { captureId: number; endpoint: string; refused: number; attempts: number; frames: number[] }[];
  /** Connections showing each anomaly kind (src/flows/anomalies.ts), every kind present. */
  anomalies: Record<AnomalyKind, number>;
  /** The capture's own holes: connections whose receiver got packets the capture lacks. */
  captureLoss: CaptureLoss;
  /** syn-flood findings (unanswered or never-completed SYNs per server endpoint). */
  synFloods: Finding[];
}

/** A client address as seen at the capture point nearer the client and at the other point, after a source NAT. */
export interface NatMapping { near: string; far: string; nearCaptureId: number; farCaptureId: number; connections: number }

/** What a port-reuse path summary's evidence holds (portReuse.ts). */
export interface PathSummary {
  path: string; client: string; server: string; connections: number; distinctPorts: number; spanS: number; rate: RateFact;
  sustainablePerS: number; portsInUseSustainPerS: number; reuses: number; failed: number; minGapUsec: number | null; maxGapUsec: number | null;
}

const STALE_SAMPLE = 10;

function dist(db: Database.Database, sql: string, ...args: unknown[]): Dist | null {
  const d = sqlPercentiles(db, sql, [50, 99, 100], ...args);
  return d === null ? null : { n: d.n, p50: d.values[0], p99: d.values[1], max: d.values[2] };
}

export function gatherFacts(db: Database.Database, s: { timeWaitS: number; portRange: [number, number] }): AnalysisFacts {
  const one = <T>(sql: string, ...args: unknown[]): T => db.prepare(sql).pluck().get(...args) as T;
  const read = findingReader(db);
  const findings = (sql: string, ...args: unknown[]): Finding[] => (db.prepare(sql).all(...args) as FindingTableRow[]).map(read);
  const by = (detector: string, where = '1', limit = -1): Finding[] =>
    findings(`SELECT ${FINDING_COLUMNS} FROM findings WHERE detector = ? AND (${where}) ORDER BY rowid LIMIT ?`, detector, limit);

  const a = db.prepare(`SELECT count(*) AS n, coalesce(sum(outcome = 'established'), 0) AS est, coalesce(sum(outcome = 'not-completed'), 0) AS nc, coalesce(sum(outcome = 'refused'), 0) AS rej,
      coalesce(sum(outcome = 'foreign-ack'), 0) AS fa, coalesce(sum(outcome = 'other-answer'), 0) AS oa, coalesce(sum(outcome = 'unanswered'), 0) AS un,
      coalesce(sum(syn_retransmits), 0) AS rtx, coalesce(sum(rtx_after_ack), 0) AS rtx_ack, coalesce(sum(rtx_after_synack), 0) AS rtx_sa,
      coalesce(sum(rtx_unanswered), 0) AS rtx_un, coalesce(sum(rtx_unanswered > 0), 0) AS rtx_un_att, coalesce(sum(syn_retransmits > 0), 0) AS rtx_att, coalesce(sum(rows_at_view > 1), 0) AS moved,
      coalesce(sum(syn_ts = 1), 0) AS syn_ts, coalesce(sum(synack_ts IS NOT NULL), 0) AS synacks, coalesce(sum(synack_ts = 1), 0) AS synack_ts,
      coalesce(sum(syn_ts = 1 AND synack_ts = 0), 0) AS not_answered_ts
    FROM attempts`).get() as Record<string, number>;
  // Closes: one per attempt (its rows at every point tell the same FIN), and connections seen mid-stream.
  const closes = db.prepare(`SELECT count(*) AS closed, coalesce(sum(server_first), 0) AS server_first FROM (
      SELECT max(first_fin_by = 'server') AS server_first FROM connections WHERE first_fin_by IS NOT NULL
      GROUP BY coalesce(attempt_id, -id))`).get() as { closed: number; server_first: number };
  // Windows clients: no timestamps by default and ports from 49152.
  // An attempt's own row (id = attempt_id): its first SYN as first seen.
  const noTs = `id = attempt_id AND syn_ts = 0 AND syn_nop_run < ${STRIPPED_NOP_RUN}`;
  const winLike = one<number>(`SELECT count(*) FROM connections WHERE ${noTs} AND client_port >= 49152`);
  const noTsSent = one<number>(`SELECT count(*) FROM connections WHERE ${noTs}`);

  // Stale ACKs, one per attempt: the finding that saw most (linked to the previous connection's
  // FIN numbers: the server side), then the first written.
  db.exec(`DROP TABLE IF EXISTS temp.stale_kept; CREATE TEMP TABLE stale_kept AS
    SELECT * FROM (SELECT f.rowid AS rid, f.capture_id, f.ts_usec, c.attempt_id, c.foreign_ack_frame AS ack_frame,
        c.foreign_rst_frame IS NOT NULL AS client_rst,
        f.kind AS relation, f.reason AS reason,
        row_number() OVER (PARTITION BY c.attempt_id ORDER BY CASE f.kind WHEN 'time-wait' THEN 0 WHEN 'old-connection' THEN 1 ELSE 2 END, f.rowid) AS k
      FROM findings f JOIN connections c ON c.id = f.conn_id WHERE f.detector = 'stale-ack') WHERE k = 1`);
  const st = db.prepare(`SELECT count(*) AS n, coalesce(sum(relation = 'time-wait'), 0) AS tw, coalesce(sum(relation = 'not-captured'), 0) AS nc,
      coalesce(sum(reason = 'same-tick'), 0) AS tick, coalesce(sum(reason = 'paws-backwards'), 0) AS back, coalesce(sum(reason IS NULL), 0) AS no_reason,
      coalesce(sum(t.outcome = 'established'), 0) AS est, coalesce(sum(client_rst), 0) AS rst
    FROM temp.stale_kept k JOIN attempts t ON t.id = k.attempt_id`).get() as Record<string, number>;
  const staleConnect = dist(db, `SELECT t.connect_usec AS v FROM temp.stale_kept k JOIN attempts t ON t.id = k.attempt_id WHERE t.connect_usec IS NOT NULL AND ${clockTrustedSql('t.view_capture_id')}`);
  const staleSample = (db.prepare(`SELECT rid FROM temp.stale_kept ORDER BY coalesce(capture_id, 0), coalesce(ts_usec, 0), rid LIMIT ${STALE_SAMPLE}`).pluck().all() as number[])
    .flatMap((rid) => findings(`SELECT ${FINDING_COLUMNS} FROM findings WHERE rowid = ?`, rid));

  // Port-reuse path summaries.
  const rangePorts = s.portRange[1] - s.portRange[0] + 1;
  const sustainablePerS = rangePorts / s.timeWaitS;
  let paths = 0, reuses = 0, failed = 0, fromTw = 0, hotCount = 0;
  let top: PathSummary | null = null;
  const clients = new Set<string>();
  const hot: Finding[] = [];
  for (const r of db.prepare(`SELECT ${FINDING_COLUMNS} FROM findings WHERE detector = 'port-reuse' AND conn_id IS NULL ORDER BY rowid`).iterate() as Iterable<FindingTableRow>) {
    const f = read(r);
    const ev = f.evidence as unknown as PathSummary & { acceptedFromTimeWait: number };
    paths++;
    reuses += ev.reuses;
    failed += ev.failed;
    fromTw += ev.acceptedFromTimeWait;
    if (ev.reuses > 0) {
      clients.add(ev.client);
      if (top === null || ev.reuses > top.reuses) top = ev;
    }
    if (isHot(ev.rate, ev.sustainablePerS)) { hotCount++; if (hot.length < 5) hot.push(f); }
  }

  const pawsDrop = by('paws-drop');
  const strippedWhere = "severity != 'info'";
  const twoPoint = by('two-point');
  const refusedBy = (db.prepare(`SELECT t.view_capture_id AS cap, t.server_addr, t.server_port, sum(t.outcome = 'refused') AS refused, count(*) AS attempts,
      group_concat(CASE WHEN t.outcome = 'refused' THEN (SELECT min(c.answer_frame) FROM connections c
        WHERE c.attempt_id = t.id AND c.capture_id = t.view_capture_id AND c.conn_state = 'REJ') END) AS frames
    FROM attempts t GROUP BY t.view_capture_id, t.server_addr, t.server_port HAVING refused > 0 ORDER BY refused DESC, cap LIMIT 10`).all() as Record<string, any>[])
    .map((r) => ({
      captureId: r.cap as number, endpoint: ep(r.server_addr, r.server_port), refused: r.refused as number, attempts: r.attempts as number,
      frames: String(r.frames).split(',').map(Number).sort((x, y) => x - y).slice(0, 10),
    }));

  return {
    timeWaitS: s.timeWaitS,
    portRange: s.portRange,
    captures: one<number>('SELECT count(*) FROM captures'),
    connections: one<number>('SELECT count(*) FROM connections'),
    attempts: a.n,
    outcomes: { established: a.est, notCompleted: a.nc, refused: a.rej, foreignAck: a.fa, otherAnswer: a.oa, unanswered: a.un },
    synRetransmits: { total: a.rtx, afterStaleAck: a.rtx_ack, afterSynAck: a.rtx_sa, unanswered: a.rtx_un, attempts: a.rtx_att },
    unansweredNotExplained: unansweredNotExplained(db, a.rtx_un, a.rtx_un_att, pawsDrop),
    crossPortRetries: a.moved,
    connectUsec: dist(db, `SELECT connect_usec AS v FROM attempts WHERE connect_usec IS NOT NULL AND ${clockTrustedSql('view_capture_id')}`),
    handshakeRttUsec: dist(db, `SELECT rtt_syn_usec AS v FROM attempts WHERE rtt_syn_usec IS NOT NULL AND ${clockTrustedSql('view_capture_id')}`),
    clockWithheldAttempts: clockWithheldAttempts(db),
    closes: { closed: closes.closed, serverFirst: closes.server_first, closer: usualCloser(closes.closed, closes.server_first) },
    timestamps: { synWithTs: a.syn_ts, synWithoutTsOrNops: noTsSent, synAcks: a.synacks, synAckWithTs: a.synack_ts, notAnsweredWithTs: a.not_answered_ts },
    clientLooksWindows: a.n > 0 && winLike / a.n > 0.5,
    stale: {
      attempts: st.n, timeWait: st.tw, notCaptured: st.nc, sameTick: st.tick, pawsBackwards: st.back, noReason: st.no_reason, established: st.est, clientRsts: st.rst,
      connectUsec: staleConnect,
      ...staleFrames(db),
      sample: staleSample,
    },
    challengeAcks: { count: one<number>("SELECT count(*) FROM findings WHERE detector = 'challenge-ack'"), sample: by('challenge-ack', '1', 10) },
    stripped: {
      count: one<number>(`SELECT count(*) FROM findings WHERE detector = 'ts-stripped' AND ${strippedWhere}`),
      twoPoint: one<number>(`SELECT count(*) FROM findings WHERE detector = 'ts-stripped' AND ${strippedWhere} AND json_extract(evidence, '$.kind') = 'two-point'`) > 0,
      nopRun: one<number>(`SELECT count(*) FROM findings WHERE detector = 'ts-stripped' AND ${strippedWhere} AND json_extract(evidence, '$.kind') = 'nop-run'`) > 0,
      sample: by('ts-stripped', strippedWhere, 5),
      weak: one<number>("SELECT count(*) FROM findings WHERE detector = 'ts-stripped' AND severity = 'info'"),
    },
    reuse: {
      paths, reuses, failed, acceptedFromTimeWait: fromTw,
      attempts: one<number>(`SELECT count(DISTINCT c.attempt_id) FROM connections c WHERE c.attempt_id IS NOT NULL AND ${reuseWithinTimeWaitSql('c', String(s.timeWaitS * 1e6))}`), clients: [...clients].slice(0, 5), clientCount: clients.size, top, hot, hotCount },
    sustainablePerS,
    synRetransmitSummaries: by('syn-retransmit', 'conn_id IS NULL'),
    synAckNotTaken: synAckNotTaken(db, a.rtx_sa > 0, (where) => by('syn-retransmit', where, 5)),
    twoPoint,
    lostBetweenPoints: twoPoint.reduce((n, t) => n + (Number(t.evidence.attemptsNotArriving) || 0), 0),
    sourceNatBetweenPoints: twoPoint.some((t) => t.evidence.sourceNat !== undefined),
    sourceNat: sourceNatFacts(twoPoint),
    listenOverflow: by('listen-overflow'),
    pawsDrop,
    natClients: by('nat-clients', '1', 10),
    exhaustion: by('exhaustion-forecast', "severity = 'warning'", 10),
    refusedBy,
    anomalies: anomalyCounts(db),
    captureLoss: captureLoss(db),
    synFloods: by('syn-flood'),
  };
}

/**
 * Attempts whose client sent its SYN again after a SYN-ACK passed the capture point. Nothing to
 * sort where there are none (the others' connect times were a 0.2 s sort of 100 000 values on
 * the bench capture, for a sentence no report printed).
 */
function synAckNotTaken(db: Database.Database, any: boolean, sample: (where: string) => Finding[]): AnalysisFacts['synAckNotTaken'] {
  if (!any) return { attempts: 0, established: 0, connectUsec: null, othersConnectUsec: null, sample: [] };
  return {
    attempts: db.prepare('SELECT count(*) FROM attempts WHERE rtx_after_synack > 0').pluck().get() as number,
    established: db.prepare("SELECT count(*) FROM attempts WHERE rtx_after_synack > 0 AND outcome = 'established'").pluck().get() as number,
    connectUsec: dist(db, `SELECT connect_usec AS v FROM attempts WHERE rtx_after_synack > 0 AND connect_usec IS NOT NULL AND ${clockTrustedSql('view_capture_id')}`),
    othersConnectUsec: dist(db, `SELECT connect_usec AS v FROM attempts WHERE rtx_after_synack = 0 AND connect_usec IS NOT NULL AND ${clockTrustedSql('view_capture_id')}`),
    sample: sample('conn_id IN (SELECT id FROM connections WHERE syn_rtx_after_synack > 0)'),
  };
}

/** The lowest stale ACK frames (at most 6) and the capture point of each. */
function staleFrames(db: Database.Database): { frames: number[]; frameCaptures: number[] } {
  const rows = db.prepare('SELECT ack_frame, capture_id FROM temp.stale_kept ORDER BY ack_frame LIMIT 6').raw().all() as [number, number][];
  return { frames: rows.map((r) => r[0]), frameCaptures: rows.map((r) => r[1]) };
}

/** The source NAT the two-point findings saw, summed over the pairs of capture points. */
function sourceNatFacts(twoPoint: Finding[]): AnalysisFacts['sourceNat'] {
  const out: AnalysisFacts['sourceNat'] = { connections: 0, portsKept: 0, portsRewritten: 0, mappings: [] };
  for (const t of twoPoint) {
    const n = t.evidence.sourceNat as { connections: number; portsKept: number; portsRewritten: number; mappings: { near: string; far: string; connections: number }[] } | undefined;
    if (n === undefined) continue;
    out.connections += n.connections;
    out.portsKept += n.portsKept;
    out.portsRewritten += n.portsRewritten;
    const at = { nearCaptureId: Number(t.evidence.nearCaptureId), farCaptureId: Number(t.evidence.farCaptureId) };
    for (const m of n.mappings) out.mappings.push({ near: m.near, far: m.far, ...at, connections: m.connections });
  }
  return out;
}

/**
 * The unanswered SYN retransmits (and attempts) left once listen-overflow and paws-drop findings
 * take theirs. A listen-overflow finding covers every attempt seen at its capture point and
 * server endpoint (its evidence.synDropped counts them there); a paws-drop finding covers the
 * retransmits of the SYNs it names (droppedSyns - dropped: every one of them went unanswered).
 * Capture points seeing the same drops would count them twice, so per-point sums are not added
 * up across points: the point that explains most counts.
 */
function unansweredNotExplained(db: Database.Database, retransmits: number, attempts: number, paws: Finding[]): { retransmits: number; attempts: number } {
  if (retransmits === 0) return { retransmits: 0, attempts: 0 };
  let rtx = 0, att = 0;
  if (db.prepare("SELECT 1 FROM findings WHERE detector = 'listen-overflow' LIMIT 1").get() !== undefined) {
    // The endpoint as ep() writes it (detectors/format.ts), to match the finding's evidence.server.
    const lo = db.prepare(`SELECT count(*) AS n, coalesce(sum(t.rtx_unanswered), 0) AS rtx FROM attempts t WHERE t.rtx_unanswered > 0 AND EXISTS (
        SELECT 1 FROM connections c JOIN findings f ON f.detector = 'listen-overflow' AND f.capture_id = c.capture_id
          AND json_extract(f.evidence, '$.server') = (CASE WHEN instr(c.server_addr, ':') > 0 THEN '[' || c.server_addr || ']' ELSE c.server_addr END) || ':' || c.server_port
        WHERE c.attempt_id = t.id)`).get() as { n: number; rtx: number };
    rtx += lo.rtx;
    att += lo.n;
  }
  const perPoint = new Map<number | null, { rtx: number; att: number }>();
  for (const p of paws) {
    const e = p.evidence as { dropped: number; droppedSyns: number };
    const x = perPoint.get(p.captureId) ?? { rtx: 0, att: 0 };
    perPoint.set(p.captureId, { rtx: x.rtx + e.droppedSyns - e.dropped, att: x.att + e.dropped });
  }
  rtx += Math.max(0, ...[...perPoint.values()].map((x) => x.rtx));
  att += Math.max(0, ...[...perPoint.values()].map((x) => x.att));
  return { retransmits: Math.max(0, retransmits - rtx), attempts: Math.max(0, attempts - att) };
}

/**
 * One finding per key (a server endpoint, a client address) of findings written once per capture
 * point: the one with most weight (the point that saw most of it), the first written on a tie.
 * A cause explains each endpoint once, not once per point that saw it.
 */
export function onePerKey(findings: Finding[], key: (f: Finding) => string, weight: (f: Finding) => number): Finding[] {
  const best = new Map<string, Finding>();
  for (const f of findings) {
    const k = key(f);
    const b = best.get(k);
    if (b === undefined || weight(f) > weight(b)) best.set(k, f);
  }
  return [...best.values()];
}

/** The listen-overflow findings, one per server endpoint: the capture point with most evidence of it. */
export const listenOverflowByServer = (f: AnalysisFacts): Finding[] => onePerKey(f.listenOverflow, (x) => String(x.evidence.server),
  (x) => Number(x.evidence.dataIgnored) + Number(x.evidence.synAckAfterAck) + Number(x.evidence.synRetried));
