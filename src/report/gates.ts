import { FINDING_DETECTOR_IDS, SEVERITY_RANK, type Finding, type Severity } from '../detectors/index.js';
import { ExitError } from '../errors.js';
import { METRICS, metricByName, type MetricDef, type Metrics } from './metrics.js';
import type { Report, ReportFinding } from './model.js';

/**
 * CI gates (`--fail-on`, several at once), a small grammar over the report's typed fields:
 *   SEVERITY              info | warning | error: any finding or cause at least that severe
 *   DETECTOR[:SEVERITY]   any finding of that detector (at least SEVERITY; default info)
 *   METRIC OP NUMBER      a metric of metrics.ts compared with > >= < <= (e.g. stale-ack-share>0.01)
 * With a baseline (an earlier JSON report), finding gates count only findings whose stable id
 * the baseline does not have, and metric gates fail only when the metric is also worse than
 * the baseline's.
 */
export type Gate =
  | { kind: 'severity'; text: string; severity: Severity }
  | { kind: 'detector'; text: string; detector: string; severity: Severity }
  | { kind: 'metric'; text: string; metric: MetricDef; op: '>' | '>=' | '<' | '<='; threshold: number };

const SEVERITIES = Object.keys(SEVERITY_RANK) as Severity[];

export function parseGate(spec: string): Gate {
  const s = spec.trim();
  if ((SEVERITIES as string[]).includes(s)) return { kind: 'severity', text: s, severity: s as Severity };
  const m = /^([a-z0-9-]+)\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)$/.exec(s);
  if (m) {
    const metric = metricByName(m[1]);
    if (!metric) throw new ExitError(2, `--fail-on: no metric "${m[1]}"; metrics: ${METRICS.map((x) => x.name).join(', ')}`);
    return { kind: 'metric', text: s, metric, op: m[2] as '>', threshold: Number(m[3]) };
  }
  const d = /^([a-z0-9-]+)(?::([a-z]+))?$/.exec(s);
  if (d && FINDING_DETECTOR_IDS.includes(d[1])) {
    const sev = (d[2] ?? 'info') as Severity;
    if (!SEVERITIES.includes(sev)) throw new ExitError(2, `--fail-on ${s}: the severity must be one of ${SEVERITIES.join(', ')}`);
    return { kind: 'detector', text: s, detector: d[1], severity: sev };
  }
  throw new ExitError(2, `--fail-on: "${spec}" is not a gate; give a severity (${SEVERITIES.join(', ')}), a detector (${FINDING_DETECTOR_IDS.join(', ')}) with an optional :severity, or a metric comparison such as stale-ack-share>0.01 (metrics: ${METRICS.map((x) => x.name).join(', ')})`);
}

export interface GateResult {
  gate: string;
  kind: Gate['kind'];
  failed: boolean;
  /** One sentence: what was found, or what was compared. */
  message: string;
  /** The findings that failed it (at most 10), for annotations and JUnit. */
  findings: ReportFinding[];
  /** Capture ids the failing findings are in (empty for a metric). */
  captureIds: number[];
}

export interface BaselineDiff {
  path: string;
  newFindings: string[];
  goneFindings: string[];
  /** Findings beyond those listed in either report were not compared. */
  incomplete: boolean;
  metrics: { name: string; before: number | null; after: number | null }[];
}

const compare = (v: number, op: string, t: number): boolean => (op === '>' ? v > t : op === '>=' ? v >= t : op === '<' ? v < t : v <= t);

/** Differences from a baseline report: findings by stable id, metrics by value. */
export function diffBaseline(r: Report, base: Report, path: string): BaselineDiff {
  const now = new Set(r.findings.map((f) => f.id));
  const then = new Set(base.findings.map((f) => f.id));
  return {
    path,
    newFindings: [...now].filter((id) => !then.has(id)),
    goneFindings: [...then].filter((id) => !now.has(id)),
    incomplete: r.findingsOmitted > 0 || base.findingsOmitted > 0,
    metrics: METRICS.map((m) => ({ name: m.name, before: m.value(base.metrics), after: m.value(r.metrics) })).filter((x) => x.before !== x.after),
  };
}

