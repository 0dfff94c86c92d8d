import { z } from 'zod';
import { canonicalZone, localTime } from '../core/zoned-time.ts';

/**
 * Alertmanager's named `time_intervals` (used by routes' mute_time_intervals and
 * active_time_intervals), parsed once and evaluated against an instant. Pure: the caller passes the
 * time; the zone rules come from the runtime's Intl (IANA tz data), so there is no dependency.
 *
 * Invariants (Alertmanager's timeinterval package, except where noted):
 * - a named interval is active when any of its entries contains the instant (so an empty list is
 *   never active); an entry contains it when every field it sets does (a field left out or empty
 *   matches anything); a field contains it when any of its ranges does;
 * - everything is read on the wall clock of the entry's `location` (default UTC): 09:00-17:00
 *   Europe/Berlin is 09:00-17:00 local on both sides of a DST change; a time skipped by
 *   spring-forward never happens, one repeated by fall-back happens twice (matches both times);
 * - times are [start, end) minutes of the day, `24:00` only as an end; ranges of days, months and
 *   years are inclusive; weekdays run sunday (0) .. saturday (6), so `saturday:sunday` is refused;
 * - negative days of month count from the month's real last day (-1 = 28/29 in February, 30 in
 *   April). Alertmanager measured the month in hours / 24, which made a 31-day month with a
 *   spring-forward 30 days long and fired its "last day" mute on the 30th. Calendar arithmetic
 *   here, never elapsed time;
 * - a `location` that is not an IANA zone is refused (Alertmanager's `Local`, the server's zone,
 *   too: it would change with the machine).
 */

export interface Range {
  start: number;
  end: number;
}

export interface TimeRange {
  /** Minutes since local midnight: [start_minute, end_minute). */
  start_minute: number;
  end_minute: number;
}

export interface TimeIntervalSpec {
  times: TimeRange[];
  weekdays: Range[];
  days_of_month: Range[];
  months: Range[];
  years: Range[];
  /** Canonical IANA zone name. */
  location: string;
}

export interface TimeInterval {
  name: string;
  time_intervals: TimeIntervalSpec[];
}

// ---------------------------------------------------------------------------------------------
// Wall clock in a zone.

export { canonicalZone };

export interface WallClock {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  /** 0 = sunday */
  weekday: number;
  /** Minutes since local midnight. */
  minute: number;
  daysInMonth: number;
}

