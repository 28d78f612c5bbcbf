import type Database from 'better-sqlite3';
import { FINDING_COLUMNS, findingFromRow, SEVERITY_RANK, type Finding, type Severity } from '../detectors/index.js';
import { ep } from '../detectors/format.js';
import { rootCauses } from './diagnose.js';
import { gatherFacts } from './facts.js';
import { MAX_REPORT_FINDINGS, REPORT_SCHEMA_VERSION, type CaptureSummary, type LadderPacket, type Report, type TimelineBucket } from './model.js';
import { chooseRemedies } from './remedies.js';

export interface BuildOptions {
  version: string;
  timeWaitS: number;
  portRange: [number, number];
}

const FLAG_NAMES: [number, string][] = [[0x002, 'SYN'], [0x010, 'ACK'], [0x001, 'FIN'], [0x004, 'RST'], [0x008, 'PSH']];
const flagText = (f: number): string => FLAG_NAMES.filter(([b]) => (f & b) !== 0).map(([, n]) => n).join(',');

function pctile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const ms = (x: number | null): number | null => (x === null ? null : Math.round(x) / 1000);

/**
 * Everything a renderer needs, from a store whose detectors have run: figures come from
 * SQL over the connections and findings tables, and only the first MAX_REPORT_FINDINGS
 * findings are read into memory.
 */
export function buildReport(db: Database.Database, opts: BuildOptions): Report {
  const captures = (db.prepare(`SELECT c.*, (SELECT count(*) FROM connections x WHERE x.capture_id = c.id) AS conns FROM captures c ORDER BY id`).all() as Record<string, any>[])
    .map((c): CaptureSummary => ({
      id: c.id, name: c.name, path: c.path, format: c.format, compression: c.compression, frames: c.frames, tcpPackets: c.tcp_packets,
      firstTsUsec: c.first_ts_usec, lastTsUsec: c.last_ts_usec,
      durationS: c.first_ts_usec !== null ? (c.last_ts_usec - c.first_ts_usec) / 1e6 : 0,
      connections: c.conns, skipped: c.skipped ? JSON.parse(c.skipped) : {}, error: c.error,
    }));
  const names = new Map(captures.map((c) => [c.id, c.name]));
  const captureName = (id: number | null): string | null => (id === null ? null : names.get(id) ?? null);

  const facts = gatherFacts(db, opts.timeWaitS);
  const causes = rootCauses(facts, captureName)
    .sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.score - a.score);
  const { offered, withheld } = chooseRemedies(facts);
  const byCause: Record<string, string[]> = {
    'time-wait-stale-ack': offered.map((r) => r.id).filter((id) => !['check-drops', 'check-listener', 'raise-backlog', 'disable-tw-recycle'].includes(id)),
    'half-open-challenge-ack': [],
    'timestamps-stripped': offered.filter((r) => r.id === 'keep-timestamps').map((r) => r.id),
    'syn-unanswered': offered.filter((r) => r.id === 'check-drops').map((r) => r.id),
    refused: offered.filter((r) => r.id === 'check-listener').map((r) => r.id),
    'listen-overflow': offered.filter((r) => r.id === 'raise-backlog').map((r) => r.id),
    'paws-drop': offered.filter((r) => r.id === 'disable-tw-recycle').map((r) => r.id),
    'port-pressure': offered.filter((r) => ['pooling', 'wider-port-range', 'more-source-addresses', 'windows-timed-wait'].includes(r.id)).map((r) => r.id),
  };
  for (const c of causes) c.remedies = byCause[c.id] ?? [];

  const one = <T>(sql: string): T => db.prepare(sql).pluck().get() as T;
  const rtts = db.prepare('SELECT rtt_syn_usec FROM connections WHERE rtt_syn_usec IS NOT NULL ORDER BY 1').pluck().all() as number[];
  const connects = db.prepare('SELECT connect_usec FROM connections WHERE connect_usec IS NOT NULL ORDER BY 1').pluck().all() as number[];
  const totals = {
    connections: one<number>('SELECT count(*) FROM connections'),
    attempts: facts.attempts,
    established: facts.established,
    refused: facts.refused,
    unanswered: one<number>("SELECT count(*) FROM connections WHERE conn_state = 'S0'"),
    synRetransmits: one<number>('SELECT coalesce(sum(syn_count - 1), 0) FROM connections WHERE syn_count > 1'),
    staleAcks: facts.staleAcks,
    handshakeRttMs: { p50: ms(pctile(rtts, 50)), p99: ms(pctile(rtts, 99)) },
    connectMs: { p50: ms(pctile(connects, 50)), p99: ms(pctile(connects, 99)), max: ms(connects.length ? connects[connects.length - 1] : null) },
    serverClosesFirstShare: facts.serverClosesFirst,
  };

  const worst = causes.reduce<Severity | null>((w, c) => (w === null || SEVERITY_RANK[c.severity] > SEVERITY_RANK[w] ? c.severity : w), null);
  // A capture that could not be read (or only in part) must never read as "no problem".
  const unread = captures.filter((c) => c.error !== null);
  const nothingRead = captures.length > 0 && captures.every((c) => c.tcpPackets === 0) && unread.length > 0;
  const partial = unread.length > 0
    ? ` (Incomplete: ${unread.map((c) => `${c.name} was read only up to the damage: ${c.error}`).join('; ')}.)`
    : '';
  const verdict = nothingRead
    ? { status: 'warning' as const, headline: `Nothing analysed: ${unread.map((c) => `${c.name}: ${c.error}`).join('; ')}.` }
    : causes.length === 0 && totals.attempts === 0
    ? {
      status: unread.length > 0 ? 'warning' as const : 'ok' as const,
      headline: `No TCP connection attempts (SYNs) in the capture: ${captures.reduce((n, c) => n + c.frames, 0)} frames, ${captures.reduce((n, c) => n + c.tcpPackets, 0)} TCP packets, ${totals.connections} connections seen mid-stream; nothing to diagnose about new connections.${partial}`,
    }
    : causes.length === 0
    ? {
      status: unread.length > 0 ? 'warning' as const : 'ok' as const,
      headline: `No problem found with new connections: ${totals.attempts} connection attempt${totals.attempts === 1 ? '' : 's'}, ${totals.established} established`
        + `${totals.handshakeRttMs.p50 !== null ? `, handshake RTT p50 ${totals.handshakeRttMs.p50} ms, p99 ${totals.handshakeRttMs.p99} ms` : ''}`
        + `, SYN retransmits: ${totals.synRetransmits || 'none'}, stale ACKs: none, timestamps stripped: no`
        + `${totals.refused ? `, ${totals.refused} refused (RST to the SYN)` : ''}.${partial}`,
    }
    : { status: worst === 'error' ? 'problem' as const : 'warning' as const, headline: `${causes[0].title}. ${causes[0].explanation}${partial}` };

  const { findings, findingsOmitted } = topFindings(db);
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
    worstConnections: worstConnections(db, captureName),
    timeline: timeline(db, facts.sustainablePerS),
    ladder: ladder(db),
  };
}

