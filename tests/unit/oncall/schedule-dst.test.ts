import { describe, expect, it } from 'vitest';
import { layerShifts, onCallAt } from '../../../src/oncall/schedule.ts';
import { Schedule } from '../../../src/oncall/schedule-schemas.ts';

/**
 * Rotations across both DST changes of each zone the issue names, on fixed instants. Every row is one
 * layer starting at its first handoff; `handoffs` are the expected turn boundaries in UTC (the last
 * one ends the window), `users` who holds each turn. Members are a, b, c, d.
 */
type Rotation = { type: 'daily' } | { type: 'weekly' } | { type: 'custom'; turnLength: string };
const daily: Rotation = { type: 'daily' };
const weekly: Rotation = { type: 'weekly' };
const halfDay: Rotation = { type: 'custom', turnLength: '12h' };
const hourly: Rotation = { type: 'custom', turnLength: '1h' };

interface Row {
  zone: string;
  rotation: Rotation;
  handoff: string;
  handoffs: string[];
  users: string;
}

const h = (text: string) => `${text}:00.000Z`;

const rows: Array<[string, Row]> = [
  // Europe/London: GMT -> BST on 29 March 2026 at 01:00 UTC; BST -> GMT on 25 October at 01:00 UTC.
  ['London spring, daily: the turn over the change is 23 h', { zone: 'Europe/London', rotation: daily, handoff: '09:00', handoffs: ['2026-03-28T09:00', '2026-03-29T08:00', '2026-03-30T08:00'], users: 'ab' }],
  ['London autumn, daily: 25 h', { zone: 'Europe/London', rotation: daily, handoff: '09:00', handoffs: ['2026-10-24T08:00', '2026-10-25T09:00', '2026-10-26T09:00'], users: 'ab' }],
  ['London spring, weekly: 167 h', { zone: 'Europe/London', rotation: weekly, handoff: '09:00', handoffs: ['2026-03-23T09:00', '2026-03-30T08:00', '2026-04-06T08:00'], users: 'ab' }],
  ['London autumn, weekly: 169 h', { zone: 'Europe/London', rotation: weekly, handoff: '09:00', handoffs: ['2026-10-19T08:00', '2026-10-26T09:00', '2026-11-02T09:00'], users: 'ab' }],
  ['London spring, 12 h: the night turn is 11 h', { zone: 'Europe/London', rotation: halfDay, handoff: '09:00', handoffs: ['2026-03-28T09:00', '2026-03-28T21:00', '2026-03-29T08:00', '2026-03-29T20:00'], users: 'abc' }],
  ['London autumn, 12 h: the night turn is 13 h', { zone: 'Europe/London', rotation: halfDay, handoff: '09:00', handoffs: ['2026-10-24T08:00', '2026-10-24T20:00', '2026-10-25T09:00', '2026-10-25T21:00'], users: 'abc' }],
  // America/New_York: EST -> EDT on 8 March 2026 at 02:00 local; EDT -> EST on 1 November at 02:00 local.
  ['New York spring, daily: 23 h', { zone: 'America/New_York', rotation: daily, handoff: '09:00', handoffs: ['2026-03-07T14:00', '2026-03-08T13:00', '2026-03-09T13:00'], users: 'ab' }],
  ['New York autumn, daily: 25 h', { zone: 'America/New_York', rotation: daily, handoff: '09:00', handoffs: ['2026-10-31T13:00', '2026-11-01T14:00', '2026-11-02T14:00'], users: 'ab' }],
  ['New York spring, weekly: 167 h', { zone: 'America/New_York', rotation: weekly, handoff: '09:00', handoffs: ['2026-03-02T14:00', '2026-03-09T13:00', '2026-03-16T13:00'], users: 'ab' }],
  ['New York autumn, weekly: 169 h', { zone: 'America/New_York', rotation: weekly, handoff: '09:00', handoffs: ['2026-10-26T13:00', '2026-11-02T14:00', '2026-11-09T14:00'], users: 'ab' }],
  ['New York spring, 12 h: 11 h night', { zone: 'America/New_York', rotation: halfDay, handoff: '09:00', handoffs: ['2026-03-07T14:00', '2026-03-08T02:00', '2026-03-08T13:00', '2026-03-09T01:00'], users: 'abc' }],
  ['New York autumn, 12 h: 13 h night', { zone: 'America/New_York', rotation: halfDay, handoff: '09:00', handoffs: ['2026-10-31T13:00', '2026-11-01T01:00', '2026-11-01T14:00', '2026-11-02T02:00'], users: 'abc' }],
  // Australia/Sydney: AEDT -> AEST on 5 April 2026 (03:00 -> 02:00); AEST -> AEDT on 4 October (02:00 -> 03:00).
  ['Sydney April (clocks back), daily: 25 h', { zone: 'Australia/Sydney', rotation: daily, handoff: '09:00', handoffs: ['2026-04-03T22:00', '2026-04-04T23:00', '2026-04-05T23:00'], users: 'ab' }],
  ['Sydney October (clocks forward), daily: 23 h', { zone: 'Australia/Sydney', rotation: daily, handoff: '09:00', handoffs: ['2026-10-02T23:00', '2026-10-03T22:00', '2026-10-04T22:00'], users: 'ab' }],
  ['Sydney April, weekly: 169 h', { zone: 'Australia/Sydney', rotation: weekly, handoff: '09:00', handoffs: ['2026-03-29T22:00', '2026-04-05T23:00', '2026-04-12T23:00'], users: 'ab' }],
  ['Sydney October, weekly: 167 h', { zone: 'Australia/Sydney', rotation: weekly, handoff: '09:00', handoffs: ['2026-09-27T23:00', '2026-10-04T22:00', '2026-10-11T22:00'], users: 'ab' }],
  ['Sydney April, 12 h: 13 h night', { zone: 'Australia/Sydney', rotation: halfDay, handoff: '09:00', handoffs: ['2026-04-03T22:00', '2026-04-04T10:00', '2026-04-04T23:00', '2026-04-05T11:00'], users: 'abc' }],
  ['Sydney October, 12 h: 11 h night', { zone: 'Australia/Sydney', rotation: halfDay, handoff: '09:00', handoffs: ['2026-10-02T23:00', '2026-10-03T11:00', '2026-10-03T22:00', '2026-10-04T10:00'], users: 'abc' }],
  // Australia/Lord_Howe: 30-minute DST, +11 -> +10:30 on 5 April 2026 (02:00 -> 01:30); back on 4 October (02:00 -> 02:30).
  ['Lord Howe April, daily: 24.5 h', { zone: 'Australia/Lord_Howe', rotation: daily, handoff: '09:00', handoffs: ['2026-04-03T22:00', '2026-04-04T22:30', '2026-04-05T22:30'], users: 'ab' }],
  ['Lord Howe October, daily: 23.5 h', { zone: 'Australia/Lord_Howe', rotation: daily, handoff: '09:00', handoffs: ['2026-10-02T22:30', '2026-10-03T22:00', '2026-10-04T22:00'], users: 'ab' }],
  ['Lord Howe April, weekly: 168.5 h', { zone: 'Australia/Lord_Howe', rotation: weekly, handoff: '09:00', handoffs: ['2026-03-29T22:00', '2026-04-05T22:30', '2026-04-12T22:30'], users: 'ab' }],
  ['Lord Howe October, weekly: 167.5 h', { zone: 'Australia/Lord_Howe', rotation: weekly, handoff: '09:00', handoffs: ['2026-09-27T22:30', '2026-10-04T22:00', '2026-10-11T22:00'], users: 'ab' }],
  ['Lord Howe April, 12 h: 12.5 h night', { zone: 'Australia/Lord_Howe', rotation: halfDay, handoff: '09:00', handoffs: ['2026-04-03T22:00', '2026-04-04T10:00', '2026-04-04T22:30', '2026-04-05T10:30'], users: 'abc' }],
  ['Lord Howe October, 12 h: 11.5 h night', { zone: 'Australia/Lord_Howe', rotation: halfDay, handoff: '09:00', handoffs: ['2026-10-02T22:30', '2026-10-03T10:30', '2026-10-03T22:00', '2026-10-04T10:00'], users: 'abc' }],
  // Handoffs at a skipped local time: the next valid instant (the moment the clock jumps).
  ['New York 02:30 handoff on the spring day: at 03:00 EDT', { zone: 'America/New_York', rotation: daily, handoff: '02:30', handoffs: ['2026-03-07T07:30', '2026-03-08T07:00', '2026-03-09T06:30'], users: 'ab' }],
  ['Lord Howe 02:15 handoff on the October day: at 02:30 (+11)', { zone: 'Australia/Lord_Howe', rotation: daily, handoff: '02:15', handoffs: ['2026-10-02T15:45', '2026-10-03T15:30', '2026-10-04T15:15'], users: 'ab' }],
  ['London 01:30 handoff on the spring day: at 02:00 BST', { zone: 'Europe/London', rotation: daily, handoff: '01:30', handoffs: ['2026-03-28T01:30', '2026-03-29T01:00', '2026-03-30T00:30'], users: 'ab' }],
  // Handoffs at a repeated local time: the first occurrence, so the following turn has the extra hour.
  ['New York 01:30 handoff on the autumn day: the first 01:30 (EDT)', { zone: 'America/New_York', rotation: daily, handoff: '01:30', handoffs: ['2026-10-31T05:30', '2026-11-01T05:30', '2026-11-02T06:30'], users: 'ab' }],
  ['Sydney 02:30 handoff in April: the first 02:30 (AEDT)', { zone: 'Australia/Sydney', rotation: daily, handoff: '02:30', handoffs: ['2026-04-03T15:30', '2026-04-04T15:30', '2026-04-05T16:30'], users: 'ab' }],
  // Hourly rotations stay on the wall clock: the 02:00 turn of the spring day does not exist (c is
  // passed over), the 01:00 turn of the autumn day lasts two hours.
  ['New York spring, hourly: the skipped hour is an empty turn', { zone: 'America/New_York', rotation: hourly, handoff: '00:00', handoffs: ['2026-03-08T05:00', '2026-03-08T06:00', '2026-03-08T07:00', '2026-03-08T08:00', '2026-03-08T09:00'], users: 'abda' }],
  ['New York autumn, hourly: the repeated hour joins the 01:00 turn', { zone: 'America/New_York', rotation: hourly, handoff: '00:00', handoffs: ['2026-11-01T04:00', '2026-11-01T05:00', '2026-11-01T07:00', '2026-11-01T08:00'], users: 'abc' }],
  // Leap day: a weekly Tuesday handoff falls on 29 February 2028; turns stay 7 days.
  ['leap day 2028, weekly from Tuesday 22 February', { zone: 'Europe/London', rotation: weekly, handoff: '09:00', handoffs: ['2028-02-22T09:00', '2028-02-29T09:00', '2028-03-07T09:00', '2028-03-14T09:00'], users: 'abc' }],
  ['leap day 2028, daily over 28 Feb .. 1 Mar', { zone: 'America/New_York', rotation: daily, handoff: '09:00', handoffs: ['2028-02-28T14:00', '2028-02-29T14:00', '2028-03-01T14:00', '2028-03-02T14:00'], users: 'abc' }],
];

