/**
 * pcapng timestamps: a 64-bit count of units (if_tsresol) split in two 32-bit
 * halves. Nanoseconds since the epoch exceed 2^53, so the count is divided in
 * exact 16-bit limbs instead of being made one float; no BigInt per packet.
 */

/** Time scale of one pcapng interface, resolved when its IDB arrives (as gopacket's ngread.go does). */
export class TimeScale {
  /** if_tsresol: true for 2^-exp, false for 10^-exp (pcapng §4.2, default 10^-6). */
  pow2 = false;
  exp = 6;
  /** 10^exp when !pow2. */
  unitsPerSec = 1e6;
  /** if_tsoffset: seconds added to every timestamp (signed). */
  offsetSec = 0;

  constructor(tsresol = 6, offsetSec = 0) {
    this.set(tsresol);
    this.offsetSec = offsetSec;
  }

  /** From the raw if_tsresol byte. */
  set(tsresol: number): void {
    this.pow2 = (tsresol & 0x80) !== 0;
    this.exp = tsresol & 0x7f;
    this.unitsPerSec = this.pow2 ? 2 ** this.exp : 10 ** this.exp;
  }
}

/** Output of toSecNsec, reused. */
export class SecNsec {
  sec = 0;
  nsec = 0;
}

/** Split hi:lo (units) into whole seconds and nanoseconds. */
export function toSecNsec(out: SecNsec, s: TimeScale, hi: number, lo: number): void {
  let sec: number;
  let nsec: number;
  if (s.pow2) {
    const k = s.exp;
    let rem: number;
    if (k <= 32) {
      // hi * 2^(32-k) is exact: it is at most 2^(64-k) and holds hi's bits only.
      sec = hi * 2 ** (32 - k) + Math.floor(lo / 2 ** k);
      rem = k === 32 ? lo : lo % 2 ** k;
      // rem < 2^k <= 2^32 and 1e9 = 2^9 * 1953125: rem * 1953125 < 2^53, exact.
      nsec = Math.floor((rem * 1953125) / 2 ** (k - 9 > 0 ? k - 9 : 0)) * (k < 9 ? 2 ** (9 - k) : 1);
    } else {
      const d = 2 ** (k - 32);
      sec = Math.floor(hi / d);
      // Keep 32 fractional bits: below 2^-32 s (0.23 ns) cannot change the ns value much.
      rem = (hi % d) * 2 ** (64 - k) + Math.floor(lo / 2 ** (k - 32));
      nsec = Math.floor((rem * 1953125) / 2 ** 23);
    }
  } else {
    const d = s.unitsPerSec;
    if (d <= 2 ** 36) {
      // Long division of (hi, lo>>>16, lo&0xffff) by d: every partial value stays below 2^53.
      const qh = Math.floor(hi / d);
      const r1 = hi - qh * d;
      const x = r1 * 65536 + (lo >>> 16);
      const q1 = Math.floor(x / d);
      const y = (x - q1 * d) * 65536 + (lo & 0xffff);
      const q2 = Math.floor(y / d);
      const rem = y - q2 * d;
      sec = qh * 4294967296 + q1 * 65536 + q2;
      nsec = s.exp <= 9 ? rem * 10 ** (9 - s.exp) : Math.floor(rem / 10 ** (s.exp - 9));
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
