import type Database from 'better-sqlite3';
import { FINDING_COLUMNS, findingFromRow, type Finding } from '../detectors/index.js';

/**
 * The figures the diagnosis reasons over, gathered once from the store: SQL over the
 * `connections` and `findings` tables (evidence is JSON, read with json_extract), so that
 * memory holds figures and short samples, never every finding. Remedy rules and
 * root-cause rules read only this.
 */
export interface Facts {
  attempts: number;
  established: number;
  /** Share of closed connections whose first FIN came from the server (null: none closed). */
  serverClosesFirst: number | null;
  closedConnections: number;
  /** Stale-ack findings, one per connection attempt (deduplicated across captures). */
  staleAcks: number;
  staleAckTimeWait: number; // linked to the previous incarnation's FIN numbers
  /** The first stale ACKs, by capture and time (at most STALE_SAMPLE). */
  staleAckSample: Finding[];
  /** The lowest ack frames, ascending (at most 6: a list shows 5 and "..." when there are more). */
  staleAckFrames: number[];
  /** Stale ACKs whose whyRejected says "same clock tick" / "went backwards". */
  staleAckSameTick: number;
  staleAckBackwards: number;
  /** Stale ACKs whose connection got a SYN-ACK later. */
  staleAckEstablished: number;
  /** Connect time of those (connectUsec), null when none had one. */
  staleAckConnectUsec: { median: number; max: number } | null;
  /** Stale ACKs the client answered with RST. */
  staleAckClientRsts: number;
  challengeAcks: number;
  /** The first challenge ACKs, in detector order (at most 10). */
  challengeAckSample: Finding[];
  tsStripped: number; // warning-level stripping evidence
  /** Whether any of those is two-point (present at one point, gone at the other) / a NOP run. */
  tsStrippedTwoPoint: boolean;
  tsStrippedNopRun: boolean;
  /** The first of those, in detector order (at most 5). */
  tsStrippedSample: Finding[];
  tsStrippedWeak: number; // info-level (could be a server with timestamps off)
  /** Share of client SYNs carrying the timestamp option, at any capture point. */
  synWithTsShare: number | null;
  /** Port-reuse path summaries (one per client -> server path). */
  reusePaths: number;
  /** Evidence of the first path summary that saw reuses, null when none did. */
  firstReuse: Record<string, unknown> | null;
  /** Clients (path's first half) of the summaries that saw reuses: the first 5 distinct, and how many. */
  reuseClients: string[];
  reuseClientCount: number;
  /** Paths whose new-connection rate is above half the sustainable rate: all their summaries, and the first 5 findings. */
  hotReuseSummaries: string[];
  hotReuseSample: Finding[];
  reuses: number;
  failedReuses: number;
  maxRatePerS: number;
  sustainablePerS: number;
  /** syn-retransmit summaries (one per capture). */
  synRetransmitSummary: Finding[];
  unansweredRetransmits: number;
  synAckRetransmits: number;
  crossPortRetries: number;
  clientLooksWindows: boolean;
  timeWaitS: number;
  refused: number;
  /** What the path between two capture points did (two-point findings, one per capture pair). */
  twoPoint: Finding[];
  /** One per server endpoint / client address. */
  listenOverflow: Finding[];
  pawsDrop: Finding[];
  /** Addresses that are several hosts behind NAT (one finding each). */
  natClients: Finding[];
  /** Paths whose ports would run out at the rate seen (exhaustion-forecast warnings). */
  exhaustion: Finding[];
  /** Server endpoints that answered SYNs with RST, most first: "addr:port" and counts. */
  refusedBy: { endpoint: string; refused: number; attempts: number; frames: number[] }[];
}

const STALE_SAMPLE = 10;

/**
 * Stale-ack findings, one per connection attempt: where several captures hold the same
 * attempt (client ISN and server port), keep the one that saw most (linked to the previous
 * connection's FIN numbers: the server side), then the first written. Only the keys and the
 * few fields the facts need go through the window's sorter, not the evidence (that would hold
 * every finding in memory). What the finding's connection row holds is read from there (the
 * detector took it from the same columns: SYN sequence, ACK frame, RST, SYN-ACK, connect time);
 * only the detector's own conclusions come from the evidence JSON, parsed once per finding
 * (SQLite keeps the last parsed texts). MATERIALIZED keeps SQLite from evaluating them again for
 * each reference. STALE_ORDER orders the kept set by capture and time, ties in that preference.
 */
