import { renderTable, streamTable } from './table.js';
import { ep } from '../detectors/format.js';
import type { AnomalyRow } from '../flows/anomalyQuery.js';
import { connectionsCsv, csvLines } from './connections.js';

/** Columns of `tcpdiag flows --anomalies` in json and csv (the anomalies table's, then the connection's endpoints). */
export const ANOMALY_COLUMNS = ['conn_id', 'capture_id', 'kind', 'frame', 'ts_usec', 'dir', 'count', 'seq', 'ack', 'bytes', 'value',
  'ref_frame', 'gap_usec', 'detail', 'client_addr', 'client_port', 'server_addr', 'server_port'] as const;

const cell = (v: unknown): string | number => (v === null || v === undefined ? '' : (v as string | number));

const HEAD = ['conn', 'frame', 'kind', 'dir', 'count', 'client', 'server', 'seq', 'ack', 'bytes', 'value', 'ref frame', 'detail'];

const anomalyCells = (r: AnomalyRow): unknown[] => [r.conn_id, r.frame, r.kind, cell(r.dir), r.count, ep(r.client_addr, r.client_port),
  ep(r.server_addr, r.server_port), cell(r.seq), cell(r.ack), cell(r.bytes), cell(r.value), cell(r.ref_frame), cell(r.detail)];

const footer = (n: number): string => `${n} anomal${n === 1 ? 'y' : 'ies'}`;

/** The anomaly list for a terminal: one row per connection and kind (schema.ts gives each column's meaning per kind). */
export function anomaliesTable(rows: AnomalyRow[]): string {
  return `${renderTable({ head: HEAD, rows: rows.map(anomalyCells) })}\n${footer(rows.length)}\n`;
}

/** anomaliesTable's lines, from rows `pass` reads twice (streamTable), without holding them. */
export function* anomaliesTableLines(pass: () => Iterable<AnomalyRow>): Generator<string> {
  let n = 0;
  yield* streamTable(HEAD, function* () { n = 0; for (const r of pass()) { n++; yield anomalyCells(r); } });
  yield footer(n);
}

export function anomaliesCsv(rows: AnomalyRow[]): string {
  return connectionsCsv(rows as unknown as Parameters<typeof connectionsCsv>[0], [...ANOMALY_COLUMNS]);
}

/** anomaliesCsv's lines, a row at a time. */
export function anomaliesCsvLines(rows: Iterable<AnomalyRow>): Generator<string> {
  return csvLines(rows as Iterable<unknown> as Iterable<Record<string, unknown>>, [...ANOMALY_COLUMNS]);
}
