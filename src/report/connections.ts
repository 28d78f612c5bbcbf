import { renderTable } from './table.js';
import { ep } from '../detectors/format.js';
import type { ConnRow } from '../flows/query.js';

const ms = (usec: unknown): string => (typeof usec === 'number' ? (usec / 1000).toFixed(usec < 10_000 ? 2 : 0) : '');
const endpoint = (addr: unknown, port: unknown): string => ep(String(addr), Number(port));

/** Seconds since the epoch with microseconds, as tshark's frame.time_epoch prints them. */
export const epoch = (usec: number): string => `${Math.floor(usec / 1e6)}.${String(usec % 1e6).padStart(6, '0')}`;

/** The connection table for a terminal. */
export function connectionsTable(rows: ConnRow[], total = rows.length): string {
  const table = renderTable({
    head: ['id', 'start', 'client', 'server', 'state', 'history', 'SYNs', 'answer', 'connect ms', 'pkts c/s', 'bytes c/s', 'closer', 'prev gap s'],
    rows: rows.map((r) => [
      r.id, epoch(r.first_ts_usec), endpoint(r.client_addr, r.client_port) + (r.roles_inferred ? ' ?' : ''), endpoint(r.server_addr, r.server_port),
      r.conn_state, r.history, r.syn_count, r.answer, ms(r.connect_usec),
      `${r.client_pkts}/${r.server_pkts}`, `${r.client_bytes}/${r.server_bytes}`, r.first_fin_by ?? '',
      typeof r.prev_gap_usec === 'number' ? (r.prev_gap_usec / 1e6).toFixed(3) : '',
    ]),
  });
  return `${table}\n${rows.length < total ? `${rows.length} of ${total}` : rows.length} connection${total === 1 ? '' : 's'}${rows.some((r) => r.roles_inferred) ? ' (? = roles inferred from ports: no SYN seen)' : ''}\n`;
}

/** RFC 4180 CSV of every stored column. */
export function connectionsCsv(rows: ConnRow[], columns: string[]): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
