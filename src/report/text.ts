import Table from 'cli-table3';
import { omittedNote, type Report } from './model.js';

export interface TextOptions {
  color: boolean;
  quiet: boolean;
  /** Worst connections / findings listed in the table. */
  maxRows?: number;
}

const paint = (on: boolean, code: number, s: string): string => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
const SEV_COLOR = { error: 31, warning: 33, info: 36 } as const;

/** The terminal report: verdict first, then causes, remedies and tables. */
export function renderText(r: Report, o: TextOptions): string {
  const out: string[] = [];
  const status = r.verdict.status === 'ok' ? paint(o.color, 32, 'OK') : r.verdict.status === 'problem' ? paint(o.color, 31, 'PROBLEM') : paint(o.color, 33, 'WARNING');
  out.push(`${status}: ${r.verdict.headline}`);
  for (const c of r.captures) if (c.error) out.push(paint(o.color, 33, `warning: ${c.name} was read only up to the damage (${c.error}); results cover the packets before it`));
  if (o.quiet) return `${out.join('\n')}\n`;

  out.push('');
  out.push(r.captures.map((c) => `${c.name}: ${c.format ?? '?'}${c.compression ? `+${c.compression}` : ''}, ${c.frames} frames, ${c.tcpPackets} TCP, ${c.connections} connections over ${c.durationS.toFixed(3)} s`).join('\n'));
  const t = r.totals;
  out.push(`connections ${t.connections}, attempts ${t.attempts}, established ${t.established}, refused ${t.refused}, unanswered ${t.unanswered}, SYN retransmits ${t.synRetransmits}, stale ACKs ${t.staleAcks}`
    + (t.handshakeRttMs.p50 !== null ? `, handshake RTT p50 ${t.handshakeRttMs.p50} ms p99 ${t.handshakeRttMs.p99} ms` : ''));

  for (const [i, c] of r.causes.entries()) {
    out.push('');
    out.push(paint(o.color, 1, `Cause ${i + 1}: ${c.title}`) + ` [${paint(o.color, SEV_COLOR[c.severity], c.severity)}, confidence ${c.confidence}]`);
    out.push(wrap(c.explanation, 100, '  '));
    const ev = c.evidence.slice(0, 3);
    for (const e of ev) out.push(`  - ${e.capture ? `${e.capture}: ` : ''}frames ${e.frames.join(', ')}${e.filter ? `  (Wireshark: ${e.filter})` : ''}`);
  }

  if (r.remedies.length) {
    out.push('');
    out.push(paint(o.color, 1, 'Remedies, best first'));
    const rt = new Table({ head: ['#', 'remedy', 'where', 'setting', 'cost / risk'], colWidths: [4, 28, 13, 60, 18], wordWrap: true, style: { head: [], border: [] } });
    r.remedies.forEach((m, i) => rt.push([i + 1, m.title, m.where, m.setting, `${m.cost} / ${m.risk}`]));
    out.push(rt.toString());
  }
  if (r.withheld.length) {
    out.push('Not recommended here:');
    for (const w of r.withheld) out.push(wrap(`- ${w.title}: ${w.reason}`, 100, '  ').replace(/^ {2}/, ''));
  }

  const counts = Object.entries(r.findingCounts);
  if (counts.length) {
    out.push('');
    const ft = new Table({ head: ['detector', 'error', 'warning', 'info'], style: { head: [], border: [] } });
    for (const [d, n] of counts) ft.push([d, n.error, n.warning, n.info]);
    out.push(ft.toString());
    const top = r.findings.filter((f) => f.severity !== 'info').slice(0, o.maxRows ?? 10);
    if (top.length) {
      const wt = new Table({ head: ['severity', 'finding', 'frames'], colWidths: [10, 96, 20], wordWrap: true, style: { head: [], border: [] } });
      for (const f of top) wt.push([paint(o.color, SEV_COLOR[f.severity], f.severity), `${f.id}\n${f.summary}`, (f.evidence.frames ?? []).slice(0, 6).join(' ')]);
      out.push(wt.toString());
      const rest = r.findings.filter((f) => f.severity !== 'info').length - top.length;
      if (rest > 0) out.push(`... and ${rest} more (use --format md or json for ${r.findingsOmitted > 0 ? `the first ${r.findings.length}` : 'all'})`);
    }
    if (r.findingsOmitted > 0) out.push(omittedNote(r.findingsOmitted));
  }
  if (r.worstConnections.length) {
    out.push('');
    out.push(paint(o.color, 1, 'Worst connections'));
    const ct = new Table({ head: ['capture', 'client', 'server', 'state', 'history', 'SYNs', 'answer', 'connect ms', 'SYN frame'], style: { head: [], border: [] } });
    for (const w of r.worstConnections) ct.push([w.capture, w.client, w.server, w.state, w.history, w.syns, w.answer, w.connectMs ?? 'never', w.synFrame ?? '']);
    out.push(ct.toString());
  }
  return `${out.join('\n')}\n`;
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
