import type Database from 'better-sqlite3';
import { clockTrustedSql } from './clock.js';
import { ep } from './format.js';
import type { FileFrame } from './pieces.js';
import { ROW_EST } from '../flows/attempts.js';

/**
 * What the report shows of connections beyond the findings: the worst connections, the
 * timeline buckets and the ladder of one affected connection. Queries of the store for display,
 * kept on this side of the report so that src/report reads no connection rows itself.
 */

export interface TimelineBucket {
  tUsec: number; // bucket start
  newConnections: number;
  synRetransmits: number;
  staleAcks: number;
}

export interface LadderPacket {
  frame: number;
  /** Only when the capture point was read from several files: the file holding it and its number there. */
  fileFrame?: FileFrame;
  tUsec: number;
  fromClient: boolean;
  label: string;
}

/** A connection that suffered most: the slowest or never-established attempts. */
export interface WorstConnection {
  connId: number;
  capture: string;
  client: string; // addr:port, IPv6 in brackets
  server: string;
  state: string; // Zeek conn_state
  history: string;
  syns: number;
  answer: string; // synack | rst | ack | none
  connectMs: number | null; // first SYN to the SYN-ACK the client took; null when no SYN-ACK was captured
  /** Established as the attempts table says it (flows/attempts.ts ROW_EST): the client acknowledged the SYN-ACK, or one the capture missed, or both SYNs of a split handshake were acknowledged. */
  established: boolean;
  synFrame: number | null;
  /** Only when the capture point was read from several files: the file holding the SYN frame and its number there. */
  synFileFrame?: FileFrame;
}

export interface Timeline {
  bucketUsec: number; buckets: TimelineBucket[]; sustainablePerS: number;
  /** What the source ports seen in use on the busiest reused path sustain, when fewer than the range (null otherwise). */
  inUseSustainablePerS: number | null;
  /** Capture points not charted because their clock is not elapsed time (src/detectors/clock.ts); absent when none. */
  clockLeftOut?: string[];
}
export interface Ladder { title: string; client: string; server: string; packets: LadderPacket[] }

const FLAG_NAMES: [number, string][] = [[0x002, 'SYN'], [0x010, 'ACK'], [0x001, 'FIN'], [0x004, 'RST'], [0x008, 'PSH']];
const flagText = (f: number): string => FLAG_NAMES.filter(([b]) => (f & b) !== 0).map(([, n]) => n).join(',');

/** Where a capture point read from several files has a frame (file and its own number); null for a point of one file. */
export type FrameLocator = (captureId: number, frame: number) => FileFrame | null;

export function worstConnections(db: Database.Database, captureName: (id: number | null) => string | null, locate?: FrameLocator): WorstConnection[] {
  // Never answered by a SYN-ACK (nor completed as a split handshake: handshake_acked without one)
  // first, then the longest connect; ties by time so the order is stable. No connect time where
  // the capture's clock is not elapsed time (clock.ts): it may straddle a step.
  const rows = db.prepare(`SELECT id, capture_id, client_addr, client_port, server_addr, server_port, conn_state, history, syn_count, answer,
      CASE WHEN ${clockTrustedSql('capture_id')} THEN connect_usec END AS connect_usec, syn_frame, ${ROW_EST} AS established FROM connections
    WHERE syn_count > 0 AND (synack_count = 0 OR syn_count > 1 OR answer != 'synack')
    ORDER BY synack_count > 0 OR handshake_acked = 1, connect_usec DESC, first_ts_usec, id LIMIT 10`).all() as Record<string, any>[];
  return rows.map((r) => {
    const at = r.syn_frame === null || !locate ? null : locate(r.capture_id, r.syn_frame);
    return {
      connId: r.id, capture: captureName(r.capture_id) ?? '', client: ep(r.client_addr, r.client_port), server: ep(r.server_addr, r.server_port),
      state: r.conn_state, history: r.history, syns: r.syn_count, answer: r.answer,
      connectMs: r.connect_usec === null ? null : Math.round(r.connect_usec) / 1000, established: r.established === 1, synFrame: r.syn_frame,
      ...(at !== null ? { synFileFrame: at } : {}),
    };
  });
}

