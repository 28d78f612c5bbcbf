import { CRAFTED_SYN_KINDS, type AnomalyKind } from '../flows/anomalies.js';

/**
 * SQL over the anomalies table (src/flows/anomalies.ts) for detectors: what the anomaly stage
 * named is read from there, never re-derived from the connections' columns.
 */

/** SQL: the connection whose id is `idExpr` ("c.id", or a bare "id") has an anomaly of one of these kinds. */
export function hasAnomalySql(idExpr: string, kinds: readonly AnomalyKind[]): string {
  return `EXISTS (SELECT 1 FROM anomalies a WHERE a.conn_id = ${idExpr} AND a.kind IN (${kinds.map((k) => `'${k}'`).join(', ')}))`;
}

/**
 * SQL: the connection's SYN is not a host's own connect(): its ack field was set without the
 * ACK flag, or it came with a new ISN within the initial RTO of an unanswered attempt on the
 * same tuple (spoofing and flood tools such as hping3 do both). Such SYNs make no TIME_WAIT and
 * say nothing about a client's port use.
 */
export const craftedSynSql = (conn: string): string => hasAnomalySql(`${conn}.id`, CRAFTED_SYN_KINDS);
