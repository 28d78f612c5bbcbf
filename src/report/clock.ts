/**
 * What the reports say about a capture clock that is not elapsed time (CaptureSummary.clock,
 * from the decoder's ClockWatch: src/decode/clock.ts; the rule on what is withheld is
 * src/detectors/clock.ts). Rendered from the typed steps only: frame numbers, interface ids and
 * the two timestamps as read, which tshark's frame.time_epoch shows the same.
 */
import type { ClockStep } from '../decode/index.js';
import type { CaptureSummary, Totals } from './model.js';
import { isoTime } from './time.js';

/** Gregorian mean year (365.2425 days), for "46.6 years". */
const YEAR_S = 31_556_952;

/** The exact difference of two timestamps, in seconds to the millisecond ("-1472003999.360"). */
function exactDelta(s: ClockStep): string {
  const ns = (BigInt(s.sec) - BigInt(s.prevSec)) * 1_000_000_000n + BigInt(s.nsec - s.prevNsec);
  const abs = ns < 0n ? -ns : ns;
  const ms = (abs + 500_000n) / 1_000_000n;
  return `${ns < 0n ? '-' : ''}${ms / 1000n}.${String(ms % 1000n).padStart(3, '0')}`;
}

/** "46.6 years", "584554 years". */
function years(deltaSec: number): string {
  const y = Math.abs(deltaSec) / YEAR_S;
  return `${y < 100 ? y.toFixed(1) : y.toFixed(0)} years`;
}

/** "frame 2 (interface 0, 2061-09-21T12:39:57.938Z) is 1472003999.360 s (46.6 years) after frame 1 (interface 0, 2015-...)". */
function stepText(s: ClockStep, ng: boolean): string {
  const at = (frame: number, iface: number, sec: number, nsec: number): string =>
    `frame ${frame} (${ng ? `interface ${iface}, ` : ''}${isoTime(sec * 1e6 + Math.floor(nsec / 1000))})`;
  const d = exactDelta(s);
  return `${at(s.frame, s.iface, s.sec, s.nsec)} is ${d.replace(/^-/, '')} s (${years(s.deltaSec)}) ${s.deltaSec < 0 ? 'before' : 'after'} ${at(s.prevFrame, s.prevIface, s.prevSec, s.prevNsec)}`;
}

/**
 * "x.pcapng: its clock is not elapsed time: frame 2 ... after frame 1; ...; 100 frames from frame 60
 * on are dated past 2^53 µs (the year 2255) ...", or null for a clock with neither.
 */
export function clockLine(c: CaptureSummary): string | null {
  const k = c.clock;
  if (k === undefined) return null;
  const ng = c.format === 'pcapng';
  const parts: string[] = [];
  if (k.steps > 0) {
    parts.push(`${k.steps === 1 ? 'one step' : `${k.steps} steps`} of more than a year between consecutive frames${k.steps > k.first.length ? ` (the first ${k.first.length})` : ''}: `
      + k.first.map((s) => stepText(s, ng)).join('; '));
  }
  if (k.beyondExact > 0) {
    parts.push(`${k.beyondExact} frame${k.beyondExact === 1 ? '' : 's'}${k.firstBeyondFrame !== null ? `, the first frame ${k.firstBeyondFrame},` : ''} dated past 2^53 µs (the year 2255), where times in microseconds are not exact`);
  }
  return `${c.name}: its clock is not elapsed time: ${parts.join('; ')}. No span is stated for it, its attempts are left out of the handshake RTT and connect times, and times that findings quote from it are not elapsed time`;
}

/** The verdict's qualifier when a capture's clock is not elapsed time; '' otherwise. */
export function clockVerdictNote(captures: CaptureSummary[]): string {
  const bad = captures.filter((c) => c.clock !== undefined);
  if (bad.length === 0) return '';
  const what = (c: CaptureSummary): string => `${c.name} ${c.clock!.steps > 0 ? 'steps by years between frames' : 'is dated past 2^53 µs'}`;
  return ` (The clock of ${bad.map(what).join(', of ')}: times measured there are not elapsed time, and the totals leave them out.)`;
}

/** ", handshake RTT and connect times leave out 2 attempts (clock not elapsed time)" when any were; '' otherwise. */
export function withheldText(t: Totals, sep = ', '): string {
  const n = t.clockWithheldAttempts ?? 0;
  if (n === 0) return '';
  return `${sep}handshake RTT and connect times leave out ${n === 1 ? 'the 1 attempt' : `${n} attempts`} seen where the clock is not elapsed time`;
}
