/**
 * Capture clocks that cannot be elapsed time: a step between two consecutive frames of one file
 * too large for anything a real capture contains, or a timestamp past what a microsecond count
 * holds exactly. Watched per record (one subtraction and two compares, no allocation unless a
 * step is found), so the report can say which frames jump and withhold the spans, rates and
 * round-trip times that would straddle the jump.
 */

/**
 * A step between consecutive frames larger than this, either way, is the clock being wrong, not
 * time passing. What real captures contain: backward steps of microseconds to milliseconds
 * (packets timestamped on different CPUs or interfaces before one writer orders them), a
 * backward or forward NTP step (ntpd steps the clock when it is more than 128 ms off: a step of
 * seconds; chrony's makestep likewise), hours when an operator corrects a clock set in the wrong
 * time zone; forward, the longest silence the capture saw (hours or days on a quiet filter).
 * None comes near a year. Steps of years are a writer that stored garbage or a negative time as
 * unsigned, a timestamp read at the wrong resolution (nanoseconds read as microseconds are 1000
 * times too far: decades), or a device without a real-time clock that started at 1970 and was
 * stepped by NTP mid-capture; in every case a difference across the step is not elapsed time.
 */
export const IMPLAUSIBLE_STEP_USEC = 365 * 86_400 * 1e6;

/**
 * 2^53 µs (the year 2255): from here a microsecond count is no longer exact as a double, so the
 * µs times the store holds are rounded (to 2048 µs near 2^64 µs) and sub-millisecond
 * differences between them are noise. No real capture is dated there.
 */
export const EXACT_USEC_LIMIT = 2 ** 53;

/** The steps kept in full per file (the rest are counted). */
export const CLOCK_STEPS_KEPT = 5;

/** One step: frame `frame` is `deltaSec` after (negative: before) frame `prevFrame`, the frame read just before it. */
export interface ClockStep {
  prevFrame: number;
  frame: number;
  /** pcapng interface ids of the two frames (0 for classic pcap). */
  prevIface: number;
  iface: number;
  /** The two timestamps as read (whole seconds since the epoch and nanoseconds), as tshark's frame.time_epoch. */
  prevSec: number; prevNsec: number;
  sec: number; nsec: number;
  deltaSec: number;
}

/** What a file's (or a capture point's) clock showed; null fields when nothing was wrong. */
export interface ClockFacts {
  /** Steps larger than IMPLAUSIBLE_STEP_USEC between consecutive frames, and the first CLOCK_STEPS_KEPT of them. */
  steps: number;
  first: ClockStep[];
  /** Frames dated at or past EXACT_USEC_LIMIT, and the first of them. */
  beyondExact: number;
  firstBeyondFrame: number | null;
}

export const NO_CLOCK_PROBLEM: ClockFacts = { steps: 0, first: [], beyondExact: 0, firstBeyondFrame: null };

/** True when the facts show a clock no time difference can be trusted across. */
export const clockImplausible = (c: ClockFacts | null | undefined): boolean => c != null && (c.steps > 0 || c.beyondExact > 0);

/** Per-file watcher, fed every record with a timestamp in file order. */
export class ClockWatch {
  steps = 0;
  readonly first: ClockStep[] = [];
  beyondExact = 0;
  firstBeyondFrame: number | null = null;
  private prevUsec = NaN;
  private prevSec = 0;
  private prevNsec = 0;
  private prevFrame = 0;
  private prevIface = 0;

  observe(frame: number, iface: number, sec: number, nsec: number, usec: number): void {
    const d = usec - this.prevUsec; // NaN for the first frame: no step
    if (d > IMPLAUSIBLE_STEP_USEC || d < -IMPLAUSIBLE_STEP_USEC) this.step(frame, iface, sec, nsec);
    if (usec >= EXACT_USEC_LIMIT) { if (this.beyondExact++ === 0) this.firstBeyondFrame = frame; }
    this.prevUsec = usec;
    this.prevSec = sec;
    this.prevNsec = nsec;
    this.prevFrame = frame;
    this.prevIface = iface;
  }

  private step(frame: number, iface: number, sec: number, nsec: number): void {
    if (this.steps++ >= CLOCK_STEPS_KEPT) return;
    this.first.push({
      prevFrame: this.prevFrame, frame, prevIface: this.prevIface, iface,
      prevSec: this.prevSec, prevNsec: this.prevNsec, sec, nsec,
      // Whole seconds subtracted first: exact integers below 2^53, then the fraction.
      deltaSec: (sec - this.prevSec) + (nsec - this.prevNsec) / 1e9,
    });
  }

  facts(): ClockFacts {
    return { steps: this.steps, first: [...this.first], beyondExact: this.beyondExact, firstBeyondFrame: this.firstBeyondFrame };
  }
}

/** A capture point's clock from its files' (read in order; frame numbers are the point's). */
export function mergeClocks(files: ClockFacts[]): ClockFacts {
  const withBeyond = files.find((c) => c.firstBeyondFrame !== null);
  return {
    steps: files.reduce((n, c) => n + c.steps, 0),
    first: files.flatMap((c) => c.first).slice(0, CLOCK_STEPS_KEPT),
    beyondExact: files.reduce((n, c) => n + c.beyondExact, 0),
    firstBeyondFrame: withBeyond?.firstBeyondFrame ?? null,
  };
}