/** Report order: most severe first, then by time (none: 0), then by id. */
const reportOrder = (a: Finding, b: Finding): number => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (a.tsUsec ?? 0) - (b.tsUsec ?? 0) || a.id.localeCompare(b.id);

/**
 * The first MAX_REPORT_FINDINGS findings in report order, and how many more the store holds.
 * SQLite orders by severity and time; rows tied with the last one kept on both are read too,
 * and the ids (localeCompare, as the report has always ordered them) break ties here.
 */
function topFindings(db: Database.Database): { findings: Finding[]; findingsOmitted: number } {
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
  const out = rowids.map((r) => findingFromRow(byRowid.get(r) as Parameters<typeof findingFromRow>[0]));
  out.sort(reportOrder);
  if (out.length > MAX_REPORT_FINDINGS) out.length = MAX_REPORT_FINDINGS;
  return { findings: out, findingsOmitted: total - out.length };
}

function worstConnections(db: Database.Database, captureName: (id: number | null) => string | null): Report['worstConnections'] {
  // Never established first, then the longest connect; ties by time so the order is stable.
  const rows = db.prepare(`SELECT id, capture_id, client_addr, client_port, server_addr, server_port, conn_state, history, syn_count, answer,
      connect_usec, syn_frame FROM connections
    WHERE syn_count > 0 AND (synack_count = 0 OR syn_count > 1 OR answer != 'synack')
    ORDER BY synack_count > 0, connect_usec DESC, first_ts_usec, id LIMIT 10`).all() as Record<string, any>[];
  return rows.map((r) => ({
    connId: r.id, capture: captureName(r.capture_id) ?? '', client: ep(r.client_addr, r.client_port), server: ep(r.server_addr, r.server_port),
    state: r.conn_state, history: r.history, syns: r.syn_count, answer: r.answer,
    connectMs: r.connect_usec === null ? null : Math.round(r.connect_usec) / 1000, synFrame: r.syn_frame,
  }));
}

function timeline(db: Database.Database, sustainablePerS: number): Report['timeline'] {
  const span = db.prepare('SELECT min(first_ts_usec) AS t0, max(first_ts_usec) AS t1 FROM connections WHERE syn_count > 0').get() as { t0: number | null; t1: number | null };
  if (span.t0 === null || span.t1 === null) return { bucketUsec: 0, buckets: [], sustainablePerS };
  const steps = [1e3, 1e4, 1e5, 1e6, 1e7, 6e7, 6e8, 3.6e9];
  // Captures with broken clocks span centuries: never more than ~120 buckets.
  const bucketUsec = steps.find((s) => (span.t1! - span.t0!) / s <= 120) ?? Math.ceil((span.t1 - span.t0) / 120 / 3.6e9) * 3.6e9;
  const base = Math.floor(span.t0 / bucketUsec) * bucketUsec;
  const n = Math.floor((span.t1 - base) / bucketUsec) + 1;
  const buckets: TimelineBucket[] = Array.from({ length: n }, (_, i) => ({ tUsec: base + i * bucketUsec, newConnections: 0, synRetransmits: 0, staleAcks: 0 }));
  // Counted per bucket in SQL: only the buckets cross into JavaScript, not every time.
  const counts = (sql: string): { b: number; n: number }[] => db.prepare(`SELECT CAST((t - ?) / ? AS INTEGER) AS b, count(*) AS n
    FROM (${sql}) WHERE t >= ? GROUP BY b`).all(base, bucketUsec, base) as { b: number; n: number }[];
  for (const r of counts('SELECT syn_ts_usec AS t FROM connections WHERE syn_count > 0')) if (buckets[r.b]) buckets[r.b].newConnections += r.n;
  for (const r of counts("SELECT ts_usec AS t FROM events WHERE kind = 'syn-rtx'")) if (buckets[r.b]) buckets[r.b].synRetransmits += r.n;
  for (const r of counts("SELECT ts_usec AS t FROM findings WHERE detector = 'stale-ack' AND ts_usec IS NOT NULL")) if (buckets[r.b]) buckets[r.b].staleAcks += r.n;
  return { bucketUsec, buckets, sustainablePerS };
}