function oneLayer(row: Row) {
  return Schedule.parse({
    id: 'sched',
    name: 'Primary',
    zone: row.zone,
    layers: [{ id: 'l1', versions: [{ effectiveFrom: h(row.handoffs[0]!), rotation: row.rotation, handoff: row.handoff, members: ['a', 'b', 'c', 'd'] }] }],
  });
}

describe('rotations across DST changes (turns counted on the wall clock)', () => {
  it.each(rows)('%s', (_, row) => {
    const schedule = oneLayer(row);
    const from = Date.parse(h(row.handoffs[0]!));
    const to = Date.parse(h(row.handoffs[row.handoffs.length - 1]!));
    const expected = row.handoffs.slice(0, -1).map((start, i) => ({ start: h(start), end: h(row.handoffs[i + 1]!), user: row.users[i] }));
    const shifts = layerShifts(schedule, from, to)[0]!.shifts.map((s) => ({ start: new Date(s.start).toISOString(), end: new Date(s.end).toISOString(), user: s.user }));
    expect(shifts).toEqual(expected);
    // onCallAt agrees at both ends of every turn and every 10 minutes through it (repeated hours included).
    for (const s of expected) {
      expect(onCallAt(schedule, Date.parse(s.start))?.user, `at ${s.start}`).toBe(s.user);
      expect(onCallAt(schedule, Date.parse(s.end) - 1)?.user, `just before ${s.end}`).toBe(s.user);
      for (let t = Date.parse(s.start); t < Date.parse(s.end); t += 10 * 60_000) expect(onCallAt(schedule, t)?.user, new Date(t).toISOString()).toBe(s.user);
    }
  });

  it('a weekly handoffDay other than the start day gives a partial first turn to the first member', () => {
    const schedule = Schedule.parse({
      id: 'sched',
      name: 'Primary',
      zone: 'Europe/London',
      // Wednesday 4 March 2026 12:00; handoffs on Mondays 09:00.
      layers: [{ id: 'l1', versions: [{ effectiveFrom: '2026-03-04T12:00:00Z', rotation: { type: 'weekly', handoffDay: 'monday' }, handoff: '09:00', members: ['a', 'b'] }] }],
    });
    const shifts = layerShifts(schedule, Date.parse('2026-03-01T00:00:00Z'), Date.parse('2026-03-23T09:00:00Z'))[0]!.shifts;
    expect(shifts.map((s) => [new Date(s.start).toISOString(), s.user])).toEqual([
      ['2026-03-04T12:00:00.000Z', 'a'],
      ['2026-03-09T09:00:00.000Z', 'b'],
      ['2026-03-16T09:00:00.000Z', 'a'],
    ]);
  });
});
