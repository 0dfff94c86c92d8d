import { describe, expect, it } from 'vitest';
import { canonicalZone, clockReached, localTime, offsetAt, toInstant } from '../../../src/core/zoned-time.ts';

/** A local time (wall-clock reading) written as ISO without a zone. */
const local = (text: string) => Date.parse(`${text}Z`);
const iso = (t: number) => new Date(t).toISOString();

describe('toInstant: the first instant the clock reads the local time or later', () => {
  it.each<[string, string, string, string]>([
    // [zone, local time, expected instant, why]
    ['Europe/London', '2026-03-28T09:00', '2026-03-28T09:00:00.000Z', 'winter: GMT'],
    ['Europe/London', '2026-03-29T00:59', '2026-03-29T00:59:00.000Z', 'the last minute before spring-forward'],
    ['Europe/London', '2026-03-29T01:30', '2026-03-29T01:00:00.000Z', 'skipped: 01:00 GMT jumps to 02:00 BST, so 02:00 BST'],
    ['Europe/London', '2026-03-29T02:00', '2026-03-29T01:00:00.000Z', 'the first valid time after the gap is the jump too'],
    ['Europe/London', '2026-10-25T01:30', '2026-10-25T00:30:00.000Z', 'repeated: the first 01:30 (BST)'],
    ['Europe/London', '2026-10-25T02:00', '2026-10-25T02:00:00.000Z', 'after the repeated hour: GMT'],
    ['America/New_York', '2026-03-08T02:30', '2026-03-08T07:00:00.000Z', 'skipped: 03:00 EDT'],
    ['America/New_York', '2026-03-08T03:00', '2026-03-08T07:00:00.000Z', '03:00 EDT itself'],
    ['America/New_York', '2026-11-01T01:30', '2026-11-01T05:30:00.000Z', 'repeated: the first 01:30 (EDT), not 06:30Z (EST)'],
    ['America/New_York', '2026-11-01T00:59', '2026-11-01T04:59:00.000Z', 'before the repeated hour'],
    ['Australia/Sydney', '2026-04-05T02:30', '2026-04-04T15:30:00.000Z', 'repeated (autumn in April): the first 02:30 (AEDT)'],
    ['Australia/Sydney', '2026-10-04T02:30', '2026-10-03T16:00:00.000Z', 'skipped (spring in October): 03:00 AEDT'],
    ['Australia/Lord_Howe', '2026-04-05T01:45', '2026-04-04T14:45:00.000Z', 'repeated half hour 01:30-02:00: the first (+11)'],
    ['Australia/Lord_Howe', '2026-04-05T02:00', '2026-04-04T15:30:00.000Z', 'after the repeated half hour: +10:30'],
    ['Australia/Lord_Howe', '2026-10-04T02:15', '2026-10-03T15:30:00.000Z', 'skipped half hour: 02:00 jumps to 02:30'],
    ['Australia/Lord_Howe', '2026-10-04T02:30', '2026-10-03T15:30:00.000Z', '02:30 (+11) itself'],
    ['Pacific/Apia', '2011-12-30T12:00', '2011-12-30T10:00:00.000Z', 'a whole skipped day (Samoa crossed the date line)'],
    ['UTC', '2028-02-29T09:00', '2028-02-29T09:00:00.000Z', 'a leap day'],
  ])('%s %s -> %s (%s)', (zone, text, expected) => {
    expect(iso(toInstant(zone, local(text)))).toBe(expected);
  });

  it('never decreases, and reads back every local time that exists (a day of minutes in each zone)', () => {
    for (const [zone, day] of [
      ['Europe/London', '2026-03-29'],
      ['Europe/London', '2026-10-25'],
      ['America/New_York', '2026-03-08'],
      ['America/New_York', '2026-11-01'],
      ['Australia/Sydney', '2026-04-05'],
      ['Australia/Sydney', '2026-10-04'],
      ['Australia/Lord_Howe', '2026-04-05'],
      ['Australia/Lord_Howe', '2026-10-04'],
    ] as const) {
      let prev = -Infinity;
      for (let m = 0; m < 24 * 60; m += 5) {
        const l = local(`${day}T00:00`) + m * 60_000;
        const t = toInstant(zone, l);
        expect(t, `${zone} ${day} +${m} min`).toBeGreaterThanOrEqual(prev);
        const read = localTime(zone, t);
        // Either the reading itself, or (in a gap) the first reading after it.
        expect(read >= l, `${zone} ${iso(l)}`).toBe(true);
        if (read !== l) expect(localTime(zone, t - 1000)).toBeLessThan(l);
        prev = t;
      }
    }
  });
});

describe('clockReached: the latest reading the clock has shown', () => {
  it.each<[string, string, string, string]>([
    // [zone, instant, expected reading, why]
    ['America/New_York', '2026-11-01T05:30:00Z', '2026-11-01T01:30:00.000Z', 'the first 01:30 (EDT): the reading itself'],
    ['America/New_York', '2026-11-01T06:00:00Z', '2026-11-01T01:59:59.999Z', 'clocks went back to 01:00 EST: the top of the first pass'],
    ['America/New_York', '2026-11-01T06:59:59Z', '2026-11-01T01:59:59.999Z', 'the end of the repeated hour'],
    ['America/New_York', '2026-11-01T07:00:00Z', '2026-11-01T02:00:00.000Z', 'past it: the reading again'],
    ['America/New_York', '2026-11-01T12:00:00Z', '2026-11-01T07:00:00.000Z', 'later that day'],
    ['America/New_York', '2026-03-08T07:00:00Z', '2026-03-08T03:00:00.000Z', 'spring-forward: the reading'],
    ['Australia/Lord_Howe', '2026-04-04T15:10:00Z', '2026-04-05T01:59:59.999Z', 'a repeated half hour'],
    ['Australia/Lord_Howe', '2026-04-04T15:30:00Z', '2026-04-05T02:00:00.000Z', 'past it'],
  ])('%s at %s reads %s (%s)', (zone, at, expected) => {
    expect(iso(clockReached(zone, Date.parse(at)))).toBe(expected);
  });
});

describe('offsetAt and localTime', () => {
  it.each<[string, string, number]>([
    ['Europe/London', '2026-07-01T12:00:00Z', 60],
    ['America/New_York', '2026-01-15T12:00:00Z', -300],
    ['Australia/Lord_Howe', '2026-01-15T12:00:00Z', 660],
    ['Australia/Lord_Howe', '2026-07-15T12:00:00Z', 630],
    ['Asia/Kathmandu', '2026-07-15T12:00:00Z', 345],
  ])('%s at %s is UTC%+d min', (zone, at, minutes) => {
    expect(offsetAt(zone, Date.parse(at))).toBe(minutes * 60_000);
    expect(localTime(zone, Date.parse(at) + 123)).toBe(Date.parse(at) + minutes * 60_000 + 123);
  });
});

describe('canonicalZone', () => {
  it.each<[string, string | null]>([
    ['Europe/London', 'Europe/London'],
    ['europe/london', 'Europe/London'],
    ['UTC', 'UTC'],
    ['Mars/Olympus_Mons', null],
    ['+01:00', null],
    ['local', null],
    ['', null],
  ])('%j -> %j', (zone, expected) => {
    expect(canonicalZone(zone)).toBe(expected);
  });
});
