/**
 * Alertmanager time_intervals (src/alerts/time-intervals.ts), table-driven on instants: each case is
 * one interval entry, a UTC instant, and whether the entry contains it. The zone cases pick instants
 * a fixed-offset implementation gets wrong (the winter offset pinned onto summer or the reverse);
 * the negative-day cases pick months whose real length differs from 31 and from "hours / 24".
 */
import { describe, expect, it } from 'vitest';
import { type TimeInterval, TimeInterval as TimeIntervalSchema, TimeIntervals, isActiveAt } from '../../../src/alerts/time-intervals.ts';

type Entry = Record<string, unknown>;
const named = (...entries: Entry[]): TimeInterval => TimeIntervalSchema.parse({ name: 'test', time_intervals: entries });
const at = (iso: string) => Date.parse(iso);

const nineToFive = (location: string): Entry => ({
  times: [{ start_time: '09:00', end_time: '17:00' }],
  weekdays: ['monday:friday'],
  location,
});

describe('isActiveAt', () => {
  it.each<[string, Entry, string, boolean]>([
    // Times: [start, end) on the wall clock.
    ['the start minute is inside', { times: [{ start_time: '09:00', end_time: '17:00' }] }, '2026-03-02T09:00:00Z', true],
    ['the end minute is outside', { times: [{ start_time: '09:00', end_time: '17:00' }] }, '2026-03-02T17:00:00Z', false],
    ['the last minute before the end is inside', { times: [{ start_time: '09:00', end_time: '17:00' }] }, '2026-03-02T16:59:59Z', true],
    ['before the start is outside', { times: [{ start_time: '09:00', end_time: '17:00' }] }, '2026-03-02T08:59:59Z', false],
    ['24:00 as an end reaches midnight', { times: [{ start_time: '22:00', end_time: '24:00' }] }, '2026-03-02T23:59:00Z', true],
    ['any of several time ranges', { times: [{ start_time: '00:00', end_time: '06:00' }, { start_time: '22:00', end_time: '24:00' }] }, '2026-03-02T05:00:00Z', true],

    // Europe/Berlin, spring forward on Sunday 2026-03-29 (02:00 CET -> 03:00 CEST).
    ['Berlin, Friday before: 08:00Z is 09:00 CET', nineToFive('Europe/Berlin'), '2026-03-27T08:00:00Z', true],
    // Pinned to CET this would be 08:00, outside.
    ['Berlin, Monday after: 07:00Z is 09:00 CEST', nineToFive('Europe/Berlin'), '2026-03-30T07:00:00Z', true],
    // Pinned to CET this would be 16:00, inside.
    ['Berlin, Monday after: 15:00Z is 17:00 CEST', nineToFive('Europe/Berlin'), '2026-03-30T15:00:00Z', false],
    // The skipped hour never happens: 01:00Z is already 03:00 CEST.
    ['Berlin, the skipped hour 02:00-03:00 is never active', { times: [{ start_time: '02:00', end_time: '03:00' }], location: 'Europe/Berlin' }, '2026-03-29T01:00:00Z', false],
    ['Berlin, just before the skipped hour', { times: [{ start_time: '01:00', end_time: '02:00' }], location: 'Europe/Berlin' }, '2026-03-29T00:59:00Z', true],
    // Fall back on Sunday 2026-10-25 (03:00 CEST -> 02:00 CET): 02:30 happens twice, both inside.
    ['Berlin, 02:30 CEST (first time)', { times: [{ start_time: '02:00', end_time: '03:00' }], location: 'Europe/Berlin' }, '2026-10-25T00:30:00Z', true],
    ['Berlin, 02:30 CET (second time)', { times: [{ start_time: '02:00', end_time: '03:00' }], location: 'Europe/Berlin' }, '2026-10-25T01:30:00Z', true],
    // Pinned to CEST this would be 09:30, inside.
    ['Berlin, Monday after fall back: 07:30Z is 08:30 CET', nineToFive('Europe/Berlin'), '2026-10-26T07:30:00Z', false],
    ['Berlin, Monday after fall back: 08:00Z is 09:00 CET', nineToFive('Europe/Berlin'), '2026-10-26T08:00:00Z', true],

    // America/New_York, spring forward on Sunday 2026-03-08, fall back on Sunday 2026-11-01.
    ['New York, Friday before: 14:00Z is 09:00 EST', nineToFive('America/New_York'), '2026-03-06T14:00:00Z', true],
    // Pinned to EST this would be 08:00, outside.
    ['New York, Monday after: 13:00Z is 09:00 EDT', nineToFive('America/New_York'), '2026-03-09T13:00:00Z', true],
    // Pinned to EDT this would be 09:30, inside.
    ['New York, Monday after fall back: 13:30Z is 08:30 EST', nineToFive('America/New_York'), '2026-11-02T13:30:00Z', false],
    ['New York, Monday after fall back: 21:30Z is 16:30 EST', nineToFive('America/New_York'), '2026-11-02T21:30:00Z', true],

    // Weekdays.
    ['monday:friday excludes Saturday', { weekdays: ['monday:friday'] }, '2026-03-07T12:00:00Z', false],
    ['monday:friday includes Friday', { weekdays: ['monday:friday'] }, '2026-03-06T12:00:00Z', true],
    ['a single day, any case', { weekdays: ['Saturday'] }, '2026-03-07T12:00:00Z', true],
    // Sunday 23:30 UTC is Monday 00:30 in Berlin: the weekday is read in the zone.
    ['the weekday is the zone\'s', { weekdays: ['monday'], location: 'Europe/Berlin' }, '2026-03-01T23:30:00Z', true],
    ['the same instant in UTC is Sunday', { weekdays: ['monday'] }, '2026-03-01T23:30:00Z', false],

    // Days of month, negative ones from the month's real last day.
    ['-1 is 29 February in a leap year', { days_of_month: ['-1'] }, '2024-02-29T12:00:00Z', true],
    ['-1 is not 28 February in a leap year', { days_of_month: ['-1'] }, '2024-02-28T12:00:00Z', false],
    ['-1 is 28 February otherwise', { days_of_month: ['-1'] }, '2025-02-28T12:00:00Z', true],
    ['-1 is not 27 February otherwise', { days_of_month: ['-1'] }, '2025-02-27T12:00:00Z', false],
    // Alertmanager's bug: March 2026 in Berlin lasts 31 days minus an hour, which hours / 24 made 30.
    ['-1 is 31 March in Berlin, a spring-forward month', { days_of_month: ['-1'], location: 'Europe/Berlin' }, '2026-03-31T10:00:00Z', true],
    ['-1 is not 30 March in Berlin', { days_of_month: ['-1'], location: 'Europe/Berlin' }, '2026-03-30T10:00:00Z', false],
    ['-1 is 31 March in New York, a spring-forward month', { days_of_month: ['-1'], location: 'America/New_York' }, '2026-03-31T16:00:00Z', true],
    ['-1 is 30 April', { days_of_month: ['-1'] }, '2026-04-30T12:00:00Z', true],
    ['-3:-1 starts on 26 February otherwise', { days_of_month: ['-3:-1'] }, '2025-02-26T12:00:00Z', true],
    ['-3:-1 excludes 25 February otherwise', { days_of_month: ['-3:-1'] }, '2025-02-25T12:00:00Z', false],
    ['-3:-1 starts on 27 February in a leap year', { days_of_month: ['-3:-1'] }, '2024-02-27T12:00:00Z', true],
    ['-3:-1 excludes 26 February in a leap year', { days_of_month: ['-3:-1'] }, '2024-02-26T12:00:00Z', false],
    ['1:5 includes the 5th', { days_of_month: ['1:5'] }, '2026-04-05T12:00:00Z', true],
    ['1:5 excludes the 6th', { days_of_month: ['1:5'] }, '2026-04-06T12:00:00Z', false],
    ['29:31 has no day in a 28-day February', { days_of_month: ['29:31'] }, '2025-02-28T12:00:00Z', false],
    ['29:31 has the 29th in a leap February', { days_of_month: ['29:31'] }, '2024-02-29T12:00:00Z', true],
    ['1:-1 is the whole month', { days_of_month: ['1:-1'] }, '2026-04-30T12:00:00Z', true],
    ['-31:-1 is the whole of February too', { days_of_month: ['-31:-1'] }, '2025-02-01T12:00:00Z', true],
    // 31 March 23:30 UTC is 1 April in Berlin: the day is read in the zone.
    ['the day of month is the zone\'s', { days_of_month: ['-1'], location: 'Europe/Berlin' }, '2026-03-31T23:30:00Z', false],
    ['the same instant in UTC is the last day', { days_of_month: ['-1'] }, '2026-03-31T23:30:00Z', true],

    // Months and years.
    ['january:march includes 31 March', { months: ['january:march'] }, '2026-03-31T12:00:00Z', true],
    ['january:march excludes April', { months: ['january:march'] }, '2026-04-01T12:00:00Z', false],
    ['a month by number', { months: ['12'] }, '2026-12-01T00:00:00Z', true],
    ['a month by name, any case', { months: ['December'] }, '2026-11-30T23:59:00Z', false],
    ['2024:2026 includes 2026', { years: ['2024:2026'] }, '2026-12-31T23:59:00Z', true],
    ['2024:2026 excludes 2027', { years: ['2024:2026'] }, '2027-01-01T00:00:00Z', false],
    // 31 December 23:30 UTC is already 2027 in Berlin.
    ['the year is the zone\'s', { years: ['2026'], location: 'Europe/Berlin' }, '2026-12-31T23:30:00Z', false],

    // Fields combine with AND; an empty entry is always.
    ['every field must hold: weekday fails', nineToFive('UTC'), '2026-03-07T10:00:00Z', false],
    ['every field must hold: time fails', nineToFive('UTC'), '2026-03-06T18:00:00Z', false],
    ['every field holds', nineToFive('UTC'), '2026-03-06T10:00:00Z', true],
    ['an empty entry is always', {}, '2026-03-06T10:00:00Z', true],
    ['empty lists mean any', { times: [], weekdays: [], days_of_month: [], months: [], years: [] }, '2026-03-06T10:00:00Z', true],
  ])('%s', (_, entry, iso, expected) => {
    expect(isActiveAt(named(entry), at(iso))).toBe(expected);
  });

  it('is active when any entry is (weekends as two entries)', () => {
    const weekend = named({ weekdays: ['saturday'] }, { weekdays: ['sunday'] });
    expect(isActiveAt(weekend, at('2026-03-08T12:00:00Z'))).toBe(true);
    expect(isActiveAt(weekend, at('2026-03-09T12:00:00Z'))).toBe(false);
  });

  it('an interval without entries is never active (Alertmanager)', () => {
    expect(isActiveAt(named(), at('2026-03-08T12:00:00Z'))).toBe(false);
  });
});

