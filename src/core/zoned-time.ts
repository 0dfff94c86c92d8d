/**
 * Wall-clock time in an IANA zone from the runtime's `Intl` (its tz data) alone: no dependency, no
 * `node:` module, no clock. Runs the same under Node and Deno.
 *
 * A *local time* is a wall-clock reading written as the epoch milliseconds of the same reading in
 * UTC: 2026-03-08 02:30 in New York is `Date.UTC(2026, 2, 8, 2, 30)`. Calendar arithmetic on local
 * times is plain UTC arithmetic, where every day has 24 hours; only `toInstant` and `localTime`
 * cross between the two timelines.
 *
 * The DST rule (docs/oncall.md#dst-rules), one rule for every case:
 *   toInstant(zone, local) is the FIRST instant at which the zone's clock reads `local` or later.
 * - a reading that happens once: that instant;
 * - a reading skipped by spring-forward (02:30 in New York on the March change day): the instant the
 *   clock jumps, i.e. the next valid local time (03:00 EDT);
 * - a reading repeated by fall-back (01:30 in New York in November): its first occurrence (EDT).
 * So toInstant never decreases as `local` grows: handoffs keep their order, and the span between two
 * readings is never negative (it is empty when both fall in the same skipped hour).
 *
 * Assumes at most one offset change within a day either side of a reading (three days around its
 * local date), which holds for every zone's rules in use; one-off calendar changes such as Samoa
 * skipping 30 December 2011 are a single gap and handled like spring-forward.
 */

const SECOND = 1000;
const DAY = 86_400_000;

/** One formatter per zone: building one is the expensive part of Intl. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/**
 * The canonical name of an IANA zone (`europe/london` -> `Europe/London`), or null when the runtime
 * does not know it. Fixed offsets (`+01:00`) and the machine's own zone are not zones a schedule may
 * use: a handoff must follow the place's DST, and must not change with the server.
 */
export function canonicalZone(zone: string): string | null {
  if (zone === '' || zone.toLowerCase() === 'local' || /^[+-]/.test(zone)) return null;
  try {
    return formatter(zone).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

// `format` (then parsing its fixed en-US shape) is about 3x faster than `formatToParts`.
const FORMATTED = /^(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)$/;

/** The zone's wall clock at instant t, as a local time (whole seconds: tz offsets are). */
export function localTime(zone: string, t: number): number {
  const whole = Math.floor(t / SECOND) * SECOND;
  return whole + offsetAt(zone, whole) + (t - whole);
}

/**
 * Offsets already computed, per zone and whole second: rendering a range asks for the same instants
 * again (a day's "day after" is the next day's "day before"). Bounded; only ever a cache.
 */
const offsets = new Map<string, Map<number, number>>();
const MAX_CACHED = 20_000;

/** The zone's UTC offset at instant t, in milliseconds (east positive). */
export function offsetAt(zone: string, t: number): number {
  const whole = Math.floor(t / SECOND) * SECOND;
  let cache = offsets.get(zone);
  if (!cache) offsets.set(zone, (cache = new Map()));
  const known = cache.get(whole);
  if (known !== undefined) return known;
  const m = FORMATTED.exec(formatter(zone).format(whole));
  if (!m) throw new Error(`unexpected Intl output for ${zone}`);
  // Some engines print midnight as 24 with the same date.
  const offset = Date.UTC(+m[3]!, +m[1]! - 1, +m[2]!, +m[4]! % 24, +m[5]!, +m[6]!) - whole;
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(whole, offset);
  return offset;
}

/** The instant of a local time in a zone, by the DST rule above. */
export function toInstant(zone: string, local: number): number {
  // The offsets on either side of every instant `local` could be (zones are UTC-12 .. UTC+14),
  // probed at UTC midnights so that all readings of a day share (cached) probes.
  const day = Math.floor(local / DAY);
  const before = offsetAt(zone, (day - 1) * DAY);
  const after = offsetAt(zone, (day + 2) * DAY);
  // No change of offset near: the one candidate (most calls end here).
  if (before === after) return local - before;
  const early = local - Math.max(before, after);
  const late = local - Math.min(before, after);
  const reads = (t: number) => localTime(zone, t) === local;
  // Ambiguous (fall-back): both candidates read `local`; the first occurrence wins.
  if (reads(early)) return early;
  if (reads(late)) return late;
  // Skipped (spring-forward): the clock jumps from below `local` to above it between `early` and
  // `late`; the jump is on a whole second, found by bisection.
  let lo = Math.floor(early / SECOND);
  let hi = Math.ceil(late / SECOND);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localTime(zone, mid * SECOND) >= local) hi = mid;
    else lo = mid;
  }
  return hi * SECOND;
}

/**
 * The latest wall-clock reading the zone has shown by instant t (the clock's high-water mark): the
 * reading at t, except in the hour repeated after a fall-back, where it stays just below the reading
 * at which the clocks went back. By the DST rule above,
 *   t >= toInstant(zone, x)  exactly when  clockReached(zone, t) >= x,
 * so "which turn or window holds t" is plain arithmetic on this reading, with no search, and agrees
 * with boundaries computed by toInstant.
 */
export function clockReached(zone: string, t: number): number {
  const local = localTime(zone, t);
  const offset = local - t;
  const back = offsetAt(zone, t - DAY) - offset;
  // No fall-back within the last day, or t is past the repeated period.
  if (back <= 0 || offsetAt(zone, t - back) === offset) return local;
  // The clocks went back at a whole second in (t - back, t]: find it.
  let lo = Math.floor((t - back) / SECOND);
  let hi = Math.floor(t / SECOND);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(zone, mid * SECOND) === offset) hi = mid;
    else lo = mid;
  }
  // The last reading before the change (1 ms before it, at the old offset).
  return hi * SECOND - 1 + offset + back;
}

/** Local midnight of a local time's day. */
export const startOfDay = (local: number) => Math.floor(local / DAY) * DAY;

/** The weekday of a local time, 0 = sunday. */
export const weekdayOf = (local: number) => new Date(local).getUTCDay();
