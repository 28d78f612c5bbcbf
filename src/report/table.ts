import stringWidth from 'string-width';

/**
 * Box tables for the terminal, drawn as cli-table3 0.6.5 draws them with the options tcpdiag
 * used (a head row, one-line borders between rows, one space of padding, no colours of its own,
 * `…` where a line is cut), so reports read the same. cli-table3 cut each cell's whole content
 * for a debug message on every line it drew, one character at a time, which is quadratic on a
 * cell with several lines: 1.3 s for the ten 600-character stale-ack findings of one report.
 * test/report/table.test.ts compares this with cli-table3 on generated tables.
 */

export interface TableSpec {
  head: string[];
  rows: unknown[][];
  /** Column widths with borders' padding (cli-table3's colWidths); a missing one fits its content. */
  colWidths?: number[];
  /** Wrap cells longer than a fixed width (on word boundaries unless wrapOnWordBoundary is false). */
  wordWrap?: boolean;
  wrapOnWordBoundary?: boolean;
}

const SGR = /\u001b\[(?:\d*;){0,5}\d*m/g;
const SGR_CAPTURE = /\u001b\[((?:\d*;){0,5}\d*)m/g;
const PAD = 1;

/** Printable ASCII only: one column a character, nothing to strip (string-width agrees). */
const PLAIN = /^[\x20-\x7e]*$/;

/** Display width: the widest line, escape codes left out, wide characters counted twice. */
export function strlen(s: string): number {
  // string-width 4 builds its ANSI and emoji expressions anew on every call: 9 s of the 44 s
  // `tcpdiag flows` took to draw the 100 000 connections of the bench capture.
  if (PLAIN.test(s)) return s.length;
  let w = 0;
  for (const line of s.replace(SGR, '').split('\n')) w = Math.max(w, stringWidth(line));
  return w;
}

// Text attributes carried across cut and wrapped lines, as escape code pairs.
const ATTRS: Record<string, [number, number]> = { bold: [1, 22], italics: [3, 23], underline: [4, 24], inverse: [7, 27], strikethrough: [9, 29] };
const sgr = (n: number): string => `\u001b[${n}m`;
const ATTR_OF = new Map<string, [string, boolean]>(Object.entries(ATTRS).flatMap(([k, [on, off]]) => [[sgr(on), [k, true]], [sgr(off), [k, false]]] as [string, [string, boolean]][]));
interface State { attrs: Map<string, boolean>; fg?: string; bg?: string }
const newState = (): State => ({ attrs: new Map() });

function update(st: State, code: string, params: string): void {
  const n = params ? parseInt(params.split(';')[0], 10) : 0;
  if ((n >= 30 && n <= 39) || (n >= 90 && n <= 97)) { st.fg = code; return; }
  if ((n >= 40 && n <= 49) || (n >= 100 && n <= 107)) { st.bg = code; return; }
  if (n === 0) { st.attrs.clear(); st.fg = undefined; st.bg = undefined; return; }
  const a = ATTR_OF.get(code);
  if (a) st.attrs.set(a[0], a[1]);
}

function readState(line: string): State {
  const st = newState();
  if (!line.includes('\u001b')) return st;
  for (const m of line.matchAll(SGR_CAPTURE)) update(st, m[0], m[1]);
  return st;
}

/** Close what is open at the end of a line. */
function unwind(st: State, s: string): string {
  for (const [k, on] of st.attrs) if (on) s += sgr(ATTRS[k][1]);
  if (st.bg && st.bg !== sgr(49)) s += sgr(49);
  if (st.fg && st.fg !== sgr(39)) s += sgr(39);
  return s;
}

/** Reopen at the start of a line what the line before left open. */
function rewind(st: State, s: string): string {
  for (const [k, on] of st.attrs) if (on) s = sgr(ATTRS[k][0]) + s;
  if (st.bg && st.bg !== sgr(49)) s = st.bg + s;
  if (st.fg && st.fg !== sgr(39)) s = st.fg + s;
  return s;
}

function colorizeLines(lines: string[]): string[] {
  let st = newState();
  return lines.map((l) => {
    const line = rewind(st, l);
    st = readState(line);
    return unwind(readState(line), line);
  });
}

/** The longest prefix no wider than `width` (a prefix's width never falls as it grows). */
function truncateWidth(s: string, width: number): string {
  if (s.length === strlen(s)) return s.substring(0, Math.max(0, width));
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (strlen(s.slice(0, mid)) <= width) lo = mid; else hi = mid - 1;
  }
  return s.slice(0, lo);
}

function truncateWithCodes(s: string, width: number): string {
  const pieces = s.split(SGR);
  const codes = [...s.matchAll(SGR_CAPTURE)];
  const st = newState();
  let out = '';
  let used = 0;
  for (let i = 0; used < width; i++) {
    let piece = pieces[i];
    if (used + strlen(piece) > width) piece = truncateWidth(piece, width - used);
    out += piece;
    used += strlen(piece);
    if (used < width) {
      if (i >= codes.length) break;
      out += codes[i][0];
      update(st, codes[i][0], codes[i][1]);
    }
  }
  return unwind(st, out);
}

/** Cut a line to `width` columns, ending it with `…` when it was longer. */
function truncate(s: string, width: number): string {
  if (strlen(s) <= width) return s;
  return `${truncateWithCodes(s, width - 1)}…`;
}

function wordWrap(max: number, input: string): string[] {
  const lines: string[] = [];
  const split = input.split(/(\s+)/g);
  let line: string[] = [];
  let len = 0;
  let ws: string | undefined;
  for (let i = 0; i < split.length; i += 2) {
    const word = split[i];
    let next = len + strlen(word);
    if (len > 0 && ws) next += ws.length;
    if (next > max) {
      if (len !== 0) lines.push(line.join(''));
      line = [word];
      len = strlen(word);
    } else {
      line.push(ws || '', word);
      len = next;
    }
    ws = split[i + 1];
  }
  if (len) lines.push(line.join(''));
  return lines;
}

function textWrap(max: number, input: string): string[] {
  const lines: string[] = [];
  let line = '';
  const split = input.split(/(\s+)/g);
  for (let i = 0; i < split.length; i += 2) {
    if (line.length && i && split[i - 1]) line += split[i - 1];
    line += split[i];
    while (line.length > max) { lines.push(line.slice(0, max)); line = line.slice(max); }
  }
  if (line.length) lines.push(line);
  return lines;
}

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** One cell: its lines as drawn (wrapped, attributes carried over) and the width it asks for. */
interface Cell { lines: string[]; desired: number }

function cellsOf(spec: Pick<TableSpec, 'colWidths' | 'wordWrap' | 'wrapOnWordBoundary'>, row: unknown[]): Cell[] {
  const fixed = spec.colWidths ?? [];
  return row.map(text).map((content, x) => {
    const w = fixed[x];
    // One line without escape codes or wrapping: nothing to carry over or cut into lines.
    if (!(w && spec.wordWrap) && PLAIN.test(content)) return { lines: [content], desired: content.length + 2 * PAD };
    const raw = w && spec.wordWrap
      ? content.split('\n').flatMap((l) => (spec.wrapOnWordBoundary === false ? textWrap : wordWrap)(w - 2 * PAD, l))
      : content.split('\n');
    return { lines: colorizeLines(raw), desired: strlen(content) + 2 * PAD };
  });
}

/** Fold a row into the column widths (each column as wide as its widest cell, at least 1). */
function widen(widths: number[], cells: Cell[]): void {
  for (let x = 0; x < cells.length; x++) widths[x] = Math.max(widths[x] ?? 1, cells[x].desired);
}

const rule = (widths: number[], l: string, m: string, r: string): string => l + widths.map((w) => '─'.repeat(w)).join(m) + r;

/** A row's lines: the rule above it, then its text lines. */
function rowLines(cells: Cell[], widths: number[], first: boolean): string[] {
  const out = [first ? rule(widths, '┌', '┬', '┐') : rule(widths, '├', '┼', '┤')];
  const height = Math.max(1, ...cells.map((c) => c.lines.length));
  for (let i = 0; i < height; i++) {
    out.push(`│${widths.map((w, x) => {
      const line = cells[x]?.lines[i];
      if (line === undefined) return ' '.repeat(w);
      const inner = w - 2 * PAD;
      const cut = truncate(line, inner);
      const padded = inner + 1 >= strlen(cut) ? cut + ' '.repeat(Math.max(0, inner - strlen(cut))) : cut;
      return ' '.repeat(PAD) + padded + ' '.repeat(PAD);
    }).join('│')}│`);
  }
  return out;
}

export function renderTable(spec: TableSpec): string {
  const cells = [spec.head, ...spec.rows].map((r) => cellsOf(spec, r));
  const ncols = Math.max(...cells.map((r) => r.length));
  const fixed = spec.colWidths ?? [];
  const fit: number[] = new Array(ncols).fill(1);
  for (const r of cells) widen(fit, r);
  const widths = fit.map((w, x) => (typeof fixed[x] === 'number' ? Math.max(1, fixed[x]) : w));
  return [...cells.flatMap((r, y) => rowLines(r, widths, y === 0)), rule(widths, '└', '┴', '┘')].join('\n');
}

/**
 * The lines renderTable draws for a head and rows whose columns fit their content (no fixed
 * widths, no wrapping), from rows that `pass` reads twice: once for the widths, once to draw.
 * Memory holds one row, not the table (`tcpdiag flows` on a capture of millions of connections).
 */
export function* streamTable(head: string[], pass: () => Iterable<unknown[]>): Generator<string> {
  const headCells = cellsOf({}, head);
  const widths: number[] = new Array(headCells.length).fill(1);
  widen(widths, headCells);
  for (const r of pass()) widen(widths, cellsOf({}, r));
  yield* rowLines(headCells, widths, true);
  for (const r of pass()) yield* rowLines(cellsOf({}, r), widths, false);
  yield rule(widths, '└', '┴', '┘');
}
