import type Database from 'better-sqlite3';
import { isIP } from 'node:net';
import { ExitError } from '../errors.js';
import { fastRows } from './fastRows.js';

/** A connections row as stored (see schema.ts for each column's meaning). */
export type ConnRow = Record<string, string | number | null> & {
  id: number; capture_id: number; client_addr: string; client_port: number; server_addr: string; server_port: number;
  conn_state: string; history: string; first_ts_usec: number;
};

export interface ConnFilter {
  /** "ADDR", "ADDR:PORT", "[V6]:PORT" or "PORT": matches either end. */
  tuple?: string;
  state?: string;
  limit?: number;
}

/** Parse a --tuple filter into SQL; null fields match anything. */
export function parseTupleFilter(s: string): { addr: string | null; port: number | null } {
  if (/^\d{1,5}$/.test(s)) return { addr: null, port: Number(s) };
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(s);
  if (v6) return { addr: v6[1].toLowerCase(), port: v6[2] !== undefined ? Number(v6[2]) : null };
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(s);
  if (v4 && isIP(v4[1]) === 4) return { addr: v4[1], port: v4[2] !== undefined ? Number(v4[2]) : null };
  if (/^[0-9a-fA-F:]+$/.test(s) && s.includes(':') && isIP(s) === 6) return { addr: s.toLowerCase(), port: null }; // a bare IPv6 address
  throw new ExitError(2, `--tuple must be ADDR, ADDR:PORT, [IPV6]:PORT or PORT, not "${s}"`);
}

/** Zeek conn_state values (base/protocols/conn/main.zeek). */
export const CONN_STATES = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'];

/** Connections matching a filter, before --limit (for "3 of 100"). */
export function countConnections(db: Database.Database, f: ConnFilter): number {
  return (db.prepare(`SELECT count(*) FROM (${sqlOf({ ...f, limit: undefined }).sql})`).pluck().get(...sqlOf(f).args) as number);
}

export function selectConnections(db: Database.Database, f: ConnFilter): ConnRow[] {
  const { sql, args } = sqlOf(f);
  return db.prepare(sql).all(...args) as ConnRow[];
}

/**
 * selectConnections a row at a time, only the columns given (all by default): memory holds one
 * row, not the capture's connections, and a row of 101 columns costs ~5 times one of 18 to read.
 */
export function iterateConnections(db: Database.Database, f: ConnFilter, columns?: readonly string[]): IterableIterator<ConnRow> {
  const { sql, args } = sqlOf(f, columns);
  return fastRows<ConnRow>(db.prepare(sql), ...args);
}

function sqlOf(f: ConnFilter, columns?: readonly string[]): { sql: string; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (f.tuple !== undefined) {
    const { addr, port } = parseTupleFilter(f.tuple);
    const end = (a: string, p: string): string => {
      const parts: string[] = [];
      if (addr !== null) { parts.push(`${a} = ?`); args.push(addr); }
      if (port !== null) { parts.push(`${p} = ?`); args.push(port); }
      return parts.join(' AND ');
    };
    where.push(`((${end('client_addr', 'client_port')}) OR (${end('server_addr', 'server_port')}))`);
  }
  if (f.state !== undefined) {
    if (!CONN_STATES.includes(f.state.toUpperCase())) throw new ExitError(2, `--state must be a Zeek conn_state (${CONN_STATES.join(', ')}), not "${f.state}"`);
    where.push('conn_state = ?'); args.push(f.state.toUpperCase());
  }
  const sql = `SELECT ${columns?.join(', ') ?? '*'} FROM connections ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY capture_id, first_ts_usec, id`
    + (f.limit !== undefined ? ` LIMIT ${Math.floor(f.limit)}` : '');
  return { sql, args };
}