export function timeline(db: Database.Database, sustainablePerS: number, inUseSustainablePerS: number | null = null): Timeline {
  // Capture points whose clock is not elapsed time (clock.ts) are not charted: their times
  // straddle steps of years. The chart says which it left out.
  const leftOut = db.prepare('SELECT name FROM captures WHERE NOT ' + clockTrustedSql('id') + ' ORDER BY id').pluck().all() as string[];
  const more = leftOut.length > 0 ? { clockLeftOut: leftOut } : {};
  const ok = clockTrustedSql('capture_id');
  // The whole capture's span, not only the SYNs': retransmits a second later belong on the chart.
  const span = db.prepare(`SELECT (SELECT min(first_ts_usec) FROM connections WHERE syn_count > 0 AND ${ok}) AS t0,
    max((SELECT max(last_ts_usec) FROM captures WHERE ${clockTrustedSql('id')}), (SELECT max(first_ts_usec) FROM connections WHERE syn_count > 0 AND ${ok})) AS t1`).get() as { t0: number | null; t1: number | null };
  if (span.t0 === null || span.t1 === null) return { bucketUsec: 0, buckets: [], sustainablePerS, inUseSustainablePerS, ...more };
  const steps = [1e3, 1e4, 1e5, 1e6, 1e7, 6e7, 6e8, 3.6e9];
  // Never more than ~120 buckets, however long the capture.
  const bucketUsec = steps.find((s) => (span.t1! - span.t0!) / s <= 120) ?? Math.ceil((span.t1 - span.t0) / 120 / 3.6e9) * 3.6e9;
  const base = Math.floor(span.t0 / bucketUsec) * bucketUsec;
  const n = Math.floor((span.t1 - base) / bucketUsec) + 1;
  const buckets: TimelineBucket[] = Array.from({ length: n }, (_, i) => ({ tUsec: base + i * bucketUsec, newConnections: 0, synRetransmits: 0, staleAcks: 0 }));
  // Counted per bucket in SQL: only the buckets cross into JavaScript, not every time.
  const counts = (sql: string): { b: number; n: number }[] => db.prepare(`SELECT CAST((t - ?) / ? AS INTEGER) AS b, count(*) AS n
    FROM (${sql}) WHERE t >= ? GROUP BY b`).all(base, bucketUsec, base) as { b: number; n: number }[];
  for (const r of counts(`SELECT syn_ts_usec AS t FROM connections WHERE syn_count > 0 AND ${ok}`)) if (buckets[r.b]) buckets[r.b].newConnections += r.n;
  for (const r of counts(`SELECT ts_usec AS t FROM events WHERE kind = 'syn-rtx' AND ${ok}`)) if (buckets[r.b]) buckets[r.b].synRetransmits += r.n;
  for (const r of counts(`SELECT ts_usec AS t FROM findings WHERE detector = 'stale-ack' AND ts_usec IS NOT NULL AND ${ok}`)) if (buckets[r.b]) buckets[r.b].staleAcks += r.n;
  return { bucketUsec, buckets, sustainablePerS, inUseSustainablePerS, ...more };
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

export function ladder(db: Database.Database, locate?: FrameLocator): Ladder | null {
  // The first stale ACK (in the order detectors wrote them) whose previous connection is known,
  // else the first stale ACK, else the first retransmitted SYN of a connection.
  // Never one at a capture whose clock is not elapsed time (clock.ts): its times are not a ladder's.
  const first = (where: string): number | undefined => db.prepare(`SELECT conn_id FROM findings WHERE ${where} AND conn_id IS NOT NULL AND ${clockTrustedSql('capture_id')} ORDER BY rowid LIMIT 1`).pluck().get() as number | undefined;
  const pick = first("detector = 'stale-ack' AND kind != 'not-captured'")
    ?? first("detector = 'stale-ack'")
    ?? first("detector = 'syn-retransmit'");
  if (pick === undefined) return null;
  const conn = db.prepare('SELECT id, prev_id, capture_id, client_addr, client_port, server_addr, server_port FROM connections WHERE id = ?').get(pick) as Record<string, any>;
  const ids = conn.prev_id !== null ? [conn.prev_id, conn.id] : [conn.id];
  const rows = db.prepare(`SELECT conn_id, frame, ts_usec, dir, kind, seq, ack, flags FROM events WHERE conn_id IN (${ids.map(() => '?').join(',')}) ORDER BY frame`).all(...ids) as Record<string, any>[];
  // A plain connection keeps its key packets in its columns only (store.ts, isPlain).
  for (const id of ids) if (!rows.some((r) => r.conn_id === id)) rows.push(...keyPacketsFromColumns(db, id));
  rows.sort((a, b) => a.frame - b.frame);
  const packets: LadderPacket[] = rows.filter((r) => r.conn_id === conn.id || r.kind === 'fin' || r.kind === 'syn' || r.kind === 'synack' || r.kind === 'rst').map((r) => {
    const at = locate ? locate(conn.capture_id, r.frame) : null;
    return {
      frame: r.frame,
      ...(at !== null ? { fileFrame: at } : {}),
      tUsec: r.ts_usec, fromClient: r.dir === 'c2s',
      label: `${flagText(r.flags)} seq=${r.seq}${(r.flags & 0x010) !== 0 ? ` ack=${r.ack}` : ''}${r.kind === 'answer-ack' ? ' (stale ACK)' : r.kind === 'syn-rtx' ? ' (retransmit)' : ''}${r.conn_id !== conn.id ? ' [previous connection]' : ''}`,
    };
  });
  const client = ep(conn.client_addr, conn.client_port);
  const server = ep(conn.server_addr, conn.server_port);
  return { title: `${client} -> ${server}${conn.prev_id !== null ? ' and its previous connection on the same ports' : ''}`, client, server, packets };
}

/** The captures table with each capture's connection count (column conns). */
export function captureRows(db: Database.Database): Record<string, unknown>[] {
  return db.prepare('SELECT c.*, (SELECT count(*) FROM connections x WHERE x.capture_id = c.id) AS conns FROM captures c ORDER BY id').all() as Record<string, unknown>[];
}

/** The files each capture point was read from, in order (capture_pieces). */
export function capturePieces(db: Database.Database): { captureId: number; name: string; firstFrame: number; frames: number; zstdWindowBytes: number | null }[] {
  return (db.prepare('SELECT capture_id, name, first_frame, frames, zstd_window_bytes FROM capture_pieces ORDER BY capture_id, seq').all() as { capture_id: number; name: string; first_frame: number; frames: number; zstd_window_bytes: number | null }[])
    .map((r) => ({ captureId: r.capture_id, name: r.name, firstFrame: r.first_frame, frames: r.frames, zstdWindowBytes: r.zstd_window_bytes }));
}

/** The UDP port a connection's VXLAN came on (connections.tunnel_vxlan_port), by id; null without VXLAN. */
export function connectionVxlanPort(db: Database.Database): (connId: number) => number | null {
  const q = db.prepare('SELECT tunnel_vxlan_port FROM connections WHERE id = ?').pluck();
  return (connId) => (q.get(connId) as number | null | undefined) ?? null;
}

/** Per capture, connections by the tunnel they came in (connections.tunnel), most first. */
export function captureTunnels(db: Database.Database): { captureId: number; tunnel: string; connections: number }[] {
  return (db.prepare('SELECT capture_id, tunnel, count(*) AS n FROM connections WHERE tunnel IS NOT NULL GROUP BY capture_id, tunnel ORDER BY capture_id, n DESC, tunnel').all() as { capture_id: number; tunnel: string; n: number }[])
    .map((r) => ({ captureId: r.capture_id, tunnel: r.tunnel, connections: r.n }));
}
