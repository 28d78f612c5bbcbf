import type Database from 'better-sqlite3';
import { FINDING_COLUMNS, findingReader, SEVERITY_RANK, type FindingTableRow, type Finding, type Severity } from '../detectors/index.js';
import { capturePieces, captureRows, captureTunnels, connectionVxlanPort, ladder, timeline, worstConnections } from '../detectors/charts.js';
import { captureSpanS, clockOfRow } from '../detectors/clock.js';
import { gatherFacts } from '../detectors/facts.js';
import { clockVerdictNote } from './clock.js';
import { rootCauses } from './diagnose.js';
import { locateIn, framesByFile } from '../detectors/pieces.js';
import { captureNames } from './evidence.js';
import { MAX_REPORT_FINDINGS, REPORT_SCHEMA_VERSION, type CaptureSummary, type Report, type ReportFinding, type Totals } from './model.js';
import { metricsOf } from './metrics.js';
import { chooseRemedies, REMEDIES_BY_CAUSE } from './remedies.js';
import { undecodedFrames } from './skipped.js';

export interface BuildOptions {
  version: string;
  timeWaitS: number;
  portRange: [number, number];
}

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;
const ms = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : Math.round(x) / 1000);

/**
 * Everything a renderer needs, from a store whose detectors have run: figures come from
 * SQL over the connections and findings tables, and only the first MAX_REPORT_FINDINGS
 * findings are read into memory.
 */
