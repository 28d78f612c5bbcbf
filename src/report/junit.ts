import { findingFramesCell } from './frames.js';
import type { GateResult } from './gates.js';
import type { Report } from './model.js';

/**
 * JUnit XML, as GitLab, Jenkins and GitHub test reporters read it: one testsuite per capture,
 * one testcase per gate (a metric gate, which covers every capture, in a suite of its own when
 * there are several captures), a <failure> with the findings' sentences and frames.
 */
const x = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
  // XML 1.0 has no place for most control characters.
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

function testcase(g: GateResult, suite: string, capId: number | null): string {
  const fs = capId === null ? g.findings : g.findings.filter((f) => f.captureId === capId);
  // A finding gate fails in the suite of each capture its findings are in (a cause without findings: in every suite).
  const failed = g.failed && (capId === null || fs.length > 0 || g.captureIds.length === 0);
  const body = failed
    ? `<failure message="${x(g.message)}" type="tcpdiag.gate">${x([g.message, ...fs.map((f) => `${f.id}: ${f.summary}${f.evidence.frames?.length ? ` (frames ${findingFramesCell(f, ', ')})` : ''}`)].join('\n'))}</failure>`
    : '';
  return `    <testcase classname="tcpdiag.${x(suite)}" name="${x(g.gate)}">${body}</testcase>`;
}

export function renderJunit(r: Report): string {
  const suites: string[] = [];
  let tests = 0, failures = 0;
  const metricGates = r.gates.filter((g) => g.kind === 'metric');
  const findingGates = r.gates.filter((g) => !metricGates.includes(g));
  const one = r.captures.length === 1;
  for (const c of r.captures) {
    const cases = [...findingGates, ...(one ? metricGates : [])].map((g) => testcase(g, c.name, one && metricGates.includes(g) ? null : c.id));
    const fails = cases.filter((k) => k.includes('<failure')).length;
    tests += cases.length; failures += fails;
    suites.push(`  <testsuite name="${x(c.path)}" tests="${cases.length}" failures="${fails}" errors="${c.error ? 1 : 0}">`, ...cases,
      ...(c.error ? [`    <testcase classname="tcpdiag.${x(c.name)}" name="read the capture"><error message="${x(c.error)}"/></testcase>`] : []), '  </testsuite>');
  }
  if (!one && metricGates.length) {
    const cases = metricGates.map((g) => testcase(g, 'all captures', null));
    const fails = cases.filter((k) => k.includes('<failure')).length;
    tests += cases.length; failures += fails;
    suites.push(`  <testsuite name="all captures" tests="${cases.length}" failures="${fails}">`, ...cases, '  </testsuite>');
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="tcpdiag" tests="${tests}" failures="${failures}">\n${suites.join('\n')}\n</testsuites>\n`;
}
