import type Database from 'better-sqlite3';
import { ANOMALY_KINDS, CAPTURE_LOSS_KINDS, type AnomalyKind } from './anomalies.js';
import { fastRows } from './fastRows.js';

/** An anomalies row as stored (schema.ts gives each kind's use of the columns). */
export interface AnomalyRow {
  conn_id: number; capture_id: number; kind: AnomalyKind; frame: number; ts_usec: number; dir: 'c2s' | 's2c' | null;
  count: number; seq: number | null; ack: number | null; bytes: number | null; value: number | null;
  ref_frame: number | null; gap_usec: number | null; detail: string | null;
  client_addr: string; client_port: number; server_addr: string; server_port: number;
}

/**
 * Connections showing each anomaly kind (one per connection and kind), every kind present with
 * 0 when none showed it, so a report's counts have a fixed shape.
 */
export function anomalyCounts(db: Database.Database, captureId?: number): Record<AnomalyKind, number> {
  const out = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, 0])) as Record<AnomalyKind, number>;
  const rows = (captureId === undefined
    ? db.prepare('SELECT kind, count(*) AS n FROM anomalies GROUP BY kind').all()
    : db.prepare('SELECT kind, count(*) AS n FROM anomalies WHERE capture_id = ? GROUP BY kind').all(captureId)) as { kind: AnomalyKind; n: number }[];
  for (const r of rows) out[r.kind] = r.n;
  return out;
}

/** What the capture itself missed: the holes in the evidence. */
export interface CaptureLoss {
  /**
   * Connections with proof that the capture point missed packets their receiver got: the
   * client acknowledged a SYN-ACK that is not in the capture, or a side acknowledged data the
   * capture never saw sent (Wireshark's "ACKed segment that wasn't captured").
   */
  connections: number;
  /** Of those, connections whose SYN-ACK is missing from the capture. */
  synAckNotCaptured: number;
  /** ACKs beyond the other side's highest captured sequence, summed over connections. */
  acksOfUnseenData: number;
  /**
   * Connections with a gap in one direction's sequence (Wireshark's "previous segment not
   * captured"): lost before the capture point or by the capture; not by itself proof of capture loss.
   */
  connectionsWithSequenceGaps: number;
}

export function captureLoss(db: Database.Database, captureId?: number): CaptureLoss {
  const where = captureId === undefined ? '' : 'AND capture_id = ?';
  const args = captureId === undefined ? [] : [captureId];
  const lossKinds = CAPTURE_LOSS_KINDS.map((k) => `'${k}'`).join(', ');
  const r = db.prepare(`SELECT
      count(DISTINCT CASE WHEN kind IN (${lossKinds}) THEN conn_id END) AS connections,
      count(DISTINCT CASE WHEN kind = 'synack-not-captured' THEN conn_id END) AS synack,
      coalesce(sum(CASE WHEN kind = 'ack-of-unseen-data' THEN count END), 0) AS acks,
      count(DISTINCT CASE WHEN kind = 'previous-segment-not-captured' THEN conn_id END) AS gaps
    FROM anomalies WHERE 1 ${where}`).get(...args) as { connections: number; synack: number; acks: number; gaps: number };
  return { connections: r.connections, synAckNotCaptured: r.synack, acksOfUnseenData: r.acks, connectionsWithSequenceGaps: r.gaps };
}

export interface AnomalyFilter { kind?: string; tuple?: { addr: string | null; port: number | null }; limit?: number }

/** Anomaly rows with their connection's endpoints, in capture and frame order. */
export function selectAnomalies(db: Database.Database, f: AnomalyFilter = {}): AnomalyRow[] {
  return [...iterateAnomalies(db, f)];
}

/** selectAnomalies a row at a time. */
export function iterateAnomalies(db: Database.Database, f: AnomalyFilter = {}): IterableIterator<AnomalyRow> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (f.kind !== undefined) { where.push('a.kind = ?'); args.push(f.kind); }
  if (f.tuple !== undefined) {
    const { addr, port } = f.tuple;
    const end = (x: string, y: string): string => {
      const parts: string[] = [];
      if (addr !== null) { parts.push(`c.${x} = ?`); args.push(addr); }
      if (port !== null) { parts.push(`c.${y} = ?`); args.push(port); }
      return parts.join(' AND ') || '1';
    };
    where.push(`((${end('client_addr', 'client_port')}) OR (${end('server_addr', 'server_port')}))`);
  }
  const sql = `SELECT a.*, c.client_addr, c.client_port, c.server_addr, c.server_port
    FROM anomalies a JOIN connections c ON c.id = a.conn_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY a.capture_id, a.frame, a.conn_id`
    + (f.limit !== undefined ? ` LIMIT ${Math.floor(f.limit)}` : '');
  return fastRows<AnomalyRow>(db.prepare(sql), ...args);
}