describe('TimeInterval schema', () => {
  it('parses to minutes and ranges, with UTC by default and zone names made canonical', () => {
    expect(
      TimeIntervalSchema.parse({
        name: 'business',
        time_intervals: [
          { times: [{ start_time: '09:00', end_time: '24:00' }], weekdays: ['monday:friday'], days_of_month: ['-3:-1'], months: ['march', '1:2'], years: ['2026'] },
          { location: 'europe/berlin' },
        ],
      }),
    ).toEqual({
      name: 'business',
      time_intervals: [
        {
          times: [{ start_minute: 540, end_minute: 1440 }],
          weekdays: [{ start: 1, end: 5 }],
          days_of_month: [{ start: -3, end: -1 }],
          months: [{ start: 3, end: 3 }, { start: 1, end: 2 }],
          years: [{ start: 2026, end: 2026 }],
          location: 'UTC',
        },
        { times: [], weekdays: [], days_of_month: [], months: [], years: [], location: 'Europe/Berlin' },
      ],
    });
  });

  it.each<[string, Entry, string, RegExp]>([
    ['an unknown zone', { location: 'Mars/Olympus_Mons' }, 'time_intervals.0.location', /not an IANA time zone/],
    // The server's zone would change with the machine.
    ["Alertmanager's Local", { location: 'Local' }, 'time_intervals.0.location', /not an IANA time zone/],
    ['a time without two-digit hours', { times: [{ start_time: '9:00', end_time: '17:00' }] }, 'time_intervals.0.times.0.start_time', /not a time HH:MM/],
    ['an end after 24:00', { times: [{ start_time: '09:00', end_time: '24:01' }] }, 'time_intervals.0.times.0.end_time', /not a time HH:MM/],
    ['a range across midnight', { times: [{ start_time: '22:00', end_time: '06:00' }] }, 'time_intervals.0.times.0.end_time', /must be after start_time 22:00.*split it/],
    ['an empty range', { times: [{ start_time: '09:00', end_time: '09:00' }] }, 'time_intervals.0.times.0.end_time', /must be after start_time/],
    ['24:00 as a start', { times: [{ start_time: '24:00', end_time: '24:00' }] }, 'time_intervals.0.times.0.end_time', /must be after start_time/],
    ['a missing end time', { times: [{ start_time: '09:00' }] }, 'time_intervals.0.times.0.end_time', /expected string/],
    ['weekdays backwards', { weekdays: ['monday', 'saturday:sunday'] }, 'time_intervals.0.weekdays.1', /runs backwards.*'saturday', 'sunday'/],
    ['an unknown weekday', { weekdays: ['funday'] }, 'time_intervals.0.weekdays.0', /'funday' is not a weekday/],
    ['day 0', { days_of_month: ['0'] }, 'time_intervals.0.days_of_month.0', /'0' is not a day of the month/],
    ['day 32', { days_of_month: ['1:32'] }, 'time_intervals.0.days_of_month.0', /'32' is not a day of the month/],
    ['a negative start with a positive end', { days_of_month: ['-1:5'] }, 'time_intervals.0.days_of_month.0', /negative start day needs a negative end day/],
    ['positive days backwards', { days_of_month: ['10:5'] }, 'time_intervals.0.days_of_month.0', /end day is before the start day/],
    ['negative days backwards', { days_of_month: ['-1:-3'] }, 'time_intervals.0.days_of_month.0', /end day is before the start day/],
    ['a range that is empty in every month', { days_of_month: ['31:-2'] }, 'time_intervals.0.days_of_month.0', /end day is before the start day/],
    ['months backwards', { months: ['march:january'] }, 'time_intervals.0.months.0', /end month is before the start month/],
    ['month 13', { months: ['13'] }, 'time_intervals.0.months.0', /'13' is not a month/],
    ['years backwards', { years: ['2026:2024'] }, 'time_intervals.0.years.0', /end year is before the start year/],
    ['three parts', { months: ['1:2:3'] }, 'time_intervals.0.months.0', /one value or a range/],
    ['an unknown field', { time_zone: 'UTC' }, 'time_intervals.0', /Unrecognized key/],
  ])('refuses %s', (_, entry, path, message) => {
    const r = TimeIntervalSchema.safeParse({ name: 'x', time_intervals: [entry] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path.join('.')).toBe(path);
    expect(r.error!.issues[0]!.message).toMatch(message);
  });

  it('accepts ranges that hold in some months only (30:-1 in a 31-day month)', () => {
    const ti = named({ days_of_month: ['30:-1'] });
    expect(isActiveAt(ti, at('2026-03-31T12:00:00Z'))).toBe(true);
    expect(isActiveAt(ti, at('2026-03-29T12:00:00Z'))).toBe(false);
  });

  it('refuses two intervals with one name, pointing at the second', () => {
    const r = TimeIntervals.safeParse([
      { name: 'nights', time_intervals: [] },
      { name: 'nights', time_intervals: [] },
    ]);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['1.name', "time interval 'nights' is defined twice"]]);
  });
});
