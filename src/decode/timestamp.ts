/**
 * pcapng timestamps: a 64-bit count of units (if_tsresol) split in two 32-bit
 * halves. Nanoseconds since the epoch exceed 2^53, so the count is divided in
 * exact 16-bit limbs instead of being made one float; no BigInt per packet.
 */

/**
 * Time scale of one pcapng interface, resolved when its IDB arrives (as
 * gopacket's ngread.go does). The powers toSecNsec needs are computed here
 * once: a `**` with a variable exponent per packet was nearly a fifth of a
 * pcapng decode (bench/decode-memory.mjs under callgrind: v8::base::ieee754::pow).
 */
export class TimeScale {
  /** if_tsresol: true for 2^-exp, false for 10^-exp (pcapng §4.2, default 10^-6). */
  pow2 = false;
  exp = 6;
  /** 10^exp or 2^exp: units per second. */
  unitsPerSec = 1e6;
  /** if_tsoffset: seconds added to every timestamp (signed). */
  offsetSec = 0;
  /** Decimal: ns per unit (10^(9-exp)) when exp <= 9, else units per ns (10^(exp-9)). */
  decScale = 1000;
  /** Binary, exp <= 32: 2^(32-exp), 2^max(exp-9, 0), 2^max(9-exp, 0). */
  hiMul = 0;
  fracDiv = 1;
  fracMul = 1;
  /** Binary, exp > 32: 2^(exp-32), 2^(64-exp). */
  hiDiv = 1;
  remMul = 1;
  /**
   * The second of the last timestamp and its first unit: packets come in
   * time order, so most fall in the same second and need no division.
   */
  lastSec = 0;
  lastSecUnits = -1;

  constructor(tsresol = 6, offsetSec = 0) {
    this.set(tsresol);
    this.offsetSec = offsetSec;
  }

  /** From the raw if_tsresol byte. */
  set(tsresol: number): void {
    const k = tsresol & 0x7f;
    this.pow2 = (tsresol & 0x80) !== 0;
    this.exp = k;
    this.unitsPerSec = this.pow2 ? 2 ** k : 10 ** k;
    this.decScale = k <= 9 ? 10 ** (9 - k) : 10 ** (k - 9);
    this.hiMul = k <= 32 ? 2 ** (32 - k) : 0;
    this.fracDiv = 2 ** (k > 9 ? k - 9 : 0);
    this.fracMul = 2 ** (k < 9 ? 9 - k : 0);
    this.hiDiv = k > 32 ? 2 ** (k - 32) : 1;
    this.remMul = k > 32 ? 2 ** (64 - k) : 1;
    this.lastSecUnits = -1;
  }
}

/** Output of toSecNsec, reused. */
export class SecNsec {
  sec = 0;
  nsec = 0;
}

/** Split hi:lo (units) into whole seconds and nanoseconds. */
export function toSecNsec(out: SecNsec, s: TimeScale, hi: number, lo: number): void {
  // Within the second of the previous timestamp (remembered by the decimal
  // one-division path below, so hi:lo is exact here too): no division, and
  // small enough for V8 to inline into the block loop.
  if (hi < 1048576 && s.lastSecUnits >= 0) {
    const rem = hi * 4294967296 + lo - s.lastSecUnits;
    if (rem >= 0 && rem < s.unitsPerSec) {
      out.sec = s.lastSec + s.offsetSec;
      out.nsec = decimalNs(s, rem);
      return;
    }
  }
  divide(out, s, hi, lo);
}

/** Nanoseconds in `rem` units of a decimal scale (rem < one second). */
function decimalNs(s: TimeScale, rem: number): number {
  return s.exp <= 9 ? rem * s.decScale : Math.floor(rem / s.decScale);
}

function divide(out: SecNsec, s: TimeScale, hi: number, lo: number): void {
  let sec: number;
  let nsec: number;
  if (s.pow2) {
    const k = s.exp;
    let rem: number;
    if (k <= 32) {
      // hi * 2^(32-k) is exact: it is at most 2^(64-k) and holds hi's bits only.
      const units = s.unitsPerSec;
      sec = hi * s.hiMul + Math.floor(lo / units);
      rem = k === 32 ? lo : lo % units;
      // rem < 2^k <= 2^32 and 1e9 = 2^9 * 1953125: rem * 1953125 < 2^53, exact.
      nsec = Math.floor((rem * 1953125) / s.fracDiv) * s.fracMul;
    } else {
      const d = s.hiDiv;
      sec = Math.floor(hi / d);
      // Keep 32 fractional bits: below 2^-32 s (0.23 ns) cannot change the ns value much.
      rem = (hi % d) * s.remMul + Math.floor(lo / d);
      nsec = Math.floor((rem * 1953125) / 8388608); // 2^23
    }
  } else {
    const d = s.unitsPerSec;
    if (hi < 1048576 && d <= 68719476736) {
      // hi:lo below 2^52 (microseconds until the year 2112) is exact as one
      // double, and one division is enough: the quotient q < 2^52 / d is off
      // by at most q * 2^-53 < 1 / (2d), less than its distance to the next
      // whole number, so the floor is exact and so is the remainder.
      const units = hi * 4294967296 + lo;
      sec = Math.floor(units / d);
      const secStart = sec * d;
      s.lastSec = sec;
      s.lastSecUnits = secStart;
      nsec = decimalNs(s, units - secStart);
    } else if (d <= 68719476736) { // 2^36
      // Long division of (hi, lo>>>16, lo&0xffff) by d: every partial value stays below 2^53.
      const qh = Math.floor(hi / d);
      const r1 = hi - qh * d;
      const x = r1 * 65536 + (lo >>> 16);
      const q1 = Math.floor(x / d);
      const y = (x - q1 * d) * 65536 + (lo & 0xffff);
      const q2 = Math.floor(y / d);
      const rem = y - q2 * d;
      sec = qh * 4294967296 + q1 * 65536 + q2;
      nsec = decimalNs(s, rem);
    } else {
      // Resolution finer than 2^-36 s (picoseconds and below): rare enough for BigInt.
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      const bd = BigInt(d);
      sec = Number(v / bd);
      nsec = Number(((v % bd) * 1000000000n) / bd);
    }
  }
  out.sec = sec + s.offsetSec;
  out.nsec = nsec;
}
