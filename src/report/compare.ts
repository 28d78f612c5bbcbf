import { METRICS } from './metrics.js';
import type { Report } from './model.js';

/**
 * Before and after: did a remedy work? For each metric, the value before and after, and
 * whether the difference is more than the samples explain.
 *  - Shares (a count out of attempts): Fisher's exact test on the 2x2 table of the two counts,
 *    two-sided; a change is significant below ALPHA. Exact, so small captures are not judged by
 *    a normal approximation.
 *  - Latencies and plain counts: the values with their sample sizes; no test is claimed (the
 *    report keeps percentiles, not every value), so they read "changed" or "same", never
 *    "significant".
 * Every metric is worse when higher.
 */
export const ALPHA = 0.05;

export type Verdict = 'better' | 'worse' | 'no significant change' | 'same' | 'changed (not tested)' | 'no data';

export interface MetricChange {
  name: string;
  doc: string;
  before: number | null;
  after: number | null;
  /** For shares: [count, attempts] before and after, and the test's p-value. */
  counts: { before: [number, number]; after: [number, number]; pValue: number } | null;
  /** For latencies: how many connect times each percentile rests on. */
  samples: { before: number; after: number } | null;
  verdict: Verdict;
}

export interface Comparison { before: string; after: string; alpha: number; metrics: MetricChange[]; worse: string[]; better: string[] }

/** ln(n!) by summing logs once into a table as long as the largest n needed. */
function logFactorials(n: number): Float64Array {
  const t = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) t[i] = t[i - 1] + Math.log(i);
  return t;
}

/**
 * Two-sided Fisher exact test of [[a, b], [c, d]] (a of a+b before, c of c+d after): the sum of
 * the probabilities of every table with the same margins that is no more likely than this one.
 */
export function fisherExact(a: number, b: number, c: number, d: number): number {
  const n = a + b + c + d;
  const lf = logFactorials(n);
  const r1 = a + b, r2 = c + d, c1 = a + c, c2 = b + d;
  const logP = (x: number): number => lf[r1] + lf[r2] + lf[c1] + lf[c2] - lf[n] - lf[x] - lf[r1 - x] - lf[c1 - x] - lf[r2 - c1 + x];
  const lo = Math.max(0, c1 - r2), hi = Math.min(r1, c1);
  const p0 = logP(a);
  let p = 0;
  // Tables as likely as the observed one count, within a relative tolerance for rounding.
  for (let x = lo; x <= hi; x++) { const q = logP(x); if (q <= p0 + 1e-7) p += Math.exp(q); }
  return Math.min(1, p);
}

export function compareReports(before: Report, after: Report, names: { before: string; after: string }): Comparison {
  const metrics = METRICS.map((m): MetricChange => {
    const b = m.value(before.metrics);
    const a = m.value(after.metrics);
    const base = { name: m.name, doc: m.doc, before: b, after: a, counts: null, samples: null };
    if (b === null || a === null) return { ...base, verdict: 'no data' };
    if (m.kind === 'share' && m.counts) {
      const [x1, n1] = m.counts(before.metrics);
      const [x2, n2] = m.counts(after.metrics);
      const pValue = fisherExact(x1, n1 - x1, x2, n2 - x2);
      const verdict: Verdict = pValue >= ALPHA || a === b ? 'no significant change' : a > b ? 'worse' : 'better';
      return { ...base, counts: { before: [x1, n1], after: [x2, n2], pValue }, verdict };
    }
    const samples = m.kind === 'ms' ? { before: before.metrics.connectN, after: after.metrics.connectN } : null;
    return { ...base, samples, verdict: a === b ? 'same' : 'changed (not tested)' };
  });
  return {
    before: names.before, after: names.after, alpha: ALPHA, metrics,
    worse: metrics.filter((m) => m.verdict === 'worse').map((m) => m.name),
    better: metrics.filter((m) => m.verdict === 'better').map((m) => m.name),
  };
}

const val = (m: MetricChange, v: number | null): string => (v === null ? 'none' : m.counts ? `${(100 * v).toFixed(1)}%` : String(v));
const detail = (m: MetricChange, which: 'before' | 'after'): string => (m.counts ? ` (${m.counts[which][0]} of ${m.counts[which][1]})` : m.samples ? ` (n=${m.samples[which]})` : '');

export function renderComparisonText(c: Comparison): string {
  const out = [`before: ${c.before}`, `after:  ${c.after}`,
    c.worse.length ? `WORSE: ${c.worse.join(', ')}` : c.better.length ? `BETTER: ${c.better.join(', ')}; nothing significantly worse` : 'no significant change in any share', ''];
  for (const m of c.metrics) {
    if (m.verdict === 'no data' || (m.verdict === 'same' && m.before === 0)) continue;
    out.push(`${m.name}: ${val(m, m.before)}${detail(m, 'before')} -> ${val(m, m.after)}${detail(m, 'after')}: ${m.verdict}${m.counts ? ` (Fisher exact p=${m.counts.pValue < 1e-4 ? m.counts.pValue.toExponential(1) : m.counts.pValue.toFixed(4)})` : ''}`);
  }
  out.push('', `Shares are tested with Fisher's exact test (two-sided, significant below p=${c.alpha}); latencies and counts are shown with their sample sizes and not tested.`);
  return `${out.join('\n')}\n`;
}

export function renderComparisonMarkdown(c: Comparison): string {
  const o = ['# tcpdiag compare', '', `Before: \`${c.before}\`; after: \`${c.after}\`.`, '',
    `**${c.worse.length ? `Worse: ${c.worse.join(', ')}` : c.better.length ? `Better: ${c.better.join(', ')}` : 'No significant change in any share'}.**`, '',
    '| metric | before | after | verdict | test |', '|---|---|---|---|---|'];
  for (const m of c.metrics) {
    if (m.verdict === 'no data') continue;
    o.push(`| ${m.name} | ${val(m, m.before)}${detail(m, 'before')} | ${val(m, m.after)}${detail(m, 'after')} | ${m.verdict} | ${m.counts ? `Fisher exact p=${m.counts.pValue.toPrecision(2)}` : 'not tested'} |`);
  }
  o.push('', `Shares: Fisher's exact test, two-sided, significant below p=${c.alpha}. Latencies and counts: shown with their sample sizes, not tested.`, '');
  return o.join('\n');
}
