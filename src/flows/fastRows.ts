import type Database from 'better-sqlite3';

/**
 * Rows as objects, built from raw rows by a function made for the statement's columns:
 * several times cheaper than better-sqlite3's own object rows on 100 000-row results
 * (each object gets one fixed shape).
 */
export function* fastRows<T = Record<string, any>>(stmt: Database.Statement, ...params: unknown[]): IterableIterator<T> {
  const make = rowMaker<T>(stmt);
  for (const a of stmt.raw(true).iterate(...params) as Iterable<unknown[]>) yield make(a);
}

export function rowMaker<T>(stmt: Database.Statement): (a: unknown[]) => T {
  const cols = stmt.columns().map((c) => c.name);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('a', `return {${cols.map((c, i) => `${JSON.stringify(c)}: a[${i}]`).join(', ')}};`) as (a: unknown[]) => T;
}

