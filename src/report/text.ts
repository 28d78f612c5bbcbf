import { anomalyLine, baselineLine } from './gates.js';
import { omittedNote, OTHER_ANSWER, type Report } from './model.js';
import { connectCell, decodeAsSuffix, fileFramesText, filterScopeText, findingFramesCell, spansText, synFrameCell } from './frames.js';
import { withheldText } from './clock.js';
import { readingLines, skippedLine } from './skipped.js';
import { renderTable } from './table.js';

export interface TextOptions {
  color: boolean;
  quiet: boolean;
  /** Worst connections / findings listed in the table. */
  maxRows?: number;
  /** Columns to wrap to (the terminal's width on a TTY); 100 otherwise. */
  width?: number;
}

/** Table column widths scaled to the line width (a table adds a border per column and two at the ends). */
function cols(width: number, shares: number[], min = 4): number[] {
  const inner = Math.max(shares.length * (min + 1), width - shares.length - 1);
  const total = shares.reduce((a, b) => a + b, 0);
  const w = shares.map((x) => Math.max(min, Math.floor((inner * x) / total)));
  // Minimums can push the sum past the line: take the excess from the widest column.
  const over = w.reduce((a, b) => a + b, 0) - inner;
  if (over > 0) { const i = w.indexOf(Math.max(...w)); w[i] = Math.max(min, w[i] - over); }
  return w;
}

const paint = (on: boolean, code: number, s: string): string => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
const SEV_COLOR = { error: 31, warning: 33, info: 36 } as const;