const STALE_KEPT_SQL = `WITH keyed AS MATERIALIZED (
    SELECT f.rowid AS rid, f.capture_id, f.ts_usec, c.client_isn AS syn_seq, c.server_port, c.foreign_ack_frame AS ack_frame,
      c.synack_ts_usec IS NOT NULL AS established, c.foreign_rst_frame IS NOT NULL AS client_rst, c.connect_usec,
      json_extract(f.evidence, '$.relation') AS relation, json_extract(f.evidence, '$.whyRejected') AS why,
      json_type(f.evidence, '$.retryOtherPort') = 'object' AS other_port
    FROM findings f JOIN connections c ON c.id = f.conn_id WHERE f.detector = 'stale-ack'),
  ranked AS (
    SELECT *, CASE relation WHEN 'time-wait' THEN 0 WHEN 'old-connection' THEN 1 WHEN 'not-captured' THEN 2 ELSE 3 END AS rel_rank FROM keyed)
  SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY syn_seq, server_port ORDER BY rel_rank, rid) AS k FROM ranked) WHERE k = 1`;
/** Every query below reads the kept set, computed once per report into a temporary table. */
const STALE = 'WITH stale AS (SELECT * FROM temp.stale_kept)';
const STALE_ORDER = 'coalesce(capture_id, 0), coalesce(ts_usec, 0), rel_rank, rid';

