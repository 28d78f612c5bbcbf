import { connectCell, decodeAsCommand, decodeAsText, fileFramesText, filterScopeText, findingFramesCell, spansText, synFrameCell } from './frames.js';
import { readingLines } from './skipped.js';
import { omittedNote, OTHER_ANSWER, type Report } from './model.js';
import { isoTime as iso } from './time.js';
import { maxOf, minOf } from '../detectors/minmax.js';
import { axes, bars, esc, legend, niceTicks, plot, stepLine, svgOpen, timeUnit } from './svg.js';

const ms = (x: number | null): string => (x === null ? '-' : `${x} ms`);

/** "100 ms", "1 s", "10 min": bucket widths come from a fixed ladder, so exact values read best. */
function duration(usec: number): string {
  if (usec >= 3.6e9) return `${usec / 3.6e9} h`;
  if (usec >= 6e7) return `${usec / 6e7} min`;
  if (usec >= 1e6) return `${usec / 1e6} s`;
  return `${usec / 1e3} ms`;
}

/** Relative time of a packet, precise enough to tell a retransmit from its original. */
function rel(usec: number): string {
  return usec < 1e6 ? `+${(usec / 1e3).toFixed(3)} ms` : `+${(usec / 1e6).toFixed(6)} s`;
}

const WIDE = { width: 860, height: 280, left: 64, right: 20, top: 28, bottom: 44 };

/**
 * Two panels on one time axis: failures are a handful against hundreds of new
 * connections, so on a shared y scale they would vanish into the baseline.
 */
function timelineChart(r: Report): string {
  const { buckets, bucketUsec } = r.timeline;
  const t0 = buckets[0].tUsec;
  const u = timeUnit(buckets.length * bucketUsec);
  const xs = buckets.map((b) => (b.tUsec - t0) / u.div);
  const w = bucketUsec / u.div;
  const conns = buckets.map((b) => b.newConnections), rtx = buckets.map((b) => b.synRetransmits), stale = buckets.map((b) => b.staleAcks);
  const per = `per ${duration(bucketUsec)}`;
  const f = { width: 860, height: 360, left: 64, right: 20, top: 28, bottom: 180 };
  const cTicks = niceTicks(Math.max(1, maxOf(conns)), 4), bTicks = niceTicks(Math.max(1, maxOf(rtx), maxOf(stale)), 3);
  const top = plot(f, buckets.length * w, cTicks[cTicks.length - 1]);
  const low = plot({ ...f, top: 212, bottom: 44 }, buckets.length * w, bTicks[bTicks.length - 1]);
  const n = (k: number, one: string): string => `${k} ${one}${k === 1 ? '' : 's'}`;
  const tip = (i: number): string => `${iso(buckets[i].tUsec)}: ${n(conns[i], 'new connection')}, ${n(rtx[i], 'SYN retransmit')}, ${n(stale[i], 'stale ACK')}`;
  return svgOpen('chart-timeline', f, `New connections (top), SYN retransmits and stale ACKs (bottom) ${per}`)
    + axes(top, [], cTicks, '', per) + bars(top, xs, w, conns, 's-conn', tip)
    + legend(top, [{ cls: 's-conn', label: 'new connections', kind: 'box' }])
    + axes(low, niceTicks(low.xMax, 8), bTicks, `time since ${iso(t0)} (${u.unit})`, per)
    + bars(low, xs, w / 2, rtx, 's-rtx', tip) + bars(low, xs.map((x) => x + w / 2), w / 2, stale, 's-stale', tip)
    + legend(low, [{ cls: 's-rtx', label: 'SYN retransmits', kind: 'box' }, { cls: 's-stale', label: 'stale ACKs answering a SYN', kind: 'box' }], 204)
    + '</svg>';
}

/** Rates are drawn per second over buckets of at least a second: a shorter bucket is a burst, not a rate. */
const RATE_BUCKET_USEC = 1e6;

