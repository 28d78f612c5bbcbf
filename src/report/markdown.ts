import { omittedNote, type Report } from './model.js';

const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const iso = (usec: number | null): string => (usec === null ? '-' : new Date(Math.floor(usec / 1000)).toISOString());

/** A Markdown report for an incident ticket. */
export function renderMarkdown(r: Report): string {
  const o: string[] = [];
  o.push('# tcpdiag report', '');
  o.push(`**Verdict (${r.verdict.status}):** ${r.verdict.headline}`, '');
  o.push('## Captures', '');
  o.push('| file | format | frames | TCP packets | connections | from | to | read |', '|---|---|---|---|---|---|---|---|');
  for (const c of r.captures) {
    o.push(`| ${esc(c.name)} | ${c.format ?? '?'}${c.compression ? `+${c.compression}` : ''} | ${c.frames} | ${c.tcpPackets} | ${c.connections} | ${iso(c.firstTsUsec)} | ${iso(c.lastTsUsec)} | ${c.error ? `stopped: ${esc(c.error)}` : 'whole'} |`);
  }
  const t = r.totals;
  o.push('', `Connections ${t.connections}; attempts ${t.attempts}; established ${t.established}; refused ${t.refused}; unanswered ${t.unanswered}; SYN retransmits ${t.synRetransmits}; stale ACKs ${t.staleAcks}`
    + (t.handshakeRttMs.p50 !== null ? `; handshake RTT p50 ${t.handshakeRttMs.p50} ms, p99 ${t.handshakeRttMs.p99} ms` : '')
    + (t.connectMs.p50 !== null ? `; connect time p50 ${t.connectMs.p50} ms, p99 ${t.connectMs.p99} ms, max ${t.connectMs.max} ms` : '') + '.');
  o.push(`Settings: TIME_WAIT ${r.settings.timeWaitS} s, client port range ${r.settings.portRange[0]}-${r.settings.portRange[1]}.`, '');

  if (r.causes.length) {
    o.push('## Root causes', '');
    for (const [i, c] of r.causes.entries()) {
      o.push(`### ${i + 1}. ${c.title}`, '', `Severity **${c.severity}**, confidence **${c.confidence}**.`, '', c.explanation, '');
      if (c.evidence.length) {
        o.push('Evidence:', '');
        for (const e of c.evidence) o.push(`- ${e.capture ? `\`${e.capture}\` ` : ''}frames ${e.frames.join(', ')}${e.filter ? ` — Wireshark filter: \`${e.filter}\`` : ''}  \n  ${e.text}`);
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
    for (const w of r.worstConnections) o.push(`| ${esc(w.capture)} | ${w.client} | ${w.server} | ${w.state} | ${esc(w.history)} | ${w.syns} | ${w.answer} | ${w.connectMs ?? 'never'} | ${w.synFrame ?? ''} |`);
    o.push('');
  }
  if (r.findings.length) {
    o.push('## Findings', '', '| severity | id | summary | frames |', '|---|---|---|---|');
    for (const f of r.findings) o.push(`| ${f.severity} | \`${f.id}\` | ${esc(f.summary)} | ${(f.evidence.frames ?? []).join(', ')} |`);
    if (r.findingsOmitted > 0) o.push('', esc(omittedNote(r.findingsOmitted)));
    o.push('');
  }
  o.push(`_tcpdiag ${r.tool.version}, report schema ${r.schemaVersion}._`, '');
  return o.join('\n');
}
