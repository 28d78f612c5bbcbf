import type { ConnRow } from '../flows/query.js';
import { isoTime } from './time.js';

/**
 * Zeek's conn.log in its ASCII format (base/protocols/conn/main.zeek; logging/writers/ascii):
 * tab-separated, with the #separator / #fields / #types header zeek-cut reads, "-" for an unset
 * field. orig is the client, resp the server. What this store cannot know is unset: service,
 * local_orig/local_resp, missed_bytes, and the *_ip_bytes (the store counts frame bytes, with
 * link headers).
 */
const FIELDS: [string, string][] = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'], ['id.resp_p', 'port'],
  ['proto', 'enum'], ['service', 'string'], ['duration', 'interval'], ['orig_bytes', 'count'], ['resp_bytes', 'count'],
  ['conn_state', 'string'], ['local_orig', 'bool'], ['local_resp', 'bool'], ['missed_bytes', 'count'], ['history', 'string'],
  ['orig_pkts', 'count'], ['orig_ip_bytes', 'count'], ['resp_pkts', 'count'], ['resp_ip_bytes', 'count'],
];

const UNSET = '-';
const secs = (usec: number): string => `${Math.floor(usec / 1e6)}.${String(Math.round(usec % 1e6)).padStart(6, '0')}`;
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** A stable uid per store connection ("C" and base 62, as Zeek's uids look). */
function uid(id: number): string {
  let s = '';
  for (let n = id; n > 0; n = Math.floor(n / 62)) s = B62[n % 62] + s;
  return `C${s.padStart(6, '0')}`;
}

/** Bytes in the sequence space, as Zeek counts orig_bytes: next sequence - ISN - SYN - FIN. */
function seqBytes(isn: unknown, next: unknown, fin: unknown): string {
  if (typeof isn !== 'number' || typeof next !== 'number') return UNSET;
  return String((next - isn - 1 - (fin !== null && fin !== undefined ? 1 : 0) + 2 ** 32) % 2 ** 32);
}

/** The columns a conn.log line reads. */
export const ZEEK_COLUMNS = ['id', 'first_ts_usec', 'last_ts_usec', 'client_addr', 'client_port', 'server_addr', 'server_port', 'client_isn', 'client_next',
  'client_fin_frame', 'server_isn', 'server_next', 'server_fin_frame', 'conn_state', 'history', 'client_pkts', 'server_pkts'] as const;

export function zeekConnLog(rows: ConnRow[], openedUsec: number): string {
  return `${[...zeekConnLines(rows, openedUsec)].join('\n')}\n`;
}

/** zeekConnLog's lines, a connection at a time. */
export function* zeekConnLines(rows: Iterable<ConnRow>, openedUsec: number): Generator<string> {
  // isoTime: a capture's times can be past what Date shows (pcapng, year 586524).
  const stamp = (usec: number): string => isoTime(usec).replace(/(\.\d{3})?Z$/, '').replace('T', '-').replace(/:/g, '-');
  yield* ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn', `#open\t${stamp(openedUsec)}`,
    `#fields\t${FIELDS.map((f) => f[0]).join('\t')}`, `#types\t${FIELDS.map((f) => f[1]).join('\t')}`];
  for (const r of rows) {
    yield [
      secs(r.first_ts_usec), uid(r.id), r.client_addr, r.client_port, r.server_addr, r.server_port, 'tcp', UNSET,
      secs(Number(r.last_ts_usec) - r.first_ts_usec),
      seqBytes(r.client_isn, r.client_next, r.client_fin_frame), seqBytes(r.server_isn, r.server_next, r.server_fin_frame),
      r.conn_state, UNSET, UNSET, UNSET, r.history === '' ? '(empty)' : r.history,
      r.client_pkts, UNSET, r.server_pkts, UNSET,
    ].join('\t');
  }
  yield `#close\t${stamp(openedUsec)}`;
}