/** The terminal report: verdict first, then causes, remedies and tables. */
export function renderText(r: Report, o: TextOptions): string {
  const out: string[] = [];
  // A terminal gets lines of its width; a pipe or file gets the verdict on one line (for grep) and 100 columns.
  const width = Math.max(60, o.width ?? 100);
  const status = r.verdict.status === 'ok' ? paint(o.color, 32, 'OK') : r.verdict.status === 'problem' ? paint(o.color, 31, 'PROBLEM') : paint(o.color, 33, 'WARNING');
  out.push(o.width !== undefined ? wrap(`${status}: ${r.verdict.headline}`, width, '') : `${status}: ${r.verdict.headline}`);
  for (const c of r.captures) if (c.interrupted) out.push(paint(o.color, 33, `warning: ${c.name} was not read to the end: the run reading it into the store was interrupted; results cover the connections written before`));
  for (const c of r.captures) if (c.error) out.push(paint(o.color, 33, `warning: ${c.name} was read only up to the damage (${c.error}); results cover the packets before it`));
  for (const c of r.captures) { const s = skippedLine(c); if (s !== null) out.push(paint(o.color, 33, s)); }
  for (const c of r.captures) for (const l of readingLines(c).filter((x) => x !== skippedLine(c))) out.push(l);
  for (const g of r.gates) out.push(`${g.failed ? paint(o.color, 31, 'FAIL') : paint(o.color, 32, 'pass')} --fail-on ${g.gate}: ${g.message}`);
  if (r.baseline) out.push(baselineLine(r.baseline));
  if (o.quiet) return fit(out, o.width);

  out.push('');
  out.push(r.captures.map((c) => `${c.name}${c.pieces.length > 1 ? ` and ${c.pieces.length - 1} more file${c.pieces.length > 2 ? 's' : ''}` : ''}: ${c.format ?? '?'}${c.compression ? `+${c.compression}` : ''}, ${c.frames} frame${c.frames === 1 ? '' : 's'}, ${c.tcpPackets} TCP, ${c.connections} connection${c.connections === 1 ? '' : 's'}${c.durationS !== null ? ` over ${c.durationS.toFixed(3)} s` : ' (no span: its clock is not elapsed time)'}`).join('\n'));
  const t = r.totals;
  out.push(`connections ${t.connections}, attempts ${t.attempts}, established ${t.established}${t.notCompleted ? `, SYN-ACK not acknowledged ${t.notCompleted}` : ''}, refused ${t.refused}${t.otherAnswer ? `, ${OTHER_ANSWER} ${t.otherAnswer}` : ''}, unanswered ${t.unanswered}, SYN retransmits ${t.synRetransmits}, answered by a stale ACK ${t.staleAcks}`
    + (t.handshakeRttMs.p50 !== null ? `, handshake RTT p50 ${t.handshakeRttMs.p50} ms p99 ${t.handshakeRttMs.p99} ms` : '') + withheldText(t));
  const anomalies = anomalyLine(r.anomalies ?? {});
  if (anomalies) out.push(anomalies);

  for (const [i, c] of r.causes.entries()) {
    out.push('');
    out.push(paint(o.color, 1, `Cause ${i + 1}: ${c.title}`) + ` [${paint(o.color, SEV_COLOR[c.severity], c.severity)}, confidence ${c.confidence}]`);
    out.push(wrap(c.explanation, width, '  '));
    const ev = c.evidence.slice(0, 3);
    for (const e of ev) {
      const scope = filterScopeText(e.filterSelects);
      const needs = decodeAsSuffix(e.decodeAs);
      if (e.files) {
        const parts = e.files.map((x) => `${fileFramesText(x)}${x.filter ? ` (Wireshark, in ${x.file}${scope ? `, ${scope}` : ''}: ${x.filter}${needs})` : ''}`).join('; ');
        out.push(wrap(`- ${e.capture ? `${e.capture}: ` : ''}${spansText(e.files)}${parts}`, width, '  '));
        continue;
      }
      const where = [e.capture ?? '', e.frames.length ? `frame${e.frames.length === 1 ? '' : 's'} ${e.frames.join(', ')}` : ''].filter(Boolean).join(': ');
      out.push(wrap(`- ${where}${e.filter ? `${where ? '  ' : ''}(Wireshark${scope ? `, ${scope}` : ''}: ${e.filter}${needs})` : ''}`, width, '  '));
    }
  }

  if (r.remedies.length) {
    out.push('');
    out.push(paint(o.color, 1, 'Remedies, best first'));
    out.push(renderTable({ head: ['#', 'remedy', 'where', 'setting', 'cost / risk'], colWidths: cols(width, [4, 28, 13, 60, 18]), wordWrap: true,
      rows: r.remedies.map((m, i) => [i + 1, m.title, m.where, m.setting, `${m.cost} / ${m.risk}`]) }));
  }
  if (r.withheld.length) {
    out.push('Not recommended here:');
    for (const w of r.withheld) out.push(wrap(`- ${w.title}: ${w.reason}`, width, '  ').replace(/^ {2}/, ''));
  }

  const counts = Object.entries(r.findingCounts);
  if (counts.length) {
    out.push('');
    out.push(renderTable({ head: ['detector', 'error', 'warning', 'info'], rows: counts.map(([d, n]) => [d, n.error, n.warning, n.info]) }));
    const top = r.findings.filter((f) => f.severity !== 'info').slice(0, o.maxRows ?? 10);
    if (top.length) {
      out.push(renderTable({ head: ['severity', 'finding', 'frames'], colWidths: cols(width, [10, 96, 20], 8), wordWrap: true,
        rows: top.map((f) => [paint(o.color, SEV_COLOR[f.severity], f.severity), `${f.id}\n${f.summary}`, findingFramesCell(f, ' ', 6)]) }));
      const rest = r.findings.filter((f) => f.severity !== 'info').length - top.length;
      if (rest > 0) out.push(`... and ${rest} more (use --format md or json for ${r.findingsOmitted > 0 ? `the first ${r.findings.length}` : 'all'})`);
    }
    // Info-level findings (hosts behind NAT, MSS clamping, who closes first) one line each:
    // --fail-on info counts them, so the terminal shows them.
    const info = r.findings.filter((f) => f.severity === 'info');
    for (const f of info.slice(0, o.maxRows ?? 10)) out.push(wrap(`${paint(o.color, SEV_COLOR.info, 'info')} ${f.id}: ${f.summary}`, width, '  ').replace(/^ {2}/, ''));
    if (info.length > (o.maxRows ?? 10)) out.push(`... and ${info.length - (o.maxRows ?? 10)} more info findings`);
    if (r.findingsOmitted > 0) out.push(omittedNote(r.findingsOmitted));
  }
  if (r.worstConnections.length) {
    out.push('');
    out.push(paint(o.color, 1, 'Worst connections'));
    out.push(renderTable({ head: ['capture', 'client', 'server', 'state', 'history', 'SYNs', 'answer', 'connect ms', 'SYN frame'],
      ...(width < 130 ? { colWidths: cols(width, [14, 22, 22, 7, 11, 6, 8, 9, 7], 5), wordWrap: true, wrapOnWordBoundary: false } : {}),
      rows: r.worstConnections.map((w) => [w.capture, w.client, w.server, w.state, w.history, w.syns, w.answer, connectCell(w), synFrameCell(w)]) }));
  }
  return fit(out, o.width);
}

const visible = (l: string): number => l.replace(/\x1b\[[0-9;]*m/g, '').length;

/** On a terminal, every line that is not a table's fits its width (tables are sized to it). */
function fit(out: string[], width: number | undefined): string {
  const lines = out.join('\n').split('\n');
  if (width === undefined) return `${lines.join('\n')}\n`;
  const w = Math.max(60, width);
  return `${lines.map((l) => (visible(l) > w && !/^[┌│├└]/.test(l) ? wrap(l, w, '  ').replace(/^ {2}/, '') : l)).join('\n')}\n`;
}

export function wrap(s: string, width: number, indent: string): string {
  const words = s.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line.length + w.length + 1 > width - indent.length && line) { lines.push(indent + line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}