export function evaluateGates(r: Report, gates: Gate[], base: Report | null): GateResult[] {
  const known = base === null ? null : new Set(base.findings.map((f) => f.id));
  const knownCauses = base === null ? null : new Set(base.causes.map((c) => c.id));
  const isNew = (f: Finding): boolean => known === null || !known.has(f.id);
  return gates.map((g): GateResult => {
    if (g.kind === 'metric') {
      const v = g.metric.value(r.metrics);
      const b = base === null ? null : g.metric.value(base.metrics as Metrics);
      const crosses = v !== null && compare(v, g.op, g.threshold);
      // With a baseline, only a move the wrong way fails (every metric is worse when higher).
      const worse = base === null || b === null || (v !== null && (g.op.startsWith('>') ? v > b : v < b));
      const failed = crosses && worse;
      const shown = (x: number | null): string => (x === null ? 'none' : g.metric.kind === 'share' ? x.toFixed(4) : String(x));
      return {
        gate: g.text, kind: g.kind, failed, findings: [], captureIds: [],
        message: `${g.metric.name} is ${shown(v)}${base !== null ? ` (baseline ${shown(b)})` : ''}: ${failed ? 'fails' : 'passes'} ${g.op} ${g.threshold}${crosses && !worse ? ', but no worse than the baseline' : ''}`,
      };
    }
    const min = SEVERITY_RANK[g.severity];
    const match = (f: Finding): boolean => SEVERITY_RANK[f.severity] >= min && (g.kind === 'severity' || f.detector === g.detector);
    const hits = r.findings.filter((f) => match(f) && isNew(f));
    // Counts cover findings beyond those the report lists; without a baseline they decide.
    const counted = base === null
      ? Object.entries(r.findingCounts).filter(([d]) => g.kind === 'severity' || d === g.detector)
        .reduce((n, [, c]) => n + SEVERITIES.filter((s) => SEVERITY_RANK[s] >= min).reduce((k, s) => k + c[s], 0), 0)
      : hits.length;
    // A cause with no finding behind it (refused connections) counts for severity gates.
    const causes = g.kind === 'severity' ? r.causes.filter((c) => SEVERITY_RANK[c.severity] >= min && (knownCauses === null || !knownCauses.has(c.id))) : [];
    const failed = counted > 0 || causes.length > 0;
    const what = g.kind === 'severity' ? `finding${counted === 1 ? '' : 's'} at ${g.severity} or worse` : `${g.detector} finding${counted === 1 ? '' : 's'}${g.severity !== 'info' ? ` at ${g.severity} or worse` : ''}`;
    return {
      gate: g.text, kind: g.kind, failed, findings: hits.slice(0, 10), captureIds: [...new Set(hits.map((f) => f.captureId).filter((x): x is number => x !== null))],
      message: `${counted} ${base !== null ? 'new ' : ''}${what}${causes.length ? `; ${causes.length} ${base !== null ? 'new ' : ''}cause${causes.length === 1 ? '' : 's'} (${causes.map((c) => c.id).join(', ')})` : ''}`,
    };
  });
}

/** What changed against the baseline, in one line. */
export function baselineLine(b: BaselineDiff): string {
  const moved = b.metrics.map((m) => `${m.name} ${m.before ?? 'none'} -> ${m.after ?? 'none'}`);
  return `against ${b.path}: ${b.newFindings.length} new finding${b.newFindings.length === 1 ? '' : 's'}${b.newFindings.length ? ` (${b.newFindings.slice(0, 5).join(', ')}${b.newFindings.length > 5 ? ', ...' : ''})` : ''}, `
    + `${b.goneFindings.length} gone${moved.length ? `; ${moved.join('; ')}` : '; no metric moved'}${b.incomplete ? ' (only the findings each report lists were compared)' : ''}`;
}


/** "anomalies (connections): synack-not-captured 2, ..." for the kinds seen, or null when none. */
export function anomalyLine(a: Record<string, number>): string | null {
  const seen = Object.entries(a).filter(([, n]) => n > 0);
  return seen.length ? `anomalies (connections): ${seen.map(([k, n]) => `${k} ${n}`).join(', ')} (tcpdiag flows --anomalies lists them)` : null;
}