function rateChart(r: Report): string {
  const { buckets: fine, bucketUsec: fineUsec, sustainablePerS: limit, inUseSustainablePerS: inUse } = r.timeline;
  const bucketUsec = Math.max(fineUsec, RATE_BUCKET_USEC);
  const per = Math.round(bucketUsec / fineUsec);
  const buckets: { tUsec: number; newConnections: number }[] = [];
  for (let i = 0; i < fine.length; i += per) buckets.push({ tUsec: fine[i].tUsec, newConnections: fine.slice(i, i + per).reduce((n, b) => n + b.newConnections, 0) });
  const spanUsec = fine.length * fineUsec;
  if (spanUsec < RATE_BUCKET_USEC) {
    const n = fine.reduce((a, b) => a + b.newConnections, 0);
    return `<p class="muted">${esc(`A burst of ${n} new connection${n === 1 ? '' : 's'} in under a second: too short to set a rate per second against the ${limit.toFixed(0)}/s the port range sustains.`)}</p>`;
  }
  const t0 = buckets[0].tUsec;
  const u = timeUnit(buckets.length * bucketUsec);
  const xs = buckets.map((b) => (b.tUsec - t0) / u.div);
  const w = bucketUsec / u.div;
  const rates = buckets.map((b) => b.newConnections / (bucketUsec / 1e6));
  const peak = maxOf(rates);
  // A limit far above the peak would flatten the curve to the axis; say so instead of drawing it.
  const limitOnChart = limit > 0 && limit <= 4 * Math.max(peak, 1e-9);
  const yTicks = niceTicks(Math.max(limitOnChart ? limit * 1.1 : 0, peak * 1.1, 1), 4);
  const p = plot(WIDE, buckets.length * w, yTicks[yTicks.length - 1]);
  let extra = '';
  const line = (v: number, cls: string, label: string): string => {
    const y = p.y(v).toFixed(1);
    return `<g class="${cls}"><line x1="${p.left}" x2="${p.width - p.right}" y1="${y}" y2="${y}" stroke-dasharray="6 4"/>`
      + `<text x="${p.width - p.right - 4}" y="${(Number(y) - 5).toFixed(1)}" text-anchor="end">${esc(label)}</text></g>`;
  };
  if (limitOnChart) extra += line(limit, 's-limit', `sustainable ${limit.toFixed(0)}/s`);
  else if (limit > 0) extra += `<text class="note" x="${p.width - p.right - 4}" y="${p.top + 12}" text-anchor="end">sustainable rate ${esc(limit.toFixed(0))}/s is ${esc((limit / Math.max(peak, 1e-9)).toFixed(0))}x the peak, off the scale</text>`;
  // The ports actually in use are the binding limit when far fewer than the range.
  if (inUse !== null && inUse <= yTicks[yTicks.length - 1]) extra += line(inUse, 's-inuse', `the ports in use sustain ${inUse.toFixed(2)}/s`);
  const items: Parameters<typeof legend>[1] = [{ cls: 's-rate', label: 'new connections per second', kind: 'line' }];
  if (limitOnChart) items.push({ cls: 's-limit', label: 'sustainable for port range and TIME_WAIT', kind: 'dash' });
  if (inUse !== null) items.push({ cls: 's-inuse', label: 'sustainable for the source ports in use', kind: 'dash' });
  return svgOpen('chart-rate', WIDE, `New-connection rate against the sustainable rate${limit > 0 ? ` of ${limit.toFixed(0)}/s` : ''}`)
    + axes(p, niceTicks(p.xMax, 8), yTicks, `time since ${iso(t0)} (${u.unit})`, 'new connections (1/s)')
    + stepLine(p, xs, w, rates, 's-rate') + extra + legend(p, items) + '</svg>';
}

const PREV = ' [previous connection]';

