import type { Finding } from '../detectors/index.js';
import { omittedNote, OTHER_ANSWER, type EvidenceItem, type Report } from './model.js';
import { anomalyLine, baselineLine } from './gates.js';
import { isoTime as iso } from './time.js';
import { connectCell, decodeAsCommand, decodeAsText, fileFramesText, filterScopeText, findingFramesCell, spansText, synFrameCell } from './frames.js';
import { withheldText } from './clock.js';
import { readingLines } from './skipped.js';

const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * GitHub refuses issue and comment bodies over 65 536 characters; Jira's default comment limit
 * is lower. The default Markdown stays under this, whatever the capture: fewer findings and
 * evidence lines are listed until it fits (the JSON and the store hold them all).
 */
export const MARKDOWN_LIMIT = 60_000;
/** Findings listed in the Markdown by default (--max-findings changes it). */
export const DEFAULT_MAX_FINDINGS = 20;
const MAX_EVIDENCE = 5;

export interface MarkdownOptions {
  /** Findings to list; the rest are counted. Infinity lists every finding the report holds. */
  maxFindings?: number;
}

/** A Markdown report for an incident ticket. */
export function renderMarkdown(r: Report, opts: MarkdownOptions = {}): string {
  const asked = opts.maxFindings ?? DEFAULT_MAX_FINDINGS;
  let out = render(r, asked, MAX_EVIDENCE);
  // Only the default is bounded: an explicit --max-findings is what the user asked for.
  if (opts.maxFindings === undefined) {
    for (let n = asked, ev = MAX_EVIDENCE; out.length > MARKDOWN_LIMIT && (n > 0 || ev > 1);) {
      if (n > 0) n = Math.floor(n / 2); else ev = Math.max(1, ev - 2);
      out = render(r, n, ev);
    }
  }
  return out;
}

