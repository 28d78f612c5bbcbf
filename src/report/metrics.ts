import type { AnalysisFacts } from '../detectors/facts.js';

/**
 * The metrics a report carries for gates, baselines and `compare`: each is one typed fact of
 * the analysis, named once here, with its counts where it is a share (so a comparison can say
 * whether a change is more than the samples explain).
 */
export interface Metrics {
  attempts: number;
  /** Attempts answered by an ACK of an older connection. */
  staleAcks: number;
  /** Attempts that retransmitted their SYN. */
  synRetransmitted: number;
  refused: number;
  unanswered: number;
  /** 4-tuples reused within TIME_WAIT, and those reuses that failed. */
  reusesWithinTimeWait: number;
  failedReuses: number;
  /** Connect time of established attempts (first SYN to SYN-ACK), ms, and how many. */
  connectN: number;
  connectP50Ms: number | null;
  connectP99Ms: number | null;
  connectMaxMs: number | null;
  /** Findings that the path removes TCP timestamps (warning level). */
  timestampsStripped: number;
  /** Addresses found to be several hosts behind NAT. */
  natAddresses: number;
}

const ms = (usec: number | undefined): number | null => (usec === undefined ? null : Math.round(usec) / 1000);

export function metricsOf(f: AnalysisFacts): Metrics {
  return {
    attempts: f.attempts,
    staleAcks: f.stale.attempts,
    synRetransmitted: f.synRetransmits.attempts,
    refused: f.outcomes.refused,
    unanswered: f.outcomes.unanswered,
    reusesWithinTimeWait: f.reuse.reuses,
    failedReuses: f.reuse.failed,
    connectN: f.connectUsec?.n ?? 0,
    connectP50Ms: ms(f.connectUsec?.p50),
    connectP99Ms: ms(f.connectUsec?.p99),
    connectMaxMs: ms(f.connectUsec?.max),
    timestampsStripped: f.stripped.count,
    natAddresses: f.natClients.length,
  };
}

export interface MetricDef {
  name: string;
  doc: string;
  /** 'share': a count out of attempts; 'ms': a latency; 'count'. Higher is worse for every metric. */
  kind: 'share' | 'ms' | 'count';
  value: (m: Metrics) => number | null;
  /** For shares: the count and the total it is out of. */
  counts?: (m: Metrics) => [number, number];
}

const share = (name: string, doc: string, key: keyof Metrics): MetricDef => ({
  name, doc, kind: 'share',
  value: (m) => (m.attempts > 0 ? (m[key] as number) / m.attempts : null),
  counts: (m) => [m[key] as number, m.attempts],
});

/** Every metric by its gate name. */
export const METRICS: MetricDef[] = [
  share('stale-ack-share', 'attempts answered by an ACK of an older connection, out of all attempts', 'staleAcks'),
  share('syn-retransmit-share', 'attempts that retransmitted their SYN, out of all attempts', 'synRetransmitted'),
  share('refused-share', 'attempts answered by RST, out of all attempts', 'refused'),
  share('unanswered-share', 'attempts with no answer at all, out of all attempts', 'unanswered'),
  { name: 'connect-p50-ms', doc: 'median connect time (first SYN to SYN-ACK) of established attempts, ms', kind: 'ms', value: (m) => m.connectP50Ms },
  { name: 'connect-p99-ms', doc: '99th percentile connect time, ms', kind: 'ms', value: (m) => m.connectP99Ms },
  { name: 'connect-max-ms', doc: 'longest connect time, ms', kind: 'ms', value: (m) => m.connectMaxMs },
  { name: 'stale-acks', doc: 'attempts answered by an ACK of an older connection', kind: 'count', value: (m) => m.staleAcks },
  { name: 'reuses-within-time-wait', doc: '4-tuples reused within the TIME_WAIT period', kind: 'count', value: (m) => m.reusesWithinTimeWait },
  { name: 'failed-reuses', doc: 'reuses within TIME_WAIT that drew a stale ACK, a RST or no answer', kind: 'count', value: (m) => m.failedReuses },
  { name: 'timestamps-stripped', doc: 'findings that the path removes TCP timestamps', kind: 'count', value: (m) => m.timestampsStripped },
  { name: 'nat-addresses', doc: 'addresses that are several hosts behind NAT', kind: 'count', value: (m) => m.natAddresses },
];

export const metricByName = (name: string): MetricDef | undefined => METRICS.find((x) => x.name === name);