function ladderChart(l: NonNullable<Report['ladder']>): string {
  const { client, server } = l;
  const row = 34, top = 70, cx = 250, sx = 760;
  const isPrev = (i: number): boolean => l.packets[i]?.label.endsWith(PREV) ?? false;
  // The line between the previous connection and this one gets a row of its own.
  const gapAt = l.packets.findIndex((_, i) => i > 0 && isPrev(i - 1) && !isPrev(i));
  const f = { width: 860, height: top + (l.packets.length + (gapAt > 0 ? 1 : 0)) * row + 20, left: 0, right: 0, top: 0, bottom: 0 };
  const t0 = minOf(l.packets.map((p) => p.tUsec));
  const o: string[] = [svgOpen('chart-ladder', f, `Packet ladder: ${l.title}`)];
  for (const [x, name, addr] of [[cx, 'client', client], [sx, 'server', server]] as const) {
    o.push(`<g class="actor"><rect x="${x - 90}" y="8" width="180" height="40" rx="4"/><text x="${x}" y="24" text-anchor="middle" class="actor-name">${name}</text>`
      + `<text x="${x}" y="40" text-anchor="middle"${addr.length > 23 ? ' textLength="170" lengthAdjust="spacingAndGlyphs"' : ''}>${esc(addr === name ? '' : addr)}</text>`
      + `<line class="lifeline" x1="${x}" x2="${x}" y1="48" y2="${f.height - 10}"/></g>`);
  }
  o.push(`<text class="col-head" x="10" y="${top - 12}">frame  time</text>`);
  l.packets.forEach((p, i) => {
    const prev = isPrev(i);
    const label = prev ? p.label.slice(0, -PREV.length) : p.label;
    const cls = ['pkt', prev ? 'prev' : '', /stale ACK|RST/.test(label) ? 'bad' : /retransmit/.test(label) ? 'warn' : ''].filter(Boolean).join(' ');
    const y = top + (gapAt > 0 && i >= gapAt ? i + 1 : i) * row + 10;
    if (i === gapAt) {
      const gapS = (p.tUsec - l.packets[i - 1].tUsec) / 1e6;
      o.push(`<g class="gap"><line x1="10" x2="${f.width - 10}" y1="${y - row}" y2="${y - row}"/><rect x="${(cx + sx) / 2 - 190}" y="${y - row - 10}" width="380" height="18"/>`
        + `<text x="${(cx + sx) / 2}" y="${y - row + 4}" text-anchor="middle">${esc(`${gapS >= 1 ? `${gapS.toFixed(3)} s` : `${(gapS * 1e3).toFixed(3)} ms`} later: a new connection on the same ports`)}</text></g>`);
    }
    const [x1, x2] = p.fromClient ? [cx, sx] : [sx, cx];
    const y2 = y + 12, dir = Math.sign(x2 - x1);
    const head = `${x2},${y2} ${x2 - dir * 10},${y2 - 5.5} ${x2 - dir * 9},${y2 + 3.5}`;
    const frameNo = p.fileFrame ? `${p.fileFrame.frame} of ${p.fileFrame.file}` : String(p.frame);
    const when = `#${frameNo}  ${rel(p.tUsec - t0)}`;
    o.push(`<g class="${cls}"><title>${esc(`frame ${frameNo}, ${rel(p.tUsec - t0)}: ${label}${prev ? ' (previous connection)' : ''}`)}</title>`
      // A file name makes the column wider: kept left of the client's lifeline (cx) all the same.
      + `<text class="when" x="10" y="${y + 10}"${p.fileFrame && when.length > 30 ? ` textLength="${cx - 30}" lengthAdjust="spacingAndGlyphs"` : ''}>${esc(when)}</text>`
      + `<line x1="${x1}" y1="${y}" x2="${x2 - dir * 8}" y2="${y2 - 0.4}"/><polygon points="${head}"/>`
      + `<text class="lbl" x="${(cx + sx) / 2}" y="${y - 4}" text-anchor="middle">${esc(label)}${prev ? ' (previous connection)' : ''}</text></g>`);
  });
  o.push('</svg>');
  return o.join('');
}

const table = (head: string[], rows: string[][], cls = ''): string =>
  `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`
  + `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

/** Finding ids are path-like; letting them wrap only after a slash keeps each part readable. */
const idBreaks = (id: string): string => esc(id).replace(/\//g, '/<wbr>');
const badge = (cls: string, text: string): string => `<span class="badge ${esc(cls)}">${esc(text)}</span>`;
const anchor = (id: string): string => `remedy-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;

