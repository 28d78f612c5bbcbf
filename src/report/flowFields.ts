import type { ConnRow } from '../flows/query.js';

/**
 * The fields `tcpdiag flows --format json|csv` prints: documented names, times and durations in
 * seconds (the store keeps microseconds; `--raw` prints its columns as they are).
 */
export interface FlowField { name: string; type: 'count' | 'seconds' | 'string' | 'bool' | 'time'; doc: string; get: (r: ConnRow) => unknown }

const sec = (usec: unknown): number | null => (typeof usec === 'number' ? usec / 1e6 : null);
const bool = (v: unknown): boolean | null => (v === null || v === undefined ? null : v === 1);

export const FLOW_FIELDS: FlowField[] = [
  { name: 'id', type: 'count', doc: 'connection id in the store', get: (r) => r.id },
  { name: 'capture_id', type: 'count', doc: 'capture it was seen in', get: (r) => r.capture_id },
  { name: 'attempt_id', type: 'count', doc: 'connection attempt it belongs to (null: no SYN seen)', get: (r) => r.attempt_id },
  { name: 'ts', type: 'time', doc: 'first packet, seconds since the epoch', get: (r) => sec(r.first_ts_usec) },
  { name: 'duration', type: 'seconds', doc: 'first to last packet', get: (r) => sec(Number(r.last_ts_usec) - r.first_ts_usec) },
  { name: 'client', type: 'string', doc: 'the side that sent the SYN (or the port heuristic chose)', get: (r) => r.client_addr },
  { name: 'client_port', type: 'count', doc: '', get: (r) => r.client_port },
  { name: 'server', type: 'string', doc: '', get: (r) => r.server_addr },
  { name: 'server_port', type: 'count', doc: '', get: (r) => r.server_port },
  { name: 'roles_inferred', type: 'bool', doc: 'no SYN or SYN-ACK seen: client and server guessed from the ports', get: (r) => bool(r.roles_inferred) },
  { name: 'conn_state', type: 'string', doc: 'Zeek conn_state', get: (r) => r.conn_state },
  { name: 'history', type: 'string', doc: 'Zeek history (client upper case)', get: (r) => r.history },
  { name: 'syns', type: 'count', doc: 'client SYNs with this ISN (1 + retransmits)', get: (r) => r.syn_count },
  { name: 'synacks', type: 'count', doc: 'server SYN-ACKs', get: (r) => r.synack_count },
  { name: 'answer', type: 'string', doc: 'first server reply to the SYN: synack, rst, ack, syn (its own SYN without ACK: a split handshake or simultaneous open) or none', get: (r) => r.answer },
  { name: 'connect', type: 'seconds', doc: 'first SYN to the SYN-ACK the client took at this capture point (split handshake: to the server\'s ACK of the SYN after its own SYN)', get: (r) => sec(r.connect_usec) },
  { name: 'rtt_syn', type: 'seconds', doc: 'latest SYN to first SYN-ACK', get: (r) => sec(r.rtt_syn_usec) },
  { name: 'syn_timestamps', type: 'bool', doc: 'the SYN carried the timestamp option', get: (r) => bool(r.syn_ts) },
  { name: 'synack_timestamps', type: 'bool', doc: 'the SYN-ACK carried the timestamp option', get: (r) => bool(r.synack_ts) },
  { name: 'client_pkts', type: 'count', doc: '', get: (r) => r.client_pkts },
  { name: 'server_pkts', type: 'count', doc: '', get: (r) => r.server_pkts },
  { name: 'client_bytes', type: 'count', doc: 'frame bytes on the wire, as tshark conv,tcp', get: (r) => r.client_bytes },
  { name: 'server_bytes', type: 'count', doc: '', get: (r) => r.server_bytes },
  { name: 'client_payload', type: 'count', doc: 'TCP payload bytes, retransmissions included', get: (r) => r.client_payload },
  { name: 'server_payload', type: 'count', doc: '', get: (r) => r.server_payload },
  { name: 'client_retrans', type: 'count', doc: 'payload segments starting before the highest sequence seen', get: (r) => r.client_retrans },
  { name: 'server_retrans', type: 'count', doc: '', get: (r) => r.server_retrans },
  { name: 'first_fin_by', type: 'string', doc: 'client or server: the active closer, who holds TIME_WAIT', get: (r) => r.first_fin_by },
  { name: 'prev_gap', type: 'seconds', doc: 'from the previous incarnation on the tuple closing to this one starting', get: (r) => sec(r.prev_gap_usec) },
];

/** The columns the fields read. */
export const FLOW_COLUMNS = ['id', 'capture_id', 'attempt_id', 'first_ts_usec', 'last_ts_usec', 'client_addr', 'client_port', 'server_addr', 'server_port',
  'roles_inferred', 'conn_state', 'history', 'syn_count', 'synack_count', 'answer', 'connect_usec', 'rtt_syn_usec', 'syn_ts', 'synack_ts', 'client_pkts',
  'server_pkts', 'client_bytes', 'server_bytes', 'client_payload', 'server_payload', 'client_retrans', 'server_retrans', 'first_fin_by', 'prev_gap_usec'] as const;

export const flowRecord = (r: ConnRow): Record<string, unknown> => Object.fromEntries(FLOW_FIELDS.map((f) => [f.name, f.get(r) ?? null]));
