import { renderTable, streamTable } from './table.js';
import { ep } from '../detectors/format.js';
import type { ConnRow } from '../flows/query.js';

const ms = (usec: unknown): string => (typeof usec === 'number' ? (usec / 1000).toFixed(usec < 10_000 ? 2 : 0) : '');
const endpoint = (addr: unknown, port: unknown): string => ep(String(addr), Number(port));

/** Seconds since the epoch with microseconds, as tshark's frame.time_epoch prints them. */
export const epoch = (usec: number): string => `${Math.floor(usec / 1e6)}.${String(usec % 1e6).padStart(6, '0')}`;

const HEAD = ['id', 'start', 'client', 'server', 'state', 'history', 'SYNs', 'answer', 'connect ms', 'pkts c/s', 'bytes c/s', 'closer', 'prev gap s'];

/** The columns connectionCells reads. */
export const TABLE_COLUMNS = ['id', 'first_ts_usec', 'client_addr', 'client_port', 'roles_inferred', 'server_addr', 'server_port', 'conn_state', 'history',
  'syn_count', 'answer', 'connect_usec', 'client_pkts', 'server_pkts', 'client_bytes', 'server_bytes', 'first_fin_by', 'prev_gap_usec'] as const;

function connectionCells(r: ConnRow): unknown[] {
  return [
    r.id, epoch(r.first_ts_usec), endpoint(r.client_addr, r.client_port) + (r.roles_inferred ? ' ?' : ''), endpoint(r.server_addr, r.server_port),
    r.conn_state, r.history, r.syn_count, r.answer, ms(r.connect_usec),
    `${r.client_pkts}/${r.server_pkts}`, `${r.client_bytes}/${r.server_bytes}`, r.first_fin_by ?? '',
    typeof r.prev_gap_usec === 'number' ? (r.prev_gap_usec / 1e6).toFixed(3) : '',
  ];
}

const footer = (shown: number, total: number, inferred: boolean): string =>
  `${shown < total ? `${shown} of ${total}` : shown} connection${total === 1 ? '' : 's'}${inferred ? ' (? = roles inferred from ports: no SYN seen)' : ''}`;

/** The connection table for a terminal. */
export function connectionsTable(rows: ConnRow[], total = rows.length): string {
  return `${renderTable({ head: HEAD, rows: rows.map(connectionCells) })}\n${footer(rows.length, total, rows.some((r) => r.roles_inferred))}\n`;
}

/** connectionsTable's lines, from rows `pass` reads twice (streamTable), without holding them. */
export function* connectionsTableLines(pass: () => Iterable<ConnRow>, total?: number): Generator<string> {
  let shown = 0;
  let inferred = false;
  yield* streamTable(HEAD, function* () {
    shown = 0;
    for (const r of pass()) { shown++; if (r.roles_inferred) inferred = true; yield connectionCells(r); }
  });
  yield footer(shown, total ?? shown, inferred);
}

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** RFC 4180 CSV of every stored column. */
export function connectionsCsv(rows: ConnRow[], columns: string[]): string {
  return [...csvLines(rows, columns)].join('\n') + '\n';
}

/** connectionsCsv's lines, a row at a time. */
export function* csvLines(rows: Iterable<Record<string, unknown>>, columns: string[]): Generator<string> {
  yield columns.join(',');
  for (const r of rows) yield columns.map((c) => csvCell(r[c])).join(',');
}

/** The lines of JSON.stringify(array, null, 1) (joined by newlines), an element at a time. */
export function* jsonArrayLines(items: Iterable<unknown>): Generator<string> {
  let held: string | null = null;
  for (const item of items) {
    if (held === null) yield '['; else yield `${held},`;
    held = ` ${JSON.stringify(item, null, 1).replace(/\n/g, '\n ')}`;
  }
  if (held === null) yield '[]';
  else { yield held; yield ']'; }
}