/** The zone's wall clock at an instant (src/core/zoned-time.ts: one reading per instant, so a repeated hour matches on both passes). */
export function wallClock(zone: string, nowMs: number): WallClock {
  const local = new Date(localTime(zone, nowMs));
  const year = local.getUTCFullYear();
  const month = local.getUTCMonth() + 1;
  return {
    year,
    month,
    day: local.getUTCDate(),
    weekday: local.getUTCDay(),
    minute: local.getUTCHours() * 60 + local.getUTCMinutes(),
    // Calendar arithmetic in UTC, where no day is 23 or 25 hours long.
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

const within = (v: number, r: Range) => v >= r.start && v <= r.end;

export function containsTime(spec: TimeIntervalSpec, nowMs: number): boolean {
  const t = wallClock(spec.location, nowMs);
  if (spec.times.length && !spec.times.some((r) => t.minute >= r.start_minute && t.minute < r.end_minute)) return false;
  if (spec.weekdays.length && !spec.weekdays.some((r) => within(t.weekday, r))) return false;
  if (spec.months.length && !spec.months.some((r) => within(t.month, r))) return false;
  if (spec.years.length && !spec.years.some((r) => within(t.year, r))) return false;
  if (spec.days_of_month.length) {
    const n = t.daysInMonth;
    const hit = spec.days_of_month.some((r) => {
      const start = r.start < 0 ? n + r.start + 1 : r.start;
      const end = r.end < 0 ? n + r.end + 1 : r.end;
      // '29:31' has no days in a 28-day February (Alertmanager skips it too).
      return start <= n && t.day >= start && t.day <= end;
    });
    if (!hit) return false;
  }
  return true;
}

export function isActiveAt(interval: TimeInterval, nowMs: number): boolean {
  return interval.time_intervals.some((spec) => containsTime(spec, nowMs));
}

// ---------------------------------------------------------------------------------------------
// Schemas.

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MAX_RANGES = 50;

/** 'a' or 'a:b', members read by `member` (a number, or null with the reason it is not one). */
function rangeText(member: (s: string) => number | string, check: (r: Range, text: string) => string | null) {
  return z
    .string()
    .max(64)
    .transform((text, ctx): Range => {
      const parts = text.split(':');
      if (parts.length > 2) {
        ctx.addIssue({ code: 'custom', message: `'${text}' must be one value or a range 'start:end'` });
        return z.NEVER;
      }
      const values = parts.map((p) => member(p.trim().toLowerCase()));
      const bad = values.find((v) => typeof v === 'string');
      if (typeof bad === 'string') {
        ctx.addIssue({ code: 'custom', message: bad });
        return z.NEVER;
      }
      const r = { start: values[0] as number, end: values[values.length - 1] as number };
      const problem = check(r, text);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return r;
    });
}

const integer = (what: string, min: number, max: number) => (s: string) =>
  /^-?\d+$/.test(s) && Number(s) >= min && Number(s) <= max && Number(s) !== 0 ? Number(s) : `'${s}' is not a ${what}`;

const Weekday = rangeText(
  (s) => (WEEKDAYS.includes(s) ? WEEKDAYS.indexOf(s) : `'${s}' is not a weekday (sunday .. saturday)`),
  (r, text) =>
    r.start > r.end ? `'${text}' runs backwards: weeks run sunday to saturday, so list the days separately ('saturday', 'sunday')` : null,
);

const DayOfMonth = rangeText(integer('day of the month (1..31 or -31..-1)', -31, 31), (r, text) => {
  if (r.start < 0 && r.end > 0) return `'${text}': a negative start day needs a negative end day`;
  // Refuse only ranges empty in every month (28 to 31 days), as '1:-1' or '30:-1' are fine.
  const end = r.end < 0 ? 31 + r.end + 1 : r.end;
  const start = r.start < 0 && r.end < 0 ? 31 + r.start + 1 : r.start;
  return start > end ? `'${text}': the end day is before the start day in every month` : null;
});

const Month = rangeText(
  (s) => (MONTHS.includes(s) ? MONTHS.indexOf(s) + 1 : /^\d+$/.test(s) && +s >= 1 && +s <= 12 ? +s : `'${s}' is not a month (january .. december or 1 .. 12)`),
  (r, text) => (r.start > r.end ? `'${text}': the end month is before the start month` : null),
);

const Year = rangeText(
  (s) => (/^\d{1,4}$/.test(s) && +s >= 1 ? +s : `'${s}' is not a year`),
  (r, text) => (r.start > r.end ? `'${text}': the end year is before the start year` : null),
);

const CLOCK = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
function minutesOf(text: string): number | null {
  const m = CLOCK.exec(text);
  if (!m) return null;
  return Number(m[1] ?? m[3]) * 60 + Number(m[2] ?? m[4]);
}

const TimeRangeSchema = z
  .strictObject({ start_time: z.string().max(16), end_time: z.string().max(16) })
  .transform((t, ctx): TimeRange => {
    const start = minutesOf(t.start_time);
    const end = minutesOf(t.end_time);
    if (start === null) ctx.addIssue({ code: 'custom', path: ['start_time'], message: `'${t.start_time}' is not a time HH:MM (00:00 .. 23:59)` });
    if (end === null) ctx.addIssue({ code: 'custom', path: ['end_time'], message: `'${t.end_time}' is not a time HH:MM (00:00 .. 24:00)` });
    if (start === null || end === null) return z.NEVER;
    if (start >= end) {
      ctx.addIssue({ code: 'custom', path: ['end_time'], message: `must be after start_time ${t.start_time} (a range may not cross midnight: split it in two)` });
      return z.NEVER;
    }
    return { start_minute: start, end_minute: end };
  });

const list = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_RANGES).optional();

export const TimeIntervalSpec = z
  .strictObject({
    times: list(TimeRangeSchema),
    weekdays: list(Weekday),
    days_of_month: list(DayOfMonth),
    months: list(Month),
    years: list(Year),
    location: z
      .string()
      .max(64)
      .transform((zone, ctx) => {
        const canonical = canonicalZone(zone);
        if (canonical) return canonical;
        ctx.addIssue({ code: 'custom', message: `'${zone}' is not an IANA time zone like Europe/Berlin` });
        return z.NEVER;
      })
      .optional(),
  })
  .transform(
    (s): TimeIntervalSpec => ({
      times: s.times ?? [],
      weekdays: s.weekdays ?? [],
      days_of_month: s.days_of_month ?? [],
      months: s.months ?? [],
      years: s.years ?? [],
      location: s.location ?? 'UTC',
    }),
  );

export const TimeInterval = z.strictObject({
  name: z.string().trim().min(1).max(100),
  time_intervals: z.array(TimeIntervalSpec).max(MAX_RANGES),
});

/** A document's list of named intervals: names are unique, as references are by name. */
export const TimeIntervals = z
  .array(TimeInterval)
  .max(100)
  .superRefine((intervals, ctx) => {
    const seen = new Set<string>();
    intervals.forEach((ti, i) => {
      if (seen.has(ti.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `time interval '${ti.name}' is defined twice` });
      seen.add(ti.name);
    });
  });
