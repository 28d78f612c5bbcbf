import type Database from 'better-sqlite3';
import { clockImplausible, type ClockFacts } from '../decode/index.js';

/**
 * The one rule for time differences at a capture point whose clock is not elapsed time
 * (captures.clock, written by the decoder's ClockWatch: src/decode/clock.ts). A span, a rate,
 * a round-trip or connect time measured there may straddle a step of years, or be rounded to
 * 2048 µs past exact microseconds: none is a fact. Such a capture's span is not stated, and the
 * run's handshake RTT and connect-time percentiles leave its attempts out (saying so), rather
 * than print a number the capture does not prove.
 */

/** SQL: true where the capture `col` names has a clock that time differences can be read from. */
export const clockTrustedSql = (col: string): string => `${col} NOT IN (SELECT id FROM captures WHERE clock IS NOT NULL)`;

/** The clock facts of a captures row (its `clock` column), or null when nothing was wrong. */
export function clockOfRow(clock: string | null | undefined): ClockFacts | null {
  if (clock === null || clock === undefined) return null;
  const c = JSON.parse(clock) as ClockFacts;
  return clockImplausible(c) ? c : null;
}

/** A capture point's span from its first to its last frame in seconds, or null when its clock is not elapsed time. */
export const captureSpanS = (firstUsec: number | null, lastUsec: number | null, clock: ClockFacts | null): number | null =>
  (clock !== null ? null : firstUsec !== null && lastUsec !== null ? (lastUsec - firstUsec) / 1e6 : 0);

/** Attempts whose times were taken at a capture point with such a clock: left out of every time percentile. */
export const clockWithheldAttempts = (db: Database.Database): number =>
  // No scan of the attempts table when every clock is sound (nearly always).
  (db.prepare('SELECT 1 FROM captures WHERE clock IS NOT NULL LIMIT 1').get() === undefined ? 0
    : db.prepare(`SELECT count(*) FROM attempts WHERE NOT ${clockTrustedSql('view_capture_id')}`).pluck().get() as number);

/** The capture ids whose clock is not elapsed time: a detector states no rate or gap measured there. */
export const untrustedCaptures = (db: Database.Database): Set<number> =>
  new Set(db.prepare('SELECT id FROM captures WHERE clock IS NOT NULL').pluck().all() as number[]);

/** What a finding says in place of a rate or time measured at such a capture. */
export const NO_CLOCK_TEXT = 'no rate stated: the capture clock is not elapsed time';
