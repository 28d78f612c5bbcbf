import Table from 'cli-table3';
import { describe, expect, it } from 'vitest';
import { renderTable, strlen, type TableSpec } from '../../src/report/table.js';

/**
 * The terminal tables against cli-table3 0.6.5 (a devDependency kept as the oracle), which drew
 * them before: the same characters for the same input, on generated tables with long words,
 * runs of spaces, several lines per cell, empty cells, numbers, colour codes and wide characters.
 */

/** A small deterministic generator (mulberry32), so a failure names its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['SYN', 'seq=4013686726', 'ack', '198.18.0.0:40002', '->', 'frame', '(frame 27),', 'TIME_WAIT;', 'a',
  'stale-ack/1/26', 'connected', 'after', '9.0', 'ms', 'x'.repeat(70), 'Wireshark:', 'tcp.flags.syn==1&&tcp.flags.ack==0',
  'über', '漢字', 'naïve', '', '0'];
const COLOURS = [31, 33, 36, 32, 1];

function cell(r: () => number): unknown {
  const k = r();
  if (k < 0.08) return Math.floor(r() * 100000);
  if (k < 0.12) return '';
  if (k < 0.2) { const c = COLOURS[Math.floor(r() * COLOURS.length)]; return `\x1b[${c}m${['error', 'warning', 'info', 'OK'][Math.floor(r() * 4)]}\x1b[0m`; }
  const n = 1 + Math.floor(r() * (r() < 0.3 ? 30 : 8));
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    parts.push(WORDS[Math.floor(r() * WORDS.length)]);
    const s = r();
    parts.push(s < 0.08 ? '\n' : s < 0.12 ? '   ' : ' ');
  }
  return parts.join('').replace(/\s+$/, '');
}

function spec(seed: number): TableSpec {
  const r = rng(seed);
  const ncols = 1 + Math.floor(r() * 6);
  const head = Array.from({ length: ncols }, (_, i) => ['#', 'severity', 'finding', 'frames', 'connect ms', 'setting'][i]);
  const rows = Array.from({ length: Math.floor(r() * 6) }, () => Array.from({ length: ncols }, () => cell(r)));
  const fixed = r() < 0.7;
  return {
    head, rows,
    ...(fixed ? { colWidths: head.map(() => (r() < 0.15 ? undefined : 3 + Math.floor(r() * 60))) as number[] } : {}),
    wordWrap: r() < 0.7,
    ...(r() < 0.3 ? { wrapOnWordBoundary: false } : {}),
  };
}

function oracle(s: TableSpec): string {
  const t = new Table({
    head: s.head, style: { head: [], border: [] },
    ...(s.colWidths ? { colWidths: s.colWidths } : {}), ...(s.wordWrap ? { wordWrap: true } : {}),
    ...(s.wrapOnWordBoundary === false ? { wrapOnWordBoundary: false } : {}),
  });
  for (const row of s.rows) t.push(row as string[]);
  return t.toString();
}

describe('terminal tables (cli-table3 0.6.5 as the oracle)', () => {
  it('draw 300 generated tables character for character as cli-table3 does', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const s = spec(seed);
      expect([seed, renderTable(s)]).toEqual([seed, oracle(s)]);
    }
  });

  it('the tables of a report: a 600-character finding under its id, and a cut colour cell', () => {
    const summary = `198.18.0.0:40002 -> 198.19.2.2:3306: SYN seq=4013686726 (frame 26) answered by ACK seq=62509046 ack=4013824363 (frame 27), ${'not ack=4013686727; '.repeat(10)}`;
    for (const s of [
      { head: ['severity', 'finding', 'frames'], rows: [['\x1b[31merror\x1b[0m', `stale-ack/1/26\n${summary}`, '26 27 28 29 30']], colWidths: [10, 62, 20], wordWrap: true },
      { head: ['severity', 'finding', 'frames'], rows: [['\x1b[33mwarning\x1b[0m', 'x', '1']], colWidths: [6, 20, 8], wordWrap: true },
      { head: ['detector', 'error', 'warning', 'info'], rows: [['syn-retransmit', 1, 15, 0], ['server-closes-first', 0, 0, 1]] },
    ]) expect(renderTable(s)).toBe(oracle(s));
  });

  it('measures display width without escape codes, wide characters as two', () => {
    expect(strlen('\x1b[31merror\x1b[0m')).toBe(5);
    expect(strlen('漢字')).toBe(4);
    expect(strlen('ab\nabcd\nabc')).toBe(4);
  });
});
