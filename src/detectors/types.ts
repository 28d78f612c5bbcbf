import type Database from 'better-sqlite3';

export type Severity = 'info' | 'warning' | 'error';
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export type DetectorId = 'stale-ack' | 'challenge-ack' | 'syn-retransmit' | 'ts-stripped' | 'port-reuse'
  | 'server-closes-first' | 'refused' | 'exhaustion-forecast' | 'two-point'
  | 'listen-overflow' | 'paws-drop' | 'nat-clients' | 'syn-flood';

/**
 * One finding: what was seen, where to look (frames), and the figures behind it.
 * `id` is stable across runs on the same captures (detector/capture/frame or key),
 * so tickets and CI baselines can refer to it.
 */
export interface Finding {
  id: string;
  detector: DetectorId;
  severity: Severity;
  captureId: number | null;
  connId: number | null;
  tsUsec: number | null;
  summary: string;
  evidence: Record<string, unknown> & { frames?: number[] };
  /**
   * Typed columns of the findings table, for the queries that group findings (detectors/facts.ts)
   * without parsing evidence JSON in SQL: stale-ack's kind is its relation and reason its
   * rejectReason. Absent for other detectors.
   */
  kind?: string | null;
  reason?: string | null;
}

/**
 * A finding as written by a detector that renders it on read: its typed columns only, with
 * summary and evidence NULL in the store. The detector's expand() makes the whole Finding from
 * the store when a report or `tcpdiag findings` reads it (findingReader, detectors/index.ts).
 * Stale ACKs are one finding per connection (43 000 on the 100 000-connection bench capture);
 * a report lists at most MAX_REPORT_FINDINGS of them, so their prose (1.5 KB each) is made only
 * for those.
 */
export type TypedFinding = Omit<Finding, 'summary' | 'evidence'> & { summary: null; evidence: null; connId: number };

export interface DetectorContext {
  db: Database.Database;
  /** TIME_WAIT period (2*MSL) assumed for the hosts, µs. */
  timeWaitUsec: number;
  /** Client ephemeral port range, inclusive. */
  portLo: number;
  portHi: number;
  /** Capture id -> file name, for finding ids and messages. */
  captureName: (id: number) => string;
  /**
   * How a summary prints frame `frame` of capture `captureId`: the number itself for a point read
   * from one file, "f of FILE" (that file's own number) for a rotated set (src/detectors/pieces.ts).
   * Absent: the number itself.
   */
  frameRef?: (captureId: number | null, frame: number) => string;
}

/** ctx.frameRef, or the number itself without one. */
export const frameRef = (ctx: Pick<DetectorContext, 'frameRef'>, captureId: number | null, frame: number): string => (ctx.frameRef ? ctx.frameRef(captureId, frame) : String(frame));

/** What rendering a stored finding reads: the store and how captures and frames are named, no setting. */
export type RenderContext = Pick<DetectorContext, 'db' | 'captureName' | 'frameRef'>;

export interface Detector {
  id: DetectorId | string;
  title: string;
  /**
   * The detector's findings, in the order reports list them. Detectors with one finding per
   * connection are generators: runDetectors writes each finding to the store as it is
   * yielded, so they never all sit in memory. A generator must not yield while one of its
   * statements is being iterated (.iterate(), fastRows): runDetectors' INSERT would find the
   * connection busy. Read into memory first, or use .get()/.all(), then yield.
   */
  run(ctx: DetectorContext): Iterable<Finding | TypedFinding>;
  /** The detector ids its findings carry, when not only `id` (stale-ack also writes challenge-ack). */
  ids?: readonly DetectorId[];
  /**
   * The whole finding for a TypedFinding this detector wrote, from the store (connection
   * `connId`'s rows), exactly as run() would have made it. Required when run() yields TypedFindings.
   */
  expand?(ctx: RenderContext, connId: number): Finding;
}