/** SYN, SYN-ACK and FINs of a connection rebuilt from its columns, as event-like rows. */
function keyPacketsFromColumns(db: Database.Database, id: number): Record<string, any>[] {
  const c = db.prepare(`SELECT client_isn, server_isn, syn_frame, syn_ts_usec, synack_frame, synack_ts_usec, client_fin_frame, client_fin_ts_usec,
    server_fin_frame, server_fin_ts_usec, client_next, server_next FROM connections WHERE id = ?`).get(id) as Record<string, any>;
  const out: Record<string, any>[] = [];
  const dec = (n: number): number => (n - 1) >>> 0;
  if (c.syn_frame !== null) out.push({ conn_id: id, frame: c.syn_frame, ts_usec: c.syn_ts_usec, dir: 'c2s', kind: 'syn', seq: c.client_isn, ack: 0, flags: 0x002 });
  if (c.synack_frame !== null) out.push({ conn_id: id, frame: c.synack_frame, ts_usec: c.synack_ts_usec, dir: 's2c', kind: 'synack', seq: c.server_isn, ack: (c.client_isn + 1) >>> 0, flags: 0x012 });
  // A FIN's own sequence number is one before the side's next sequence; its ack is not kept.
  if (c.client_fin_frame !== null) out.push({ conn_id: id, frame: c.client_fin_frame, ts_usec: c.client_fin_ts_usec, dir: 'c2s', kind: 'fin', seq: dec(c.client_next), ack: 0, flags: 0x001 });
  if (c.server_fin_frame !== null) out.push({ conn_id: id, frame: c.server_fin_frame, ts_usec: c.server_fin_ts_usec, dir: 's2c', kind: 'fin', seq: dec(c.server_next), ack: 0, flags: 0x001 });
  return out;
}

function ladder(db: Database.Database): Report['ladder'] {
  // The first stale ACK (in the order detectors wrote them) whose previous connection is known,
  // else the first stale ACK, else the first retransmitted SYN of a connection.
  const first = (where: string): number | undefined => db.prepare(`SELECT conn_id FROM findings WHERE ${where} AND conn_id IS NOT NULL ORDER BY rowid LIMIT 1`).pluck().get() as number | undefined;
  const pick = first("detector = 'stale-ack' AND json_type(evidence, '$.previous') IS NOT 'null'")
    ?? first("detector = 'stale-ack'")
    ?? first("detector = 'syn-retransmit'");
  if (pick === undefined) return null;
  const conn = db.prepare('SELECT id, prev_id, client_addr, client_port, server_addr, server_port FROM connections WHERE id = ?').get(pick) as Record<string, any>;
  const ids = conn.prev_id !== null ? [conn.prev_id, conn.id] : [conn.id];
  const rows = db.prepare(`SELECT conn_id, frame, ts_usec, dir, kind, seq, ack, flags FROM events WHERE conn_id IN (${ids.map(() => '?').join(',')}) ORDER BY frame`).all(...ids) as Record<string, any>[];
  // A plain connection keeps its key packets in its columns only (store.ts, isPlain).
  for (const id of ids) if (!rows.some((r) => r.conn_id === id)) rows.push(...keyPacketsFromColumns(db, id));
  rows.sort((a, b) => a.frame - b.frame);
  const packets: LadderPacket[] = rows.filter((r) => r.conn_id === conn.id || r.kind === 'fin' || r.kind === 'syn' || r.kind === 'synack' || r.kind === 'rst').map((r) => ({
    frame: r.frame, tUsec: r.ts_usec, fromClient: r.dir === 'c2s',
    label: `${flagText(r.flags)} seq=${r.seq}${(r.flags & 0x010) !== 0 ? ` ack=${r.ack}` : ''}${r.kind === 'answer-ack' ? ' (stale ACK)' : r.kind === 'syn-rtx' ? ' (retransmit)' : ''}${r.conn_id !== conn.id ? ' [previous connection]' : ''}`,
  }));
  return { title: `${ep(conn.client_addr, conn.client_port)} -> ${ep(conn.server_addr, conn.server_port)}${conn.prev_id !== null ? ' and its previous connection on the same ports' : ''}`, packets };
}
