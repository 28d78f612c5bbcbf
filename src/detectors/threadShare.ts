import type { Finding, TypedFinding } from './types.js';

/**
 * Which detectors run on a second thread while the main one runs the others (runDetectors).
 * Detectors only read the store, and each one's findings are written in DETECTORS order
 * whichever thread made them, so the store and the report are the same as one after another.
 * The split balances the measured cost on the 100 000-connection bench store (bench/detectors.mjs,
 * CPU ms, medians of 3, once stale-ack stopped rendering its findings and the path readers took
 * one row per path): here stale-ack 659, syn-retransmit 329, refused 131, exhaustion-forecast 407,
 * listen-overflow 188, paws-drop 45, syn-flood 240 (1 999); there ts-stripped 517, port-reuse 904,
 * server-closes-first 286, nat-clients 379 (2 086).
 */
export const THREAD_DETECTORS: readonly string[] = ['ts-stripped', 'port-reuse', 'server-closes-first', 'nat-clients'];

/** A finding as the findings table's columns, in order (schema.ts). */
export type FindingRow = [string, string, string, number | null, number | null, number | null, string | null, string | null, string | null, string | null];

export const findingRow = (f: Finding | TypedFinding): FindingRow =>
  [f.id, f.detector, f.severity, f.captureId, f.connId, f.tsUsec, f.summary, f.evidence === null ? null : JSON.stringify(f.evidence), f.kind ?? null, f.reason ?? null];

/**
 * Findings held before they go into the store in order: `seq` is the detector's place in
 * DETECTORS, then the findings table's columns. The second thread writes its own in a file of
 * its own; the main thread keeps those of its detectors that come after a thread detector in a
 * temporary table. Either way on disk, not in memory.
 */
export const HELD_FINDINGS_COLUMNS = 'seq INTEGER NOT NULL, id, detector, severity, capture_id, conn_id, ts_usec, summary, evidence, kind, reason';

export interface DetectorThreadData {
  path: string;
  /** The file the thread writes its findings to (table found, HELD_FINDINGS_COLUMNS). */
  out: string;
  settings: { timeWaitUsec: number; portLo: number; portHi: number };
  names: [number, string][];
  ids: readonly string[];
  /** [0] set to 1 when the thread is done, 2 when it failed; its error text follows from byte 8. */
  state: SharedArrayBuffer;
  /** ThreadLife.buf: the thread's TID, for a main thread blocked on it to tell it ended. */
  life: SharedArrayBuffer;
}