function evidenceLine(e: EvidenceItem): string {
  const scope = filterScopeText(e.filterSelects);
  const selects = scope ? ` (${scope})` : '';
  const needs = e.decodeAs?.length ? `, only with ${decodeAsText(e.decodeAs)}: \`${decodeAsCommand(e.decodeAs)}\`` : '';
  if (e.files) {
    const parts = e.files.map((x) => `${fileFramesText(x, `\`${esc(x.file)}\``)}${x.filter ? ` — Wireshark filter for \`${esc(x.file)}\`${selects}: \`${x.filter}\`${needs}` : ''}`).join('; ');
    return `- ${e.capture ? `\`${esc(e.capture)}\` ` : ''}${spansText(e.files)}${parts}  \n  ${esc(e.text)}`;
  }
  const where = [e.capture ? `\`${esc(e.capture)}\`` : '', e.frames.length ? `frame${e.frames.length === 1 ? '' : 's'} ${e.frames.join(', ')}` : ''].filter(Boolean).join(' ');
  return `- ${where}${e.filter ? `${where ? ' — ' : ''}Wireshark filter${selects}: \`${e.filter}\`${needs}` : ''}${where || e.filter ? '  \n  ' : ''}${esc(e.text)}`;
}

function render(r: Report, maxFindings: number, maxEvidence: number): string {
  const o: string[] = [];
  o.push('# tcpdiag report', '');
  o.push(`**Verdict (${r.verdict.status}):** ${r.verdict.headline}`, '');
  const notes = r.captures.flatMap(readingLines);
  if (notes.length) o.push(...notes.map((n) => `- ${esc(n)}`), '');
  if (r.gates.length) {
    o.push('| gate | result | |', '|---|---|---|');
    for (const g of r.gates) o.push(`| \`--fail-on ${esc(g.gate)}\` | ${g.failed ? '**fail**' : 'pass'} | ${esc(g.message)} |`);
    o.push('');
  }
  if (r.baseline) o.push(esc(baselineLine(r.baseline)), '');
  o.push('## Captures', '');
  o.push('| file | format | frames | TCP packets | connections | from | to | read |', '|---|---|---|---|---|---|---|---|');
  for (const c of r.captures) {
    o.push(`| ${esc(c.name)}${c.pieces.length > 1 ? ` and ${c.pieces.length - 1} more file${c.pieces.length > 2 ? 's' : ''}` : ''} | ${c.format ?? '?'}${c.compression ? `+${c.compression}` : ''} | ${c.frames} | ${c.tcpPackets} | ${c.connections} | ${iso(c.firstTsUsec)} | ${iso(c.lastTsUsec)} | ${c.interrupted ? 'interrupted' : c.error ? `stopped: ${esc(c.error)}` : 'whole'} |`);
  }
  const t = r.totals;
  o.push('', `Connections ${t.connections}; attempts ${t.attempts}; established ${t.established}${t.notCompleted ? `; SYN-ACK not acknowledged ${t.notCompleted}` : ''}; refused ${t.refused}${t.otherAnswer ? `; ${OTHER_ANSWER} ${t.otherAnswer}` : ''}; unanswered ${t.unanswered}; SYN retransmits ${t.synRetransmits}; answered by a stale ACK ${t.staleAcks}`
    + (t.handshakeRttMs.p50 !== null ? `; handshake RTT p50 ${t.handshakeRttMs.p50} ms, p99 ${t.handshakeRttMs.p99} ms` : '')
    + (t.connectMs.p50 !== null ? `; connect time p50 ${t.connectMs.p50} ms, p99 ${t.connectMs.p99} ms, max ${t.connectMs.max} ms` : '') + withheldText(t, '; ') + '.');
  const anomalies = anomalyLine(r.anomalies ?? {});
  if (anomalies) o.push(`${esc(anomalies)}.`);
  o.push(`Settings: TIME_WAIT ${r.settings.timeWaitS} s, client port range ${r.settings.portRange[0]}-${r.settings.portRange[1]}.`, '');

  const cited = new Set<string>();
  if (r.causes.length) {
    o.push('## Root causes', '');
    for (const [i, c] of r.causes.entries()) {
      o.push(`### ${i + 1}. ${c.title}`, '', `Severity **${c.severity}**, confidence **${c.confidence}**.`, '', c.explanation, '');
      const ev = c.evidence.slice(0, maxEvidence);
      if (ev.length) {
        o.push('Evidence:', '');
        for (const e of ev) { o.push(evidenceLine(e)); if (e.findingId) cited.add(e.findingId); }
        if (c.evidence.length > ev.length) o.push(`- ... and ${c.evidence.length - ev.length} more in the JSON report`);
        o.push('');
      }
      if (c.remedies.length) o.push(`Remedies: ${c.remedies.map((id) => `\`${id}\``).join(', ')}.`, '');
    }
  }
  if (r.remedies.length) {
    o.push('## Remedies, best first', '', '| # | remedy | where | setting | cost | risk | why |', '|---|---|---|---|---|---|---|');
    r.remedies.forEach((m, i) => o.push(`| ${i + 1} | ${esc(m.title)} (\`${m.id}\`) | ${m.where} | ${esc(m.setting)} | ${esc(m.cost)} | ${m.risk} | ${esc(m.why)} |`));
    o.push('');
  }
  if (r.withheld.length) {
    o.push('Not recommended here:', '');
    for (const w of r.withheld) o.push(`- **${w.title}** (\`${w.id}\`): ${w.reason}`);
    o.push('');
  }
  if (r.worstConnections.length) {
    o.push('## Worst connections', '', '| capture | client | server | state | history | SYNs | answer | connect ms | SYN frame |', '|---|---|---|---|---|---|---|---|---|');
    for (const w of r.worstConnections) o.push(`| ${esc(w.capture)} | ${w.client} | ${w.server} | ${w.state} | ${esc(w.history)} | ${w.syns} | ${w.answer} | ${connectCell(w)} | ${esc(String(synFrameCell(w)))} |`);
    o.push('');
  }
  const counts = Object.entries(r.findingCounts);
  if (counts.length) {
    o.push('## Findings', '', '| detector | error | warning | info |', '|---|---|---|---|');
    for (const [d, n] of counts) o.push(`| ${d} | ${n.error} | ${n.warning} | ${n.info} |`);
    o.push('');
    // Findings not already cited as a cause's evidence, worst first, at most maxFindings.
    const rest = r.findings.filter((f) => !cited.has(f.id));
    const shown: Finding[] = rest.slice(0, Math.max(0, maxFindings));
    if (shown.length) {
      o.push('<details><summary>' + `${shown.length} of ${rest.length + r.findingsOmitted} finding${rest.length + r.findingsOmitted === 1 ? '' : 's'} not cited above` + '</summary>', '');
      o.push('| severity | id | summary | frames |', '|---|---|---|---|');
      for (const f of shown) o.push(`| ${f.severity} | \`${f.id}\` | ${esc(f.summary)} | ${esc(findingFramesCell(f, ', '))} |`);
      o.push('', '</details>', '');
    }
    const notShown = rest.length - shown.length + r.findingsOmitted;
    if (notShown > 0) o.push(esc(r.findingsOmitted > 0 && notShown === r.findingsOmitted ? omittedNote(r.findingsOmitted) : `${notShown} more finding${notShown === 1 ? '' : 's'} in the JSON report and the store (--max-findings N lists more).`), '');
  }
  o.push(`_tcpdiag ${r.tool.version}, report schema ${r.schemaVersion}._`, '');
  return o.join('\n');
}