const CSS = `
:root{--fg:#1b1f24;--muted:#5b636d;--line:#d5dae0;--ok:#1a7f37;--warn:#9a6700;--bad:#c62828;--conn:#5b8def;--rtx:#e8890c;--stale:#c62828}
*{box-sizing:border-box}body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.25em;border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:2em}h3{font-size:1.08em;margin:1.2em 0 .3em}
.meta,.muted{color:var(--muted)}code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;padding:1px 4px;border-radius:3px;overflow-wrap:break-word}
.verdict{border-left:6px solid;padding:12px 16px;border-radius:4px;margin:16px 0;font-size:1.05em}
.verdict.ok{border-color:var(--ok);background:#eaf6ec}.verdict.warning{border-color:var(--warn);background:#fff6e0}.verdict.problem{border-color:var(--bad);background:#fdecec}
.verdict strong{text-transform:uppercase;margin-right:.5em}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin:12px 0}
.stats div{border:1px solid var(--line);border-radius:4px;padding:6px 10px}.stats .wide{grid-column:span 2}.stats dt{color:var(--muted);font-size:.8em}.stats dd{margin:0;font-size:1.15em;font-weight:600}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:.92em}th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}
table.counts{width:auto;min-width:50%}
.badge{display:inline-block;font-size:.78em;padding:0 7px;border-radius:9px;border:1px solid currentColor;margin-left:6px;vertical-align:middle}
.badge.error,.badge.high,.badge.problem{color:var(--bad)}.badge.warning,.badge.medium{color:var(--warn)}.badge.info,.badge.low,.badge.ok{color:var(--muted)}
.cause{border:1px solid var(--line);border-radius:6px;padding:2px 16px 10px;margin:12px 0}.evidence li{margin:4px 0}
.figure{margin:12px 0;overflow-x:auto}svg.chart{width:100%;max-width:1000px;height:auto;font:12px system-ui,sans-serif;display:block}
svg .grid{stroke:#eceff3}svg .axis,svg .tickmark{stroke:#8a939d}svg .tick{fill:#5b636d;font-size:11px}svg .axis-label{fill:#333;font-size:12px}svg .note{fill:var(--muted);font-style:italic}
svg .legend text{fill:#333}.s-conn rect{fill:var(--conn)}.s-rtx rect{fill:var(--rtx)}.s-stale rect{fill:var(--stale)}.s-rate path,.s-rate line{stroke:var(--conn);stroke-width:2}.s-rate circle{fill:var(--conn)}
.s-limit line{stroke:var(--bad);stroke-width:1.5}.s-limit text{fill:var(--bad)}.s-inuse line{stroke:var(--warn);stroke-width:1.5}.s-inuse text{fill:var(--warn)}
.actor rect{fill:#f6f8fa;stroke:#8a939d}.actor text{font:12px ui-monospace,monospace;fill:#333}.actor .actor-name{font:600 13px system-ui,sans-serif}.lifeline{stroke:#8a939d;stroke-dasharray:4 3}
.col-head{fill:var(--muted);font:11px ui-monospace,monospace}.pkt line{stroke:#24557a;stroke-width:1.6}.pkt polygon{fill:#24557a}.pkt text{font:12px ui-monospace,monospace;fill:#1b1f24}
.pkt .when{fill:var(--muted)}.pkt.warn line{stroke:var(--rtx)}.pkt.warn polygon{fill:var(--rtx)}.pkt.bad line{stroke:var(--bad);stroke-width:2.2}.pkt.bad polygon,.pkt.bad .lbl{fill:var(--bad)}.pkt.bad .lbl{font-weight:600}
.pkt.prev line{stroke:#9aa3ad;stroke-dasharray:5 3}.pkt.prev polygon{fill:#9aa3ad}.pkt.prev .lbl{fill:#6b737d;font-style:italic}.gap line{stroke:#bbb;stroke-dasharray:2 3}.gap rect{fill:#fff}.gap text{fill:var(--muted);font-style:italic}
footer{margin-top:3em;color:var(--muted);font-size:.85em}
@media print{body{max-width:none;padding:0;font-size:11pt}h2{break-after:avoid}.cause,.figure,tr{break-inside:avoid}
.verdict,.badge,svg{print-color-adjust:exact;-webkit-print-color-adjust:exact}.figure{overflow:visible}a{color:inherit;text-decoration:none}}
`;

/** Escaped text whose `backtick spans` (the settings are written for Markdown too) become <code>. */
const code = (s: string): string => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');

/** One self-contained HTML page: no scripts, no external resources, prints on paper. */

