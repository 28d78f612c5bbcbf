import type { Finding, Severity } from '../detectors/index.js';

/**
 * What every renderer (terminal, Markdown, JSON, HTML) takes. Built once by
 * buildReport(); renderers only format it. The JSON output is this object, and
 * src/report/schema.json describes it (bump REPORT_SCHEMA_VERSION on change).
 */
export const REPORT_SCHEMA_VERSION = 1;

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
  durationS: number;
  connections: number;
  skipped: Record<string, number>;
  /** One-line reason reading stopped early; null when the capture was read whole. */
  error: string | null;
}

export interface Totals {
  connections: number;
  attempts: number; // connections with a client SYN
  established: number; // SYN-ACK seen
  refused: number; // REJ
  unanswered: number; // S0
  synRetransmits: number;
  staleAcks: number;
  handshakeRttMs: { p50: number | null; p99: number | null };
  connectMs: { p50: number | null; p99: number | null; max: number | null };
  serverClosesFirstShare: number | null;
}

export type Confidence = 'high' | 'medium' | 'low';

export interface EvidenceItem {
  text: string;
  frames: number[];
  /** A Wireshark display filter that shows this evidence. */
  filter: string | null;
  capture: string | null;
}

export interface RootCause {
  id: string;
  title: string;
  severity: Severity;
  confidence: Confidence;
  /** 0..1, how strongly the evidence supports this cause. */
  score: number;
  /** The chain of evidence as one paragraph an on-call engineer can paste. */
  explanation: string;
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
}

export interface WithheldRemedy {
  id: string;
  title: string;
  /** What in the evidence rules it out (or what must come first). */
  reason: string;
}

export interface TimelineBucket {
  tUsec: number; // bucket start
  newConnections: number;
  synRetransmits: number;
  staleAcks: number;
}

export interface LadderPacket {
  frame: number;
  tUsec: number;
  fromClient: boolean;
  label: string;
}

/** A connection that suffered most: the slowest or never-established attempts. */
export interface WorstConnection {
  connId: number;
  capture: string;
  client: string; // addr:port, IPv6 in brackets
  server: string;
  state: string; // Zeek conn_state
  history: string;
  syns: number;
  answer: string; // synack | rst | ack | none
  connectMs: number | null; // first SYN to SYN-ACK; null when never answered by a SYN-ACK
  synFrame: number | null;
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
  findings: Finding[];
  /** Findings in the store beyond those listed (0 when `findings` has them all). */
  findingsOmitted: number;
  /** Per detector, every finding in the store by severity. */
  findingCounts: Record<string, Record<Severity, number>>;
  /** Up to 10 connections that waited longest to connect or never did. */
  worstConnections: WorstConnection[];
  /** For charts: new connections, SYN retransmits and stale ACKs per bucket. */
  timeline: { bucketUsec: number; buckets: TimelineBucket[]; sustainablePerS: number };
  /** One affected connection and its previous incarnation, packet by packet. */
  ladder: { title: string; packets: LadderPacket[] } | null;
}
