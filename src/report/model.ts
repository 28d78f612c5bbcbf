import type { Ladder, LadderPacket, Timeline, TimelineBucket, WorstConnection } from '../detectors/charts.js';
import type { ClockFacts } from '../decode/index.js';
import type { Finding, Severity } from '../detectors/index.js';
import type { BaselineDiff, GateResult } from './gates.js';
import type { Metrics } from './metrics.js';

export type { Ladder, LadderPacket, Timeline, TimelineBucket, WorstConnection };

/**
 * What every renderer (terminal, Markdown, JSON, HTML) takes. Built once by
 * buildReport(); renderers only format it. The JSON output is this object, and
 * src/report/schema.json describes it (bump REPORT_SCHEMA_VERSION on change).
 */
export const REPORT_SCHEMA_VERSION = 2;

/**
 * The most findings a Report lists (`findings`); `findingsOmitted` says how many more
 * the store's findings table holds, and `findingCounts` counts them all.
 */
export const MAX_REPORT_FINDINGS = 1000;

/** What the renderers say when the report lists fewer findings than the store holds. */
export const omittedNote = (n: number): string => `... and ${n} more in the store (--db FILE keeps it; query the findings table)`;

export interface CaptureSummary {
  id: number;
  name: string;
  path: string;
  format: string | null;
  compression: string | null;
  frames: number;
  tcpPackets: number;
  firstTsUsec: number | null;
  lastTsUsec: number | null;
  /** First to last frame, seconds; null when the clock is not elapsed time (`clock`). */
  durationS: number | null;
  /** Steps of the clock by more than a year between consecutive frames, frames dated past 2^53 µs (src/decode/clock.ts); absent when neither. */
  clock?: ClockFacts;
  connections: number;
  skipped: Record<string, number>;
  /** Frames of `skipped` that could not be decoded (an unsupported link type, an unknown EtherType or tunnel, a cut or malformed header, a fragment): all but 'non-tcp' and 'non-packet-block'. */
  undecodedFrames: number;
  /** One-line reason reading stopped early; null when the capture was read whole. */
  error: string | null;
  /**
   * The run that read it into the store was stopped part way (a signal, a full disk, a killed
   * process: captures.status 'interrupted'); connections are those written before.
   */
  interrupted: boolean;
  /** How the capture point was formed: one file, a rotated set (pieces whose time ranges follow one another), or --point. */
  grouping: 'file' | 'rotated' | 'point';
  /** The files read for this point, in order, with the capture's frame number of each one's first frame. */
  pieces: { name: string; firstFrame: number; frames: number; zstdWindowBytes?: number }[];
  /** Present when the capture was read as a stream (standard input, a FIFO, a device, a socket: captures.source); absent for a regular file. */
  source?: 'stdin' | 'fifo' | 'device' | 'socket';
  /** The narrowing applied before tracking (--since/--until/--host/--net/--port) and the TCP packets it left out; null when none. */
  filter: { text: string; packetsLeftOut: number } | null;
  /** Connections that came inside a tunnel (connections.tunnel), by encapsulation, most first (at most 5 listed). */
  tunnels: { tunnel: string; connections: number }[];
}

/** The totals' label for Totals.otherAnswer, in every format. */
export const OTHER_ANSWER = 'answered by a SYN or an ACK of the SYN, not established';

/** Counts of connection attempts (one client SYN sequence each, across ports and capture points). */
export interface Totals {
  connections: number; // connections rows (incarnations), attempts or not
  attempts: number;
  established: number; // the client acknowledged the SYN-ACK (split handshake: both SYNs acknowledged) at some capture point
  notCompleted: number; // a SYN-ACK the client never acknowledged
  refused: number; // answered by RST, never established
  /** Answered by the server's own SYN or an ACK of the SYN, never established; present only when there are some. */
  otherAnswer?: number;
  unanswered: number; // no answer of any kind at any capture point
  synRetransmits: number;
  staleAcks: number; // attempts answered by an ACK of an older connection
  /** Over the attempts at capture points whose clock is elapsed time; clockWithheldAttempts are left out. */
  handshakeRttMs: { p50: number | null; p99: number | null };
  connectMs: { p50: number | null; p99: number | null; max: number | null };
  /** Attempts seen at a capture point whose clock is not elapsed time: in no time percentile; absent when none. */
  clockWithheldAttempts?: number;
  serverClosesFirstShare: number | null;
}

export type Confidence = 'high' | 'medium' | 'low';