export function buildReport(db: Database.Database, opts: BuildOptions): Report {
  const pieces = capturePieces(db);
  const tunnels = captureTunnels(db);
  const captures = (captureRows(db) as Record<string, any>[])
    .map((c): CaptureSummary => {
      const skipped = c.skipped ? JSON.parse(c.skipped) : {};
      return {
        id: c.id, name: c.name, path: c.path, format: c.format, compression: c.compression, frames: c.frames, tcpPackets: c.tcp_packets,
        firstTsUsec: c.first_ts_usec, lastTsUsec: c.last_ts_usec,
        durationS: captureSpanS(c.first_ts_usec, c.last_ts_usec, clockOfRow(c.clock)), ...(c.clock !== null ? { clock: clockOfRow(c.clock)! } : {}),
        connections: c.conns, skipped, undecodedFrames: undecodedFrames(skipped), error: c.error, grouping: c.grouping,
        pieces: pieces.filter((p) => p.captureId === c.id).map((p) => ({ name: p.name, firstFrame: p.firstFrame, frames: p.frames, ...(p.zstdWindowBytes !== null ? { zstdWindowBytes: p.zstdWindowBytes } : {}) })),
        ...(c.source !== null && c.source !== 'file' ? { source: c.source } : {}),
        filter: c.filter ? { text: c.filter, packetsLeftOut: c.filtered_packets } : null,
        tunnels: tunnels.filter((t) => t.captureId === c.id).slice(0, 5).map((t) => ({ tunnel: t.tunnel, connections: t.connections })),
        interrupted: c.status !== 'complete',
      };
    });
  const names = captureNames(captures, connectionVxlanPort(db));
  const captureName = (id: number | null): string | null => names.name(id);
  // Points read from several files: frames shown as each file numbers them (src/detectors/pieces.ts).
  const locate = (id: number, frame: number) => { const p = names.pieces(id); return p === null ? null : locateIn(p, frame); };

  const facts = gatherFacts(db, { timeWaitS: opts.timeWaitS, portRange: opts.portRange });
  // Ranked by diagnose.ts's one rule (rankCauses).
  const causes = rootCauses(facts, names);
  const { offered, withheld } = chooseRemedies(facts, causes.map((c) => c.id));
  const offeredIds = new Set(offered.map((r) => r.id));
  for (const c of causes) c.remedies = (REMEDIES_BY_CAUSE[c.id] ?? []).filter((id) => offeredIds.has(id));

  const totals: Totals = {
    connections: facts.connections,
    attempts: facts.attempts,
    established: facts.outcomes.established,
    notCompleted: facts.outcomes.notCompleted,
    refused: facts.outcomes.refused,
    ...(facts.outcomes.otherAnswer > 0 ? { otherAnswer: facts.outcomes.otherAnswer } : {}),
    unanswered: facts.outcomes.unanswered,
    synRetransmits: facts.synRetransmits.total,
    staleAcks: facts.stale.attempts,
    handshakeRttMs: { p50: ms(facts.handshakeRttUsec?.p50), p99: ms(facts.handshakeRttUsec?.p99) },
    connectMs: { p50: ms(facts.connectUsec?.p50), p99: ms(facts.connectUsec?.p99), max: ms(facts.connectUsec?.max) },
    ...(facts.clockWithheldAttempts > 0 ? { clockWithheldAttempts: facts.clockWithheldAttempts } : {}),
    serverClosesFirstShare: facts.closes.closed > 0 ? facts.closes.serverFirst / facts.closes.closed : null,
  };

  const worst = causes.reduce<Severity | null>((w, c) => (w === null || SEVERITY_RANK[c.severity] > SEVERITY_RANK[w] ? c.severity : w), null);
  // A capture that could not be read (or only in part) must never read as "no problem".
  const unread = captures.filter((c) => c.error !== null);
  const nothingRead = captures.length > 0 && captures.every((c) => c.tcpPackets === 0) && unread.length > 0;
  // Frames there, but none decodable as TCP (an unsupported link type, unknown EtherTypes or tunnels): never "OK".
  const nothingDecoded = captures.length > 0 && captures.every((c) => c.tcpPackets === 0) && captures.some((c) => c.undecodedFrames > 0);
  const partial = unread.length > 0
    ? ` (Incomplete: ${unread.map((c) => `${c.name} was read only up to the damage: ${c.error}`).join('; ')}.)`
    : '';
  // The capture's own holes (anomaly stage): packets the receivers got that the capture lacks.
  const loss = facts.captureLoss;
  const holes = loss.connections > 0
    ? ` (The capture missed packets on ${plural(loss.connections, 'connection')} that their receivers got${loss.synAckNotCaptured ? `: ${plural(loss.synAckNotCaptured, 'SYN-ACK')} the client acknowledged` : ''}${loss.acksOfUnseenData ? `${loss.synAckNotCaptured ? ',' : ':'} data acknowledged that the capture never saw` : ''}; the evidence has holes there.)`
    : '';
  const clockNote = clockVerdictNote(captures);
  const verdict = nothingRead
    ? { status: 'warning' as const, headline: `Nothing analysed: ${unread.map((c) => `${c.name}: ${c.error}`).join('; ')}.` }
    : nothingDecoded
    ? { status: 'warning' as const, headline: `Nothing analysed: no frame could be decoded as TCP (${captures.filter((c) => c.undecodedFrames > 0).map((c) => `${c.name}: ${c.undecodedFrames} of ${plural(c.frames, 'frame')} not decoded`).join('; ')}).` }
    : causes.length === 0 && totals.attempts === 0
    ? {
      status: unread.length > 0 ? 'warning' as const : 'ok' as const,
      headline: `No TCP connection attempts (SYNs) in the capture: ${plural(captures.reduce((n, c) => n + c.frames, 0), 'frame')}, ${plural(captures.reduce((n, c) => n + c.tcpPackets, 0), 'TCP packet')}, ${plural(totals.connections, 'connection')} seen mid-stream; nothing to diagnose about new connections.${partial}${holes}${clockNote}`,
    }
    : causes.length === 0
    ? {
      status: unread.length > 0 ? 'warning' as const : 'ok' as const,
      headline: `No problem found with new connections: ${totals.attempts} connection attempt${totals.attempts === 1 ? '' : 's'}, ${totals.established} established`
        + `${totals.handshakeRttMs.p50 !== null ? `, handshake RTT p50 ${totals.handshakeRttMs.p50} ms, p99 ${totals.handshakeRttMs.p99} ms` : ''}`
        + `, SYN retransmits: ${totals.synRetransmits || 'none'}, stale ACKs: none, timestamps stripped: ${facts.stripped.weak ? 'not shown (the ts-stripped observations cannot tell a server with timestamps off from a path that strips them)' : 'no'}`
        + `${totals.refused ? `, ${totals.refused} refused (RST to the SYN)` : ''}.${partial}${holes}${clockNote}`,
    }
    : { status: worst === 'error' ? 'problem' as const : 'warning' as const, headline: `${causes[0].title}: ${causes[0].summary}.${causes.length > 1 ? ` ${causes.length - 1} more cause${causes.length > 2 ? 's' : ''} below.` : ''}${partial}${holes}${clockNote}` };

  const { findings, findingsOmitted } = topFindings(db);
  for (const f of findings) {
    const p = names.pieces(f.captureId);
    if (p !== null) f.files = framesByFile(p, f.evidence.frames ?? []);
  }
  // Per detector, in the order detectors wrote them (first finding's rowid), as the report lists them.
  const findingCounts: Report['findingCounts'] = {};
  for (const r of db.prepare(`SELECT detector, severity, count(*) AS n, min(min(rowid)) OVER (PARTITION BY detector) AS first
      FROM findings GROUP BY detector, severity ORDER BY first, severity`).all() as { detector: string; severity: Severity; n: number }[]) {
    findingCounts[r.detector] ??= { info: 0, warning: 0, error: 0 };
    findingCounts[r.detector][r.severity] += r.n;
  }

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'tcpdiag', version: opts.version },
    settings: { timeWaitS: opts.timeWaitS, portRange: opts.portRange },
    captures,
    totals,
    verdict,
    causes,
    remedies: offered,
    withheld,
    findings,
    findingsOmitted,
    findingCounts,
    worstConnections: worstConnections(db, captureName, locate),
    timeline: timeline(db, facts.sustainablePerS, facts.reuse.top && facts.reuse.top.portsInUseSustainPerS < facts.sustainablePerS / 2 ? facts.reuse.top.portsInUseSustainPerS : null),
    ladder: ladder(db, locate),
    anomalies: { ...facts.anomalies },
    captureLoss: { ...facts.captureLoss },
    metrics: metricsOf(facts),
    gates: [],
    baseline: null,
  };
}


