import type Database from 'better-sqlite3';
import type { Finding } from '../detectors/index.js';

/**
 * The figures the diagnosis reasons over, gathered once from the store and the
 * findings. Remedy rules and root-cause rules read only this.
 */
export interface Facts {
  attempts: number;
  established: number;
  /** Share of closed connections whose first FIN came from the server (null: none closed). */
  serverClosesFirst: number | null;
  closedConnections: number;
  staleAcks: Finding[];
  staleAckTimeWait: number; // linked to the previous incarnation's FIN numbers
  challengeAcks: Finding[];
  tsStripped: Finding[]; // warning-level stripping evidence
  tsStrippedWeak: Finding[]; // info-level (could be a server with timestamps off)
  /** Share of client SYNs carrying the timestamp option, at any capture point. */
  synWithTsShare: number | null;
  /** Share of client SYNs with timestamps whose SYN-ACK also had them. */
  reuseSummaries: Finding[];
  reuses: number;
  failedReuses: number;
  maxRatePerS: number;
  sustainablePerS: number;
  synRetransmitSummary: Finding[];
  unansweredRetransmits: number;
  synAckRetransmits: number;
  crossPortRetries: number;
  clientLooksWindows: boolean;
  timeWaitS: number;
  refused: number;
  /** What the path between two capture points did (two-point findings). */
  twoPoint: Finding[];
  listenOverflow: Finding[];
  pawsDrop: Finding[];
  /** Server endpoints that answered SYNs with RST, most first: "addr:port" and counts. */
  refusedBy: { endpoint: string; refused: number; attempts: number; frames: number[] }[];
}

export function gatherFacts(db: Database.Database, findings: Finding[], timeWaitS: number): Facts {
  const one = <T>(sql: string, ...args: unknown[]): T => db.prepare(sql).pluck().get(...args) as T;
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
  const by = (d: string) => findings.filter((f) => f.detector === d);
  const seen = new Set<string>();
  // One per connection attempt; where several captures hold it, keep the one that saw most
  // (linked to the previous connection's FIN numbers: the server side).
  const relRank: Record<string, number> = { 'time-wait': 0, 'old-connection': 1, 'not-captured': 2 };
  const stale = [...by('stale-ack')]
    .sort((a, b) => (relRank[String(a.evidence.relation)] ?? 3) - (relRank[String(b.evidence.relation)] ?? 3))
    .filter((f) => {
      const key = `${f.evidence.synSeq}|${(f.evidence.tuple as { serverPort: number }).serverPort}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => (a.captureId ?? 0) - (b.captureId ?? 0) || (a.tsUsec ?? 0) - (b.tsUsec ?? 0));
  const reuse = by('port-reuse').filter((f) => f.connId === null);
  const sumEv = (fs: Finding[], k: string): number => fs.reduce((s, f) => s + (Number(f.evidence[k]) || 0), 0);
  const rtxSummary = by('syn-retransmit').filter((f) => f.connId === null);
  const causes = rtxSummary.map((f) => f.evidence.causes as Record<string, number>);
  return {
    attempts,
    established,
    serverClosesFirst: closed > 0 ? serverClosed / closed : null,
    closedConnections: closed,
    staleAcks: stale,
    staleAckTimeWait: stale.filter((f) => f.evidence.relation === 'time-wait').length,
    challengeAcks: by('challenge-ack'),
    tsStripped: by('ts-stripped').filter((f) => f.severity !== 'info'),
    tsStrippedWeak: by('ts-stripped').filter((f) => f.severity === 'info'),
    synWithTsShare: attempts > 0 ? withTs / attempts : null,
    reuseSummaries: reuse,
    reuses: sumEv(reuse, 'reuses'),
    failedReuses: sumEv(reuse, 'failed'),
    maxRatePerS: Math.max(0, ...reuse.map((f) => Number(f.evidence.ratePerS) || 0)),
    sustainablePerS: reuse.length ? Number(reuse[0].evidence.sustainablePerS) : 0,
    synRetransmitSummary: rtxSummary,
    unansweredRetransmits: causes.reduce((s, c) => s + (c['no-answer'] ?? 0), 0),
    synAckRetransmits: sumEv(rtxSummary, 'synAckRetransmits'),
    crossPortRetries: stale.filter((f) => f.evidence.retryOtherPort).length,
    clientLooksWindows: attempts > 0 && winLike / attempts > 0.5,
    timeWaitS,
    refused,
    twoPoint: by('two-point'),
    listenOverflow: by('listen-overflow'),
    pawsDrop: by('paws-drop'),
    refusedBy: refused === 0 ? [] : (db.prepare(`SELECT server_addr, server_port, sum(conn_state = 'REJ') AS refused, count(*) AS attempts,
        group_concat(CASE WHEN conn_state = 'REJ' THEN answer_frame END) AS frames
      FROM connections WHERE syn_count > 0 GROUP BY server_addr, server_port HAVING refused > 0 ORDER BY refused DESC LIMIT 10`).all() as Record<string, any>[])
      .map((r) => ({
        endpoint: String(r.server_addr).includes(':') ? `[${r.server_addr}]:${r.server_port}` : `${r.server_addr}:${r.server_port}`,
        refused: r.refused, attempts: r.attempts, frames: String(r.frames).split(',').map(Number).sort((a, b) => a - b).slice(0, 10),
      })),
  };
}