export function gatherFacts(db: Database.Database, timeWaitS: number): Facts {
  db.exec(`DROP TABLE IF EXISTS temp.stale_kept; CREATE TEMP TABLE stale_kept AS ${STALE_KEPT_SQL}`);
  const one = <T>(sql: string, ...args: unknown[]): T => db.prepare(sql).pluck().get(...args) as T;
  const findings = (sql: string, ...args: unknown[]): Finding[] => (db.prepare(sql).all(...args) as Parameters<typeof findingFromRow>[0][]).map(findingFromRow);
  /** A detector's findings matching `where`, in the order they were written, at most `limit`. */
  const by = (detector: string, where = '1', limit = -1): Finding[] =>
    findings(`SELECT ${FINDING_COLUMNS} FROM findings WHERE detector = ? AND (${where}) ORDER BY rowid LIMIT ?`, detector, limit);
  // With captures from several points the same connection is in each: count it once, by the
  // client's ISN and the server port (what the two-point match uses).
  const multi = one<number>('SELECT count(*) FROM captures') > 1;
  const n = multi ? "count(DISTINCT CASE WHEN client_isn IS NULL THEN 'id' || id ELSE client_isn || ':' || server_port END)" : 'count(*)';
  const attempts = one<number>(`SELECT ${n} FROM connections WHERE syn_count > 0`);
  const established = one<number>(`SELECT ${n} FROM connections WHERE syn_count > 0 AND synack_count > 0`);
  const closed = one<number>(`SELECT ${n} FROM connections WHERE first_fin_by IS NOT NULL`);
  const serverClosed = one<number>(`SELECT ${n} FROM connections WHERE first_fin_by = 'server'`);
  const withTs = one<number>('SELECT count(*) FROM connections WHERE syn_count > 0 AND syn_ts = 1');
  const refused = one<number>("SELECT count(*) FROM connections WHERE conn_state = 'REJ'");
  // Windows clients: no timestamps by default and ports from 49152 (TCP-FACTS.md, Ports and rates).
  const winLike = one<number>('SELECT count(*) FROM connections WHERE syn_count > 0 AND syn_ts = 0 AND syn_nop_run < 10 AND client_port >= 49152');

  const stale = db.prepare(`${STALE} SELECT count(*) AS n,
      coalesce(sum(relation = 'time-wait'), 0) AS timeWait,
      coalesce(sum(instr(coalesce(why, ''), 'same clock tick') > 0), 0) AS sameTick,
      coalesce(sum(instr(coalesce(why, ''), 'went backwards') > 0), 0) AS backwards,
      coalesce(sum(established), 0) AS established,
      coalesce(sum(client_rst), 0) AS clientRsts,
      coalesce(sum(other_port), 0) AS otherPort
    FROM stale`).get() as Record<string, number>;
  const delays = `${STALE} SELECT connect_usec AS d FROM stale WHERE established AND d IS NOT NULL`;
  const delayCount = one<number>(`SELECT count(*) FROM (${delays})`);
  const staleAckConnectUsec = delayCount === 0 ? null : {
    median: one<number>(`${delays} ORDER BY d LIMIT 1 OFFSET ?`, Math.floor((delayCount - 1) / 2)),
    max: one<number>(`SELECT max(d) FROM (${delays})`),
  };

  // Port-reuse path summaries, read one at a time: sums, the first with reuses, distinct clients.
  let reusePaths = 0, reuses = 0, failedReuses = 0, maxRatePerS = 0, sustainablePerS = 0;
  let firstReuse: Record<string, unknown> | null = null;
  const clients = new Set<string>();
  const summaries = db.prepare("SELECT evidence FROM findings WHERE detector = 'port-reuse' AND conn_id IS NULL ORDER BY rowid").pluck();
  for (const json of summaries.iterate() as Iterable<string>) {
    const ev = JSON.parse(json) as Record<string, unknown>;
    if (reusePaths === 0) sustainablePerS = Number(ev.sustainablePerS);
    reusePaths++;
    reuses += Number(ev.reuses) || 0;
    failedReuses += Number(ev.failed) || 0;
    maxRatePerS = Math.max(maxRatePerS, Number(ev.ratePerS) || 0);
    if (Number(ev.reuses) > 0) {
      firstReuse ??= ev;
      clients.add(String(ev.path).split(' -> ')[0]);
    }
  }
  const hotReuseSummaries: string[] = [];
  const hotReuseSample: Finding[] = [];
  if (reusePaths > 0 && maxRatePerS > 0.5 * sustainablePerS) {
    const rows = db.prepare(`SELECT ${FINDING_COLUMNS} FROM findings WHERE detector = 'port-reuse' AND conn_id IS NULL ORDER BY rowid`);
    for (const r of rows.iterate() as Iterable<Parameters<typeof findingFromRow>[0]>) {
      const f = findingFromRow(r);
      if (!(Number(f.evidence.ratePerS) > 0.5 * sustainablePerS)) continue;
      hotReuseSummaries.push(f.summary);
      if (hotReuseSample.length < 5) hotReuseSample.push(f);
    }
  }

  const rtxSummary = by('syn-retransmit', 'conn_id IS NULL');
  const causes = rtxSummary.map((f) => f.evidence.causes as Record<string, number>);
  const strippedWhere = "severity != 'info'";
  return {
    attempts,
    established,
    serverClosesFirst: closed > 0 ? serverClosed / closed : null,
    closedConnections: closed,
    staleAcks: stale.n,
    staleAckTimeWait: stale.timeWait,
    staleAckSample: (db.prepare(`${STALE} SELECT rid FROM stale ORDER BY ${STALE_ORDER} LIMIT ${STALE_SAMPLE}`).pluck().all() as number[])
      .flatMap((rid) => findings(`SELECT ${FINDING_COLUMNS} FROM findings WHERE rowid = ?`, rid)),
    staleAckFrames: db.prepare(`${STALE} SELECT ack_frame AS f FROM stale ORDER BY f LIMIT 6`).pluck().all() as number[],
    staleAckSameTick: stale.sameTick,
    staleAckBackwards: stale.backwards,
    staleAckEstablished: stale.established,
    staleAckConnectUsec,
    staleAckClientRsts: stale.clientRsts,
    challengeAcks: one<number>("SELECT count(*) FROM findings WHERE detector = 'challenge-ack'"),
    challengeAckSample: by('challenge-ack', '1', 10),
    tsStripped: one<number>(`SELECT count(*) FROM findings WHERE detector = 'ts-stripped' AND ${strippedWhere}`),
    tsStrippedTwoPoint: one<number>(`SELECT count(*) FROM findings WHERE detector = 'ts-stripped' AND ${strippedWhere} AND json_extract(evidence, '$.kind') = 'two-point'`) > 0,
    tsStrippedNopRun: one<number>(`SELECT count(*) FROM findings WHERE detector = 'ts-stripped' AND ${strippedWhere} AND json_extract(evidence, '$.kind') = 'nop-run'`) > 0,
    tsStrippedSample: by('ts-stripped', strippedWhere, 5),
    tsStrippedWeak: one<number>("SELECT count(*) FROM findings WHERE detector = 'ts-stripped' AND severity = 'info'"),
    synWithTsShare: attempts > 0 ? withTs / attempts : null,
    reusePaths,
    firstReuse,
    reuseClients: [...clients].slice(0, 5),
    reuseClientCount: clients.size,
    hotReuseSummaries,
    hotReuseSample,
    reuses,
    failedReuses,
    maxRatePerS,
    sustainablePerS,
    synRetransmitSummary: rtxSummary,
    unansweredRetransmits: causes.reduce((s, c) => s + (c['no-answer'] ?? 0), 0),
    synAckRetransmits: rtxSummary.reduce((s, f) => s + (Number(f.evidence.synAckRetransmits) || 0), 0),
    crossPortRetries: stale.otherPort,
    clientLooksWindows: attempts > 0 && winLike / attempts > 0.5,
    timeWaitS,
    refused,
    twoPoint: by('two-point'),
    listenOverflow: by('listen-overflow'),
    pawsDrop: by('paws-drop'),
    natClients: by('nat-clients', '1', 10),
    exhaustion: by('exhaustion-forecast', "severity = 'warning'", 10),
    refusedBy: refused === 0 ? [] : (db.prepare(`SELECT server_addr, server_port, sum(conn_state = 'REJ') AS refused, count(*) AS attempts,
        group_concat(CASE WHEN conn_state = 'REJ' THEN answer_frame END) AS frames
      FROM connections WHERE syn_count > 0 GROUP BY server_addr, server_port HAVING refused > 0 ORDER BY refused DESC LIMIT 10`).all() as Record<string, any>[])
      .map((r) => ({
        endpoint: String(r.server_addr).includes(':') ? `[${r.server_addr}]:${r.server_port}` : `${r.server_addr}:${r.server_port}`,
        refused: r.refused, attempts: r.attempts, frames: String(r.frames).split(',').map(Number).sort((a, b) => a - b).slice(0, 10),
      })),
  };
}
