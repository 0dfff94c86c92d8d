import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { finalShifts, layerShifts, nextHandoffs, onCallAt, type Shift, swapOverrides } from '../../../src/oncall/schedule.ts';
import { Schedule, type ScheduleInput } from '../../../src/oncall/schedule-schemas.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString().replace(':00.000Z', 'Z');
/** Shifts as [start, end, user] with minute-precision ISO text, for readable expectations. */
const show = (shifts: Shift[]) => shifts.map((s) => [iso(s.start), iso(s.end), s.user]);

const base = (over: Partial<ScheduleInput> = {}): ScheduleInput => ({
  id: 'sched-1',
  name: 'Primary',
  zone: 'Europe/London',
  layers: [{ id: 'l1', versions: [{ effectiveFrom: '2026-12-01T09:00:00Z', rotation: { type: 'daily' }, handoff: '09:00', members: ['ann', 'bob', 'cat'] }] }],
  ...over,
});

describe('restrictions: windows of local time, across DST', () => {
  // Weekdays 09:00-17:00 New York, a weekly rotation; EST -> EDT on Sunday 8 March 2026.
  const schedule = Schedule.parse(
    base({
      zone: 'America/New_York',
      layers: [
        {
          id: 'business-hours',
          versions: [
            {
              effectiveFrom: '2026-03-02T14:00:00Z',
              rotation: { type: 'weekly' },
              handoff: '09:00',
              members: ['ann', 'bob'],
              restrictions: (['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const).map((day) => ({ day, start: '09:00', end: '17:00' })),
            },
          ],
        },
      ],
    }),
  );

  it('follows the wall clock: 14:00-22:00 UTC before the change, 13:00-21:00 after; nobody at weekends', () => {
    expect(show(finalShifts(schedule, at('2026-03-05T00:00:00Z'), at('2026-03-11T00:00:00Z')))).toEqual([
      ['2026-03-05T14:00Z', '2026-03-05T22:00Z', 'ann'],
      ['2026-03-06T14:00Z', '2026-03-06T22:00Z', 'ann'],
      ['2026-03-09T13:00Z', '2026-03-09T21:00Z', 'bob'],
      ['2026-03-10T13:00Z', '2026-03-10T21:00Z', 'bob'],
    ]);
  });

  it.each<[string, string | null]>([
    ['2026-03-06T13:59:59Z', null], // Friday 08:59:59 EST
    ['2026-03-06T14:00:00Z', 'ann'], // Friday 09:00 EST
    ['2026-03-07T15:00:00Z', null], // Saturday
    ['2026-03-09T13:00:00Z', 'bob'], // Monday 09:00 EDT: a new week, bob's turn
    ['2026-03-09T20:59:59Z', 'bob'],
    ['2026-03-09T21:00:00Z', null], // Monday 17:00 EDT
    ['2026-03-09T21:30:00Z', null], // 16:30 EST would have been inside: the window follows the clock
  ])('at %s: %s', (t, user) => {
    expect(onCallAt(schedule, at(t))?.user ?? null).toBe(user);
  });

  it('daily windows cover every day, and a window ending 24:00 joins the next day 00:00', () => {
    const s = Schedule.parse(
      base({
        layers: [
          {
            id: 'nights',
            versions: [
              {
                effectiveFrom: '2026-12-01T09:00:00Z',
                rotation: { type: 'weekly' },
                handoff: '09:00',
                members: ['ann'],
                restrictions: [
                  { start: '00:00', end: '06:00' },
                  { start: '22:00', end: '24:00' },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(show(finalShifts(s, at('2026-12-01T09:00:00Z'), at('2026-12-03T09:00:00Z')))).toEqual([
      ['2026-12-01T22:00Z', '2026-12-02T06:00Z', 'ann'],
      ['2026-12-02T22:00Z', '2026-12-03T06:00Z', 'ann'],
    ]);
  });
});

describe('follow-the-sun: three layers in three zones, 8 hours each', () => {
  // In December: Sydney is UTC+11, London UTC+0, New York UTC-5.
  // Weekly turns handed off at the start of the layer's window, from Monday 30 November (local).
  const layer = (id: string, zone: string, effectiveFrom: string, start: string, end: string, members: string[]) => ({
    id,
    versions: [{ effectiveFrom, zone, rotation: { type: 'weekly' as const }, handoff: start, members, restrictions: [{ start, end }] }],
  });
  const schedule = Schedule.parse(
    base({
      layers: [
        layer('apac', 'Australia/Sydney', '2026-11-29T20:00:00Z', '07:00', '15:00', ['syd1', 'syd2']), // 20:00-04:00 UTC
        layer('emea', 'Europe/London', '2026-11-30T04:00:00Z', '04:00', '12:00', ['lon1', 'lon2']), // 04:00-12:00 UTC
        layer('amer', 'America/New_York', '2026-11-30T12:00:00Z', '07:00', '15:00', ['nyc1', 'nyc2']), // 12:00-20:00 UTC
      ],
    }),
  );

  it('covers the day with no gap and no overlap', () => {
    expect(show(finalShifts(schedule, at('2026-12-02T00:00:00Z'), at('2026-12-03T00:00:00Z')))).toEqual([
      ['2026-12-02T00:00Z', '2026-12-02T04:00Z', 'syd1'],
      ['2026-12-02T04:00Z', '2026-12-02T12:00Z', 'lon1'],
      ['2026-12-02T12:00Z', '2026-12-02T20:00Z', 'nyc1'],
      ['2026-12-02T20:00Z', '2026-12-03T00:00Z', 'syd1'],
    ]);
  });

  it('each layer rendered on its own (as PagerDuty shows them)', () => {
    const layers = layerShifts(schedule, at('2026-12-02T00:00:00Z'), at('2026-12-03T00:00:00Z'));
    expect(layers.map((l) => [l.layerId, show(l.shifts)])).toEqual([
      ['apac', [['2026-12-02T00:00Z', '2026-12-02T04:00Z', 'syd1'], ['2026-12-02T20:00Z', '2026-12-03T00:00Z', 'syd1']]],
      ['emea', [['2026-12-02T04:00Z', '2026-12-02T12:00Z', 'lon1']]],
      ['amer', [['2026-12-02T12:00Z', '2026-12-02T20:00Z', 'nyc1']]],
    ]);
  });

  it('a later layer wins where layers overlap (after the northern spring change, London and New York overlap)', () => {
    // 16 March 2026: New York on EDT (UTC-4), London still GMT, Sydney AEDT (UTC+11).
    const march = Schedule.parse(
      base({
        layers: [
          layer('apac', 'Australia/Sydney', '2026-03-01T00:00:00Z', '07:00', '15:00', ['syd1']),
          layer('emea', 'Europe/London', '2026-03-01T00:00:00Z', '04:00', '12:00', ['lon1']),
          layer('amer', 'America/New_York', '2026-03-01T00:00:00Z', '07:00', '15:00', ['nyc1']),
        ],
      }),
    );
    expect(show(finalShifts(march, at('2026-03-16T00:00:00Z'), at('2026-03-17T00:00:00Z')))).toEqual([
      ['2026-03-16T00:00Z', '2026-03-16T04:00Z', 'syd1'],
      ['2026-03-16T04:00Z', '2026-03-16T11:00Z', 'lon1'],
      ['2026-03-16T11:00Z', '2026-03-16T19:00Z', 'nyc1'],
      ['2026-03-16T20:00Z', '2026-03-17T00:00Z', 'syd1'],
    ]);
    expect(onCallAt(march, at('2026-03-16T11:30:00Z'))).toEqual({ user: 'nyc1', source: { kind: 'layer', layerId: 'amer' } });
    expect(onCallAt(march, at('2026-03-16T19:30:00Z'))).toBeNull();
  });
});

describe('overrides', () => {
  // Daily London rotation ann, bob, cat from 1 December 09:00 (GMT = UTC).
  it.each<[string, ScheduleInput['overrides'], Array<[string, string, string]>]>([
    [
      'an override replaces the rotation for its time',
      [{ user: 'zoe', start: '2026-12-01T12:00:00Z', end: '2026-12-01T18:00:00Z' }],
      [
        ['2026-12-01T09:00Z', '2026-12-01T12:00Z', 'ann'],
        ['2026-12-01T12:00Z', '2026-12-01T18:00Z', 'zoe'],
        ['2026-12-01T18:00Z', '2026-12-02T09:00Z', 'ann'],
        ['2026-12-02T09:00Z', '2026-12-03T09:00Z', 'bob'],
      ],
    ],
    [
      'an override of an override: the later one wins inside the earlier one',
      [
        { user: 'zoe', start: '2026-12-01T10:00:00Z', end: '2026-12-01T18:00:00Z' },
        { user: 'yan', start: '2026-12-01T12:00:00Z', end: '2026-12-01T14:00:00Z' },
      ],
      [
        ['2026-12-01T09:00Z', '2026-12-01T10:00Z', 'ann'],
        ['2026-12-01T10:00Z', '2026-12-01T12:00Z', 'zoe'],
        ['2026-12-01T12:00Z', '2026-12-01T14:00Z', 'yan'],
        ['2026-12-01T14:00Z', '2026-12-01T18:00Z', 'zoe'],
        ['2026-12-01T18:00Z', '2026-12-02T09:00Z', 'ann'],
        ['2026-12-02T09:00Z', '2026-12-03T09:00Z', 'bob'],
      ],
    ],
    [
      'an earlier override listed later wins: order, not time, decides',
      [
        { user: 'yan', start: '2026-12-01T12:00:00Z', end: '2026-12-01T14:00:00Z' },
        { user: 'zoe', start: '2026-12-01T10:00:00Z', end: '2026-12-01T18:00:00Z' },
      ],
      [
        ['2026-12-01T09:00Z', '2026-12-01T10:00Z', 'ann'],
        ['2026-12-01T10:00Z', '2026-12-01T18:00Z', 'zoe'],
        ['2026-12-01T18:00Z', '2026-12-02T09:00Z', 'ann'],
        ['2026-12-02T09:00Z', '2026-12-03T09:00Z', 'bob'],
      ],
    ],
    [
      'an override by the person on call merges with their shift; one across a handoff covers both turns',
      [
        { user: 'ann', start: '2026-12-02T09:00:00Z', end: '2026-12-02T12:00:00Z' },
        { user: 'cat', start: '2026-12-02T20:00:00Z', end: '2026-12-03T10:00:00Z' },
      ],
      [
        ['2026-12-01T09:00Z', '2026-12-02T12:00Z', 'ann'],
        ['2026-12-02T12:00Z', '2026-12-02T20:00Z', 'bob'],
        ['2026-12-02T20:00Z', '2026-12-03T09:00Z', 'cat'],
      ],
    ],
  ])('%s', (_, overrides, expected) => {
    const schedule = Schedule.parse(base({ overrides }));
    expect(show(finalShifts(schedule, at('2026-12-01T09:00:00Z'), at('2026-12-03T09:00:00Z')))).toEqual(expected);
  });

  it('onCallAt names the override that decides', () => {
    const schedule = Schedule.parse(
      base({
        overrides: [
          { user: 'zoe', start: '2026-12-01T10:00:00Z', end: '2026-12-01T18:00:00Z' },
          { user: 'yan', start: '2026-12-01T12:00:00Z', end: '2026-12-01T14:00:00Z' },
        ],
      }),
    );
    expect(onCallAt(schedule, at('2026-12-01T13:00:00Z'))).toEqual({ user: 'yan', source: { kind: 'override', index: 1 } });
    expect(onCallAt(schedule, at('2026-12-01T14:00:00Z'))).toEqual({ user: 'zoe', source: { kind: 'override', index: 0 } });
    expect(onCallAt(schedule, at('2026-12-01T18:00:00Z'))).toEqual({ user: 'ann', source: { kind: 'layer', layerId: 'l1' } });
    expect(onCallAt(schedule, at('2026-12-01T08:59:59Z'))).toBeNull(); // before the layer starts
  });

  it('a shift swap is two overrides: each takes the other one\'s shift', () => {
    const schedule = Schedule.parse(base());
    const [annDay, bobDay] = finalShifts(schedule, at('2026-12-01T09:00:00Z'), at('2026-12-03T09:00:00Z'));
    const swapped = { ...schedule, overrides: swapOverrides(annDay!, bobDay!) };
    expect(show(finalShifts(swapped, at('2026-12-01T09:00:00Z'), at('2026-12-04T09:00:00Z')))).toEqual([
      ['2026-12-01T09:00Z', '2026-12-02T09:00Z', 'bob'],
      ['2026-12-02T09:00Z', '2026-12-03T09:00Z', 'ann'],
      ['2026-12-03T09:00Z', '2026-12-04T09:00Z', 'cat'],
    ]);
  });
});

describe('editing a rotation in the middle of a shift', () => {
  const v1 = { effectiveFrom: '2026-12-01T09:00:00Z', rotation: { type: 'daily' as const }, handoff: '09:00', members: ['ann', 'bob', 'cat'] };
  // Edited on 3 December at 15:00, in cat's shift: dan joins, handoffs move to 08:00.
  const v2 = { effectiveFrom: '2026-12-03T15:00:00Z', rotation: { type: 'daily' as const }, handoff: '08:00', members: ['cat', 'dan', 'ann', 'bob'] };
  const before = Schedule.parse(base({ layers: [{ id: 'l1', versions: [v1] }] }));
  const after = Schedule.parse(base({ layers: [{ id: 'l1', versions: [v1, v2] }] }));
  const range: [number, number] = [at('2026-12-01T09:00:00Z'), at('2026-12-07T08:00:00Z')];

  it('shifts before the edit stay as they were', () => {
    const edit = at('2026-12-03T15:00:00Z');
    const old = finalShifts(before, range[0], edit);
    expect(finalShifts(after, range[0], edit)).toEqual(old);
    expect(show(old)).toEqual([
      ['2026-12-01T09:00Z', '2026-12-02T09:00Z', 'ann'],
      ['2026-12-02T09:00Z', '2026-12-03T09:00Z', 'bob'],
      ['2026-12-03T09:00Z', '2026-12-03T15:00Z', 'cat'],
    ]);
  });

  it('the new version takes over at the edit: its first member keeps the shift until its next handoff', () => {
    expect(show(finalShifts(after, ...range))).toEqual([
      ['2026-12-01T09:00Z', '2026-12-02T09:00Z', 'ann'],
      ['2026-12-02T09:00Z', '2026-12-03T09:00Z', 'bob'],
      ['2026-12-03T09:00Z', '2026-12-04T08:00Z', 'cat'],
      ['2026-12-04T08:00Z', '2026-12-05T08:00Z', 'dan'],
      ['2026-12-05T08:00Z', '2026-12-06T08:00Z', 'ann'],
      ['2026-12-06T08:00Z', '2026-12-07T08:00Z', 'bob'],
    ]);
  });

  it('a layer ends at its end', () => {
    const ended = Schedule.parse(base({ layers: [{ id: 'l1', versions: [v1], end: '2026-12-02T12:00:00Z' }] }));
    expect(show(finalShifts(ended, ...range))).toEqual([
      ['2026-12-01T09:00Z', '2026-12-02T09:00Z', 'ann'],
      ['2026-12-02T09:00Z', '2026-12-02T12:00Z', 'bob'],
    ]);
    expect(onCallAt(ended, at('2026-12-02T12:00:00Z'))).toBeNull();
  });
});

describe('nextHandoffs', () => {
  it.each<[string, ScheduleInput, string, number, Array<[string, string | null, string | null]>]>([
    [
      'the daily handoffs',
      base(),
      '2026-12-01T12:00:00Z',
      2,
      [
        ['2026-12-02T09:00Z', 'ann', 'bob'],
        ['2026-12-03T09:00Z', 'bob', 'cat'],
      ],
    ],
    [
      'from before the layer: nobody -> first member',
      base(),
      '2026-11-30T00:00:00Z',
      1,
      [['2026-12-01T09:00Z', null, 'ann']],
    ],
    [
      'to and from nobody around a restriction gap',
      base({ layers: [{ id: 'l1', versions: [{ effectiveFrom: '2026-12-01T09:00:00Z', rotation: { type: 'daily' }, handoff: '09:00', members: ['ann', 'bob'], restrictions: [{ start: '09:00', end: '17:00' }] }] }] }),
      '2026-12-01T12:00:00Z',
      3,
      [
        ['2026-12-01T17:00Z', 'ann', null],
        ['2026-12-02T09:00Z', null, 'bob'],
        ['2026-12-02T17:00Z', 'bob', null],
      ],
    ],
    [
      'a handoff at the instant asked about is not next',
      base(),
      '2026-12-02T09:00:00Z',
      1,
      [['2026-12-03T09:00Z', 'bob', 'cat']],
    ],
  ])('%s', (_, input, after, limit, expected) => {
    expect(nextHandoffs(Schedule.parse(input), at(after), limit).map((h) => [iso(h.at), h.from, h.to])).toEqual(expected);
  });
});

describe('schedule validation names the field', () => {
  const version = base().layers[0]!.versions[0]!;
  const withVersion = (v: object) => base({ layers: [{ id: 'l1', versions: [{ ...version, ...v }] }] });
  it.each<[string, ScheduleInput, string, RegExp]>([
    ['an unknown zone', base({ zone: 'Mars/Olympus_Mons' }), 'zone', /'Mars\/Olympus_Mons' is not an IANA time zone/],
    ['a fixed offset', base({ zone: '+01:00' }), 'zone', /not an IANA time zone/],
    ["an unknown layer's zone", withVersion({ zone: 'Europe/Londres' }), 'layers.0.versions.0.zone', /'Europe\/Londres'/],
    ['a bad handoff', withVersion({ handoff: '9:00' }), 'layers.0.versions.0.handoff', /'9:00' is not a time HH:MM/],
    ['a handoff of 24:00', withVersion({ handoff: '24:00' }), 'layers.0.versions.0.handoff', /not a time/],
    ['no members', withVersion({ members: [] }), 'layers.0.versions.0.members', /at least one member/],
    ['a bad turn length', withVersion({ rotation: { type: 'custom', turnLength: '90m' } }), 'layers.0.versions.0.rotation.turnLength', /'90m' is not a turn length/],
    ['a zero turn length', withVersion({ rotation: { type: 'custom', turnLength: '0h' } }), 'layers.0.versions.0.rotation.turnLength', /not a turn length/],
    ['a reversed window', withVersion({ restrictions: [{ start: '17:00', end: '09:00' }] }), 'layers.0.versions.0.restrictions.0.end', /must be after start/],
    ['a zero-length window', withVersion({ restrictions: [{ start: '09:00', end: '09:00' }] }), 'layers.0.versions.0.restrictions.0.end', /must be after start/],
    [
      'overlapping windows (a daily one and a monday one)',
      withVersion({ restrictions: [{ start: '09:00', end: '12:00' }, { day: 'monday', start: '11:00', end: '13:00' }] }),
      'layers.0.versions.0.restrictions.1',
      /monday 11:00-13:00 overlaps restrictions\[0\] \(daily 09:00-12:00\)/,
    ],
    ['a bad weekday', withVersion({ restrictions: [{ day: 'mon', start: '09:00', end: '17:00' }] }), 'layers.0.versions.0.restrictions.0.day', /./],
    ['an instant without zone', withVersion({ effectiveFrom: '2026-12-01T09:00:00' }), 'layers.0.versions.0.effectiveFrom', /ISO 8601 instant with a zone/],
    ['a layer ending before it starts', base({ layers: [{ id: 'l1', versions: [version], end: '2026-12-01T09:00:00Z' }] }), 'layers.0.end', /after the layer starts/],
    [
      'versions out of order',
      base({ layers: [{ id: 'l1', versions: [version, { ...version, effectiveFrom: '2026-11-01T00:00:00Z' }] }] }),
      'layers.0.versions.1.effectiveFrom',
      /must be after versions\[0\]\.effectiveFrom/,
    ],
    ['a duplicate layer id', base({ layers: [{ id: 'l1', versions: [version] }, { id: 'l1', versions: [version] }] }), 'layers.1.id', /used twice/],
    ['a zero-length override', base({ overrides: [{ user: 'zoe', start: '2026-12-02T00:00:00Z', end: '2026-12-02T00:00:00Z' }] }), 'overrides.0.end', /must be after start/],
    ['a reversed override', base({ overrides: [{ user: 'zoe', start: '2026-12-02T00:00:00Z', end: '2026-12-01T00:00:00Z' }] }), 'overrides.0.end', /must be after start/],
    ['an override outside every layer', base({ overrides: [{ user: 'zoe', start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z' }] }), 'overrides.0', /outside every layer/],
  ])('%s', (_, input, path, message) => {
    const result = Schedule.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.path.join('.') === path);
    expect(issue, JSON.stringify(result.error!.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('canonicalises zones and gives layers the schedule zone by default', () => {
    const s = Schedule.parse(base({ zone: 'europe/london' }));
    expect(s.zone).toBe('Europe/London');
    expect(s.layers[0]!.versions[0]!.zone).toBe('Europe/London');
  });
});

describe('onCallAt agrees with finalShifts (property)', () => {
  const zones = ['Europe/London', 'America/New_York', 'Australia/Sydney', 'Australia/Lord_Howe', 'UTC'];
  /** Every DST change of those zones in 2026 (UTC), sampled every 10 minutes from 90 minutes before to 150 after. */
  const CHANGES_2026 = [
    '2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', // London
    '2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', // New York
    '2026-04-04T16:00:00Z', '2026-10-03T16:00:00Z', // Sydney
    '2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z', // Lord Howe
  ].map(at);
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  // Ranges around the northern and southern DST changes of 2026.
  const origins = [at('2026-03-05T00:00:00Z'), at('2026-03-27T00:00:00Z'), at('2026-04-02T00:00:00Z'), at('2026-10-01T00:00:00Z'), at('2026-10-23T00:00:00Z'), at('2026-10-30T00:00:00Z')];
  const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const rotation = fc.oneof(
    fc.constant({ type: 'daily' as const }),
    fc.constant({ type: 'weekly' as const }),
    fc.constantFrom('1h', '5h', '12h', '2d').map((turnLength) => ({ type: 'custom' as const, turnLength })),
  );
  const window = fc.tuple(fc.option(fc.constantFrom('monday', 'friday', 'sunday'), { nil: undefined }), fc.integer({ min: 0, max: 22 }), fc.integer({ min: 1, max: 8 }));
  const layer = (origin: number) =>
    fc.record({
      zone: fc.constantFrom(...zones),
      rotation,
      handoff: hhmm,
      offsetH: fc.integer({ min: 0, max: 72 }),
      members: fc.array(fc.constantFrom('ann', 'bob', 'cat', 'dan'), { minLength: 1, maxLength: 4 }),
      windows: fc.array(window, { maxLength: 1 }),
      edit: fc.option(fc.tuple(fc.integer({ min: 1, max: 200 }), hhmm, fc.array(fc.constantFrom('eve', 'ann'), { minLength: 1, maxLength: 2 })), { nil: undefined }),
    }).map((l, ) => {
      const from = origin + l.offsetH * HOUR;
      const first = {
        effectiveFrom: new Date(from).toISOString(),
        zone: l.zone,
        rotation: l.rotation,
        handoff: l.handoff,
        members: l.members,
        restrictions: l.windows.map(([day, start, length]) => ({ day, start: `${String(start).padStart(2, '0')}:00`, end: `${String(Math.min(24, start + length)).padStart(2, '0')}:00` })),
      };
      const versions = l.edit ? [first, { ...first, effectiveFrom: new Date(from + l.edit[0] * HOUR + 17 * 60_000).toISOString(), handoff: l.edit[1], members: l.edit[2] }] : [first];
      return versions;
    });
  const arb = fc.constantFrom(...origins).chain((origin) =>
    fc.record({
      origin: fc.constant(origin),
      layers: fc.array(layer(origin), { minLength: 1, maxLength: 3 }),
      overrides: fc.array(fc.record({ user: fc.constantFrom('zoe', 'ann'), startM: fc.integer({ min: 0, max: 14 * 24 * 60 }), lengthM: fc.integer({ min: 1, max: 36 * 60 }) }), { maxLength: 3 }),
      samples: fc.array(fc.integer({ min: 0, max: 14 * DAY - 1 }), { minLength: 20, maxLength: 40 }),
    }),
  );

  it('at sampled instants and at every shift edge', () => {
    fc.assert(
      fc.property(arb, ({ origin, layers, overrides, samples }) => {
        const parsed = Schedule.safeParse({
          id: 's',
          name: 'P',
          zone: 'UTC',
          layers: layers.map((versions, i) => ({ id: `l${i}`, versions })),
          overrides: overrides.map((o) => ({ user: o.user, start: new Date(origin + o.startM * 60_000).toISOString(), end: new Date(origin + (o.startM + o.lengthM) * 60_000).toISOString() })),
        });
        if (!parsed.success) return; // an override outside every layer, overlapping windows: refused, fine
        const schedule = parsed.data;
        const from = origin;
        const to = origin + 14 * DAY;
        const shifts = finalShifts(schedule, from, to);
        const userAt = (t: number) => shifts.find((s) => s.start <= t && t < s.end)?.user ?? null;
        const aroundChanges = CHANGES_2026.flatMap((c) => Array.from({ length: 25 }, (_, i) => c - 90 * 60_000 + i * 10 * 60_000));
        const instants = [...samples.map((s) => from + s), ...aroundChanges, ...shifts.flatMap((s) => [s.start, s.end - 1, s.end])].filter((t) => t >= from && t < to);
        for (const t of instants) expect(onCallAt(schedule, t)?.user ?? null, `at ${new Date(t).toISOString()}`).toBe(userAt(t));
        // Shifts are sorted, non-empty, disjoint and merged.
        shifts.forEach((s, i) => {
          expect(s.end).toBeGreaterThan(s.start);
          const prev = shifts[i - 1];
          if (prev) expect(prev.end < s.start || (prev.end === s.start && prev.user !== s.user)).toBe(true);
        });
      }),
      { numRuns: 150 },
    );
  });
});
