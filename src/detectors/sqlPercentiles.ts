import type Database from 'better-sqlite3';
import { rankIndex } from './stats.js';

/**
 * Nearest-rank percentiles (stats.ts rankIndex) of the values a query selects (column v), all
 * from one sort in SQLite, so the values never all cross into JavaScript (on millions of attempts
 * that would be memory growing with the capture). Each percentile's value in the order of `ps`;
 * null when the query selects nothing.
 */
export function sqlPercentiles(db: Database.Database, sql: string, ps: number[], ...args: unknown[]): { n: number; values: number[] } | null {
  const n = db.prepare(`SELECT count(*) FROM (${sql})`).pluck().get(...args) as number;
  if (n === 0) return null;
  const ranks = ps.map((p) => rankIndex(n, p) + 1);
  const at = new Map(db.prepare(`SELECT r, v FROM (SELECT row_number() OVER (ORDER BY v) AS r, v FROM (${sql}))
    WHERE r IN (${ranks.map(() => '?').join(', ')})`).raw().all(...args, ...ranks) as [number, number][]);
  return { n, values: ranks.map((r) => at.get(r)!) };
}