/** Report order: most severe first, then by time (none: 0), then by id. */
const reportOrder = (a: Finding, b: Finding): number => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (a.tsUsec ?? 0) - (b.tsUsec ?? 0) || a.id.localeCompare(b.id);

/**
 * The first MAX_REPORT_FINDINGS findings in report order, and how many more the store holds.
 * SQLite orders by severity and time; rows tied with the last one kept on both are read too,
 * and the ids (localeCompare, as the report has always ordered them) break ties here.
 */
function topFindings(db: Database.Database): { findings: ReportFinding[]; findingsOmitted: number } {
  const total = db.prepare('SELECT count(*) FROM findings').pluck().get() as number;
  const rank = `CASE severity ${Object.entries(SEVERITY_RANK).map(([s, r]) => `WHEN '${s}' THEN ${r}`).join(' ')} END`;
  // Sort keys only (the sorter then holds ~30 bytes a finding, not its evidence).
  const keys = db.prepare(`SELECT rowid, ${rank} AS sev, coalesce(ts_usec, 0) AS ts FROM findings ORDER BY sev DESC, ts`).raw();
  const rowids: number[] = [];
  let last: number[] | null = null;
  for (const k of keys.iterate() as Iterable<number[]>) {
    if (rowids.length >= MAX_REPORT_FINDINGS && (k[1] !== last![1] || k[2] !== last![2])) break;
    rowids.push(k[0]);
    last = k;
  }
  const byRowid = db.prepare(`SELECT ${FINDING_COLUMNS} FROM findings WHERE rowid = ?`);
  const read = findingReader(db);
  const out = rowids.map((r) => read(byRowid.get(r) as FindingTableRow));
  out.sort(reportOrder);
  if (out.length > MAX_REPORT_FINDINGS) out.length = MAX_REPORT_FINDINGS;
  return { findings: out, findingsOmitted: total - out.length };
}
