/**
 * Small SVG chart primitives for the HTML report. Hand-written rather than a
 * charting library so the report stays one file that opens offline and prints.
 */

/** Escapes text for HTML and SVG content and attribute values alike. */
export const esc = (s: unknown): string => String(s)
  .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Rounded to 0.1 px: enough for the eye, and keeps the file small. */
const n = (x: number): string => String(Math.round(x * 10) / 10);

/** Axis ticks at 1/2/5 x 10^k steps covering [0, max]. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Short tick label: "1.5k", "0.25", "12". */
export function fmtTick(v: number): string {
  if (Math.abs(v) >= 10_000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

/** Picks ms for short spans so ticks don't read 0.001, 0.002... */
export function timeUnit(spanUsec: number): { div: number; unit: 's' | 'ms' } {
  return spanUsec < 2e6 ? { div: 1e3, unit: 'ms' } : { div: 1e6, unit: 's' };
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface Plot extends Frame {
  xMax: number;
  yMax: number;
  x(v: number): number;
  y(v: number): number;
}

export function plot(f: Frame, xMax: number, yMax: number): Plot {
  const w = f.width - f.left - f.right;
  const h = f.height - f.top - f.bottom;
  const xm = xMax > 0 ? xMax : 1;
  const ym = yMax > 0 ? yMax : 1;
  return { ...f, xMax: xm, yMax: ym, x: (v) => f.left + (v / xm) * w, y: (v) => f.top + h - (v / ym) * h };
}

/** Opening tag with a <title> first, which screen readers and hover tooltips use. */
export function svgOpen(id: string, f: Frame, title: string, desc?: string): string {
  return `<svg id="${esc(id)}" class="chart" role="img" aria-labelledby="${esc(id)}-title" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" xmlns="http://www.w3.org/2000/svg">`
    + `<title id="${esc(id)}-title">${esc(title)}</title>${desc ? `<desc>${esc(desc)}</desc>` : ''}`;
}

/** Gridlines, tick labels and axis titles; yTicks are in data units. */
export function axes(p: Plot, xTicks: number[], yTicks: number[], xLabel: string, yLabel: string): string {
  const o: string[] = ['<g class="axes">'];
  const x0 = p.left, x1 = p.width - p.right, y0 = p.height - p.bottom;
  for (const t of yTicks) {
    const y = p.y(t);
    o.push(`<line class="grid" x1="${x0}" x2="${x1}" y1="${n(y)}" y2="${n(y)}"/>`, `<text class="tick" x="${x0 - 6}" y="${n(y + 4)}" text-anchor="end">${esc(fmtTick(t))}</text>`);
  }
  for (const t of xTicks) {
    const x = p.x(t);
    o.push(`<line class="tickmark" x1="${n(x)}" x2="${n(x)}" y1="${y0}" y2="${y0 + 5}"/>`, `<text class="tick" x="${n(x)}" y="${y0 + 18}" text-anchor="middle">${esc(fmtTick(t))}</text>`);
  }
  o.push(`<line class="axis" x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}"/>`, `<line class="axis" x1="${x0}" x2="${x0}" y1="${p.top}" y2="${y0}"/>`);
  if (xLabel) o.push(`<text class="axis-label" x="${n((x0 + x1) / 2)}" y="${p.height - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  const ym = (p.top + y0) / 2;
  o.push(`<text class="axis-label" x="14" y="${n(ym)}" text-anchor="middle" transform="rotate(-90 14 ${n(ym)})">${esc(yLabel)}</text>`, '</g>');
  return o.join('');
}

/** A step line (counts hold for the whole bucket), with points at bucket centres where non-zero. */
export function stepLine(p: Plot, xs: number[], width: number, ys: number[], cls: string): string {
  if (xs.length === 0) return '';
  let d = `M${n(p.x(xs[0]))},${n(p.y(ys[0]))}`;
  xs.forEach((x, i) => {
    if (i > 0) d += `V${n(p.y(ys[i]))}`;
    d += `H${n(p.x(x + width))}`;
  });
  // Past ~60 buckets the dots merge into a smear; the line alone reads better.
  const dots = xs.length > 60 ? '' : xs.map((x, i) => (ys[i] > 0 ? `<circle cx="${n(p.x(x + width / 2))}" cy="${n(p.y(ys[i]))}" r="2.5"/>` : '')).join('');
  return `<g class="${esc(cls)}"><path d="${d}" fill="none"/>${dots}</g>`;
}

/** Bars from 0, one per bucket, with a hover tooltip each. */
export function bars(p: Plot, xs: number[], width: number, ys: number[], cls: string, tip: (i: number) => string): string {
  const gap = Math.min(1, (p.x(width) - p.x(0)) * 0.15);
  return `<g class="${esc(cls)}">${xs.map((x, i) => {
    if (!(ys[i] > 0)) return '';
    const x0 = p.x(x) + gap / 2, x1 = p.x(x + width) - gap / 2, y = p.y(ys[i]);
    return `<rect x="${n(x0)}" y="${n(y)}" width="${n(Math.max(0.5, x1 - x0))}" height="${n(p.y(0) - y)}"><title>${esc(tip(i))}</title></rect>`;
  }).join('')}</g>`;
}

/** One row of coloured swatches and names above the plot; line swatches for line series. */
export function legend(p: Plot, items: { cls: string; label: string; kind: 'box' | 'line' | 'dash' }[], y = 14): string {
  let x = p.left + 8;
  const o: string[] = ['<g class="legend">'];
  for (const it of items) {
    const swatch = it.kind === 'box'
      ? `<rect x="${x}" y="${y - 9}" width="12" height="10"/>`
      : `<line x1="${x}" x2="${x + 16}" y1="${y - 4}" y2="${y - 4}"${it.kind === 'dash' ? ' stroke-dasharray="6 4"' : ''}/>`;
    o.push(`<g class="${esc(it.cls)}">${swatch}<text x="${x + 20}" y="${y}">${esc(it.label)}</text></g>`);
    x += 28 + it.label.length * 6.6;
  }
  o.push('</g>');
  return o.join('');
}
