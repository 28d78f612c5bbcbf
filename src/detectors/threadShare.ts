import type { MessagePort } from 'node:worker_threads';
import type { Finding } from './types.js';

/**
 * Which detectors run on a second thread while the main one runs the others (runDetectors).
 * Detectors only read the store, and each one's findings are written in DETECTORS order
 * whichever thread made them, so the store and the report are the same as one after another.
 * The split balances the measured cost on the 100 000-connection bench store (bench/detectors.mjs):
 * stale-ack, with one finding per stale ACK, stays with the thread that writes them.
 */
export const THREAD_DETECTORS: readonly string[] = ['ts-stripped', 'port-reuse', 'server-closes-first', 'exhaustion-forecast', 'nat-clients'];

/** A finding as the findings table's columns, in order (schema.ts). */
export type FindingRow = [string, string, string, number | null, number | null, number | null, string, string, string | null, string | null];

export const findingRow = (f: Finding): FindingRow =>
  [f.id, f.detector, f.severity, f.captureId, f.connId, f.tsUsec, f.summary, JSON.stringify(f.evidence), f.kind ?? null, f.reason ?? null];

export interface DetectorThreadData {
  path: string;
  settings: { timeWaitUsec: number; portLo: number; portHi: number };
  names: [number, string][];
  ids: readonly string[];
  /** [0] messages posted (the thread counts up and notifies). */
  state: SharedArrayBuffer;
  port: MessagePort;
}

export type DetectorThreadMessage =
  | { type: 'findings'; detector: string; rows: FindingRow[] }
  | { type: 'done' }
  | { type: 'error'; message: string; code: string | null };