export interface EvidenceItem {
  /** The finding this line cites, when it is one (reports then do not list it again). */
  findingId: string | null;
  text: string;
  frames: number[];
  /**
   * A Wireshark display filter that shows this evidence. Frame numbers in `frames` and here are
   * the capture point's: for a point read from several files they count across the files in
   * order (valid in the files joined with `mergecap -a`); `files` has them file by file.
   */
  filter: string | null;
  /**
   * What the filter selects when it is not exactly `frames`: every frame of this connection's
   * 4-tuple from this connection's first frame, or from the previous connection's on it (the one
   * the finding blames), to the next connection's on it. Absent: exactly `frames`.
   */
  filterSelects?: FilterScope;
  /**
   * Present when the filter (and each of `files`' filters) selects these frames only once
   * Wireshark dissects a protocol on a port it does not by itself, as `tshark -d
   * TABLE==PORT,PROTOCOL` tells it: a 4-tuple filter on connections that came in VXLAN on UDP
   * 8472 selects none of their frames without it. Absent: the filter needs nothing.
   */
  decodeAs?: DecodeAs[];
  capture: string | null;
  /**
   * Only for a capture point read from several files (a rotated set, --point): every file this
   * evidence touches, in order, with its frames in that file's own numbers and a filter valid when
   * that file is opened alone. More than one entry: the evidence spans files.
   */
  files?: FileEvidence[];
}

export type FilterScope = 'connection' | 'connection-and-previous';

/** One decode-as rule, as `tshark -d udp.port==8472,vxlan` writes it. */
export interface DecodeAs {
  table: 'udp.port';
  port: number;
  protocol: 'vxlan';
}

/** The part of one piece of evidence that lies in one file of a capture point read from several. */
export interface FileEvidence {
  /** The file's name, as the captures' `pieces` list it. */
  file: string;
  /** The evidence's frames in this file, numbered as Wireshark numbers them in this file alone. */
  frames: number[];
  /** A Wireshark display filter for this file alone, in its own frame numbers. */
  filter: string | null;
}

/** A finding as the report lists it. */
export type ReportFinding = Finding & {
  /**
   * Only for a finding of a capture point read from several files: `evidence.frames` file by file,
   * in each file's own numbers (`evidence` keeps the point's numbers, counted across the files).
   */
  files?: { file: string; frames: number[] }[];
};

export interface RootCause {
  id: string;
  title: string;
  severity: Severity;
  confidence: Confidence;
  /** 0..1, how strongly the evidence supports this cause. */
  score: number;
  /** One sentence of the figures that matter most, for the verdict (not repeated from the explanation). */
  summary: string;
  /** The chain of evidence as one paragraph an on-call engineer can paste, rendered from `figures`. */
  explanation: string;
  /** The numbers the explanation states, by name: the claims test holds them against the totals. */
  figures: Record<string, number | string | boolean | null>;
  evidence: EvidenceItem[];
  /** Remedy ids that address this cause, best first. */
  remedies: string[];
}

export type Place = 'client' | 'server' | 'gateway' | 'proxy' | 'application';

export interface Remedy {
  id: string;
  title: string;
  where: Place;
  /** The exact setting or change. */
  setting: string;
  cost: string;
  risk: 'low' | 'medium' | 'high';
  /** Why it fits what the capture shows. */
  why: string;
  /** The facts (remedies.ts CONDITIONS) that held for it to be offered. */
  preconditions: string[];
}

export interface WithheldRemedy {
  id: string;
  title: string;
  /** What in the evidence rules it out (or what must come first). */
  reason: string;
  /** The facts (remedies.ts CONDITIONS) that rule it out, or that it needs and that do not hold. */
  because: string[];
}

export interface Report {
  schemaVersion: number;
  tool: { name: 'tcpdiag'; version: string };
  settings: { timeWaitS: number; portRange: [number, number] };
  captures: CaptureSummary[];
  totals: Totals;
  verdict: { status: 'ok' | 'problem' | 'warning'; headline: string };
  causes: RootCause[];
  remedies: Remedy[];
  withheld: WithheldRemedy[];
  /** At most MAX_REPORT_FINDINGS findings: most severe first, then by time, then by id. */
  findings: ReportFinding[];
  /** Findings in the store beyond those listed (0 when `findings` has them all). */
  findingsOmitted: number;
  /** Per detector, every finding in the store by severity. */
  findingCounts: Record<string, Record<Severity, number>>;
  /** Up to 10 connections that waited longest to connect or never did. */
  worstConnections: WorstConnection[];
  /** For charts: new connections, SYN retransmits and stale ACKs per bucket. */
  timeline: Timeline;
  /** One affected connection and its previous incarnation, packet by packet. */
  ladder: Ladder | null;
  /** Connections showing each anomaly kind of the anomaly stage (src/flows/anomalies.ts), every kind listed. */
  anomalies: Record<string, number>;
  /** Proof that the capture missed packets their receivers got (the verdict says so when there is any). */
  captureLoss: { connections: number; synAckNotCaptured: number; acksOfUnseenData: number; connectionsWithSequenceGaps: number };
  /** The figures gates, baselines and `compare` read (src/report/metrics.ts). */
  metrics: Metrics;
  /** The --fail-on gates and how each came out (empty without --fail-on). */
  gates: GateResult[];
  /** What changed against --baseline (null without it). */
  baseline: BaselineDiff | null;
}