/** ' (this connection ...)' before a filter that selects more than the frames listed. */
const selectsHtml = (scope: Parameters<typeof filterScopeText>[0]): string => { const t = filterScopeText(scope); return t ? ` (${esc(t)})` : ''; };
const needsHtml = (d: Parameters<typeof decodeAsText>[0]): string => (d?.length ? `, only with ${esc(decodeAsText(d))}: <code>${esc(decodeAsCommand(d))}</code>` : '');
export function renderHtml(r: Report, opts: { quiet?: boolean } = {}): string {
  const o: string[] = [];
  const t = r.totals;
  o.push('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    // Forbids every fetch, so a report opened from a ticket can never call out.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>tcpdiag: ${esc(r.verdict.status)} - ${esc(r.captures.map((c) => c.name).join(', ') || 'no captures')}</title><style>${CSS}</style></head><body>`);
  o.push('<header><h1>tcpdiag report</h1>', `<div class="meta">${esc(r.captures.map((c) => c.name).join(', '))}</div></header>`);
  o.push(`<section id="verdict" class="verdict ${esc(r.verdict.status)}"><strong>${esc(r.verdict.status)}</strong>${esc(r.verdict.headline)}</section>`);
  for (const n of r.captures.flatMap(readingLines)) o.push(`<p class="muted">${esc(n)}</p>`);
  if (opts.quiet) { o.push(`<footer>tcpdiag ${esc(r.tool.version)}, report schema ${esc(r.schemaVersion)}.</footer></body></html>\n`); return o.join('\n'); }

  o.push('<section id="captures"><h2>Captures</h2>', table(['file', 'format', 'frames', 'TCP packets', 'connections', 'from', 'to', 'read'], r.captures.map((c) => [
    `<code>${esc(c.name)}</code>${c.pieces.length > 1 ? ` and ${c.pieces.length - 1} more file${c.pieces.length > 2 ? 's' : ''}` : ''}`, esc(`${c.format ?? '?'}${c.compression ? `+${c.compression}` : ''}`), esc(c.frames), esc(c.tcpPackets), esc(c.connections),
    esc(iso(c.firstTsUsec)), esc(iso(c.lastTsUsec)), c.interrupted ? '<span class="badge warning">interrupted</span>' : c.error ? `<span class="badge warning">stopped</span> ${esc(c.error)}` : 'whole',
  ])));
  const stats: [string, string | number][] = [['connections', t.connections], ['attempts', t.attempts], ['established', t.established], ...(t.notCompleted ? [['SYN-ACK not acknowledged', t.notCompleted] as [string, number]] : []), ['refused', t.refused], ...(t.otherAnswer ? [[OTHER_ANSWER, t.otherAnswer] as [string, number]] : []),
    ['unanswered', t.unanswered], ['SYN retransmits', t.synRetransmits], ['answered by a stale ACK', t.staleAcks], ['handshake RTT p50 / p99', `${ms(t.handshakeRttMs.p50)} / ${ms(t.handshakeRttMs.p99)}`],
    ['connect p50 / p99 / max', `${ms(t.connectMs.p50)} / ${ms(t.connectMs.p99)} / ${ms(t.connectMs.max)}`]];
  o.push(`<dl class="stats">${stats.map(([k, v]) => `<div${k.includes(' / ') ? ' class="wide"' : ''}><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>`);
  o.push(`<p class="muted">Settings: TIME_WAIT ${esc(r.settings.timeWaitS)} s, client port range ${esc(r.settings.portRange[0])}-${esc(r.settings.portRange[1])}.</p></section>`);

  o.push('<section id="timeline"><h2>Timeline</h2>');
  if (r.timeline.buckets.length && r.timeline.bucketUsec > 0) {
    o.push(`<div class="figure">${timelineChart(r)}</div><div class="figure">${rateChart(r)}</div>`);
  } else if (!r.timeline.clockLeftOut) o.push('<p class="muted">No connection attempts (client SYNs) in the captures, so there is nothing to chart.</p>');
  if (r.timeline.clockLeftOut) o.push(`<p class="muted">${esc(`Not charted: ${r.timeline.clockLeftOut.join(', ')}, whose clock is not elapsed time (see above).`)}</p>`);
  o.push('</section>');

  if (r.causes.length) {
    o.push('<section id="causes"><h2>Root causes</h2>');
    for (const [i, c] of r.causes.entries()) {
      o.push(`<article class="cause" id="cause-${esc(c.id)}"><h3>${i + 1}. ${esc(c.title)}${badge(c.severity, c.severity)}${badge(c.confidence, `confidence ${c.confidence}`)}</h3><p>${esc(c.explanation)}</p>`);
      if (c.evidence.length) {
        o.push(`<p><strong>Evidence</strong></p><ul class="evidence">${c.evidence.map((e) => (e.files
          ? `<li>${e.capture ? `<code>${esc(e.capture)}</code> ` : ''}${esc(spansText(e.files))}${e.files.map((x) => `${x.frames.length ? `${esc(fileFramesText(x, ''))}<code>${esc(x.file)}</code>` : `<code>${esc(x.file)}</code>`}`
            + `${x.filter ? ` &mdash; Wireshark filter for <code>${esc(x.file)}</code>${selectsHtml(e.filterSelects)}: <code class="filter">${esc(x.filter)}</code>${needsHtml(e.decodeAs)}` : ''}`).join('; ')}<br>${esc(e.text)}</li>`
          : `<li>${e.capture ? `<code>${esc(e.capture)}</code> ` : ''}frames ${esc(e.frames.join(', '))}`
          + `${e.filter ? ` &mdash; Wireshark filter${selectsHtml(e.filterSelects)}: <code class="filter">${esc(e.filter)}</code>${needsHtml(e.decodeAs)}` : ''}<br>${esc(e.text)}</li>`)).join('')}</ul>`);
      }
      if (c.remedies.length) o.push(`<p>Remedies: ${c.remedies.map((id) => `<a href="#${anchor(id)}"><code>${esc(id)}</code></a>`).join(', ')}.</p>`);
      o.push('</article>');
    }
    o.push('</section>');
  }
  if (r.ladder && r.ladder.packets.length) {
    o.push(`<section id="ladder"><h2>Packet ladder</h2><p>${esc(r.ladder.title)}. Grey dashed arrows are the previous connection; red marks stale ACKs and resets.</p><div class="figure">${ladderChart(r.ladder)}</div></section>`);
  }
  if (r.remedies.length) {
    o.push('<section id="remedies"><h2>Remedies, best first</h2>', table(['#', 'remedy', 'where', 'setting', 'cost', 'risk', 'why'], r.remedies.map((m, i) => [
      String(i + 1), `<span id="${anchor(m.id)}">${esc(m.title)}</span> <code>${esc(m.id)}</code>`, esc(m.where), code(m.setting), esc(m.cost), badge(m.risk === 'high' ? 'error' : m.risk === 'medium' ? 'warning' : 'info', m.risk), code(m.why),
    ])), '</section>');
  }
  if (r.withheld.length) {
    o.push(`<section id="withheld"><h2>Not recommended here</h2><ul>${r.withheld.map((w) => `<li><strong>${esc(w.title)}</strong> <code>${esc(w.id)}</code>: ${code(w.reason)}</li>`).join('')}</ul></section>`);
  }
  if (r.worstConnections.length) {
    o.push('<section id="worst"><h2>Worst connections</h2>', table(['capture', 'client', 'server', 'state', 'history', 'SYNs', 'answer', 'connect ms', 'SYN frame'],
      r.worstConnections.map((w) => [esc(w.capture), esc(w.client), esc(w.server), esc(w.state), `<code>${esc(w.history)}</code>`, esc(w.syns), esc(w.answer), esc(connectCell(w)), esc(synFrameCell(w))])), '</section>');
  }
  const counts = Object.entries(r.findingCounts);
  if (counts.length || r.findings.length) {
    o.push('<section id="findings"><h2>Findings</h2>');
    if (counts.length) o.push(table(['detector', 'error', 'warning', 'info'], counts.map(([d, c]) => [`<code>${esc(d)}</code>`, esc(c.error), esc(c.warning), esc(c.info)]), 'counts'));
    if (r.findings.length) {
      o.push(table(['severity', 'id', 'summary', 'frames'], r.findings.map((f) => [badge(f.severity, f.severity), `<code>${idBreaks(f.id)}</code>`, esc(f.summary), esc(findingFramesCell(f, ', '))])));
    }
    if (r.findingsOmitted > 0) o.push(`<p class="omitted">${esc(omittedNote(r.findingsOmitted))}</p>`);
    o.push('</section>');
  }
  o.push(`<footer>tcpdiag ${esc(r.tool.version)}, report schema ${esc(r.schemaVersion)}.</footer></body></html>\n`);
  return o.join('\n');
}
