/**
 * Capture times for reports, as ISO 8601 UTC text that never throws.
 *
 * `new Date(ms).toISOString()` throws RangeError ("Invalid time value") beyond
 * +-8.64e15 ms (year 275760), and pcapng timestamps are 64-bit counts of
 * if_tsresol units: a capture can hold packets at 1.8e13 s (Wireshark shows
 * them in the year 586524). The civil date here comes from the day count by
 * the proleptic Gregorian calendar (the same calendar as Date and Wireshark),
 * so any finite time prints; inside Date's range the text is the same as
 * toISOString() gives.
 */

/** Year, month (1-12), day of a day count since 1970-01-01 (H. Hinnant, "chrono-compatible low-level date algorithms"). */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097; // [0, 146096]
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

const two = (n: number): string => String(n).padStart(2, '0');

/** toISOString's year: four digits in 0..9999, else a sign and at least six (ISO 8601 expanded). */
function isoYear(y: number): string {
  if (y >= 0 && y <= 9999) return String(y).padStart(4, '0');
  return (y < 0 ? '-' : '+') + String(Math.abs(y)).padStart(6, '0');
}

/** Past 2^72 us a double's step is over a second: the time of day would be made up. */
const WHOLE_SECONDS_LIMIT = 2 ** 72;

/**
 * Microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.sssZ"; "-" for null. Past
 * 2^53 microseconds (year 2255) a double no longer holds every millisecond, so the
 * fraction is left out rather than made up; past 2^72 (no whole seconds either) and
 * for a non-finite value, the raw seconds since the epoch.
 */
export function isoTime(usec: number | null): string {
  if (usec === null) return '-';
  if (!Number.isFinite(usec) || Math.abs(usec) >= WHOLE_SECONDS_LIMIT) return `${usec / 1e6} s since the epoch`;
  const exact = Math.abs(usec) <= Number.MAX_SAFE_INTEGER;
  // Whole seconds first: below 2^72 us they stay below 2^53, so the divisions are exact.
  const secs = Math.floor(usec / 1e6);
  const msPart = exact ? Math.floor(usec / 1000) - secs * 1000 : 0;
  const days = Math.floor(secs / 86_400);
  const rest = secs - days * 86_400; // [0, 86 400)
  const [y, mo, d] = civilFromDays(days);
  const s = rest % 60, mi = Math.floor(rest / 60) % 60, h = Math.floor(rest / 3600);
  return `${isoYear(y)}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}:${two(s)}${exact ? `.${String(msPart).padStart(3, '0')}` : ''}Z`;
}
