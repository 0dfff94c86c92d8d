import { describe, expect, it } from 'vitest';
import { escapeText, fold, renderCalendar, scheduleCalendar } from '../../../src/oncall/ical.ts';
import { finalShifts } from '../../../src/oncall/schedule.ts';
import { Schedule } from '../../../src/oncall/schedule-schemas.ts';

const at = (iso: string) => Date.parse(iso);
const encoder = new TextEncoder();

/** A small RFC 5545 reader: unfolds, splits properties, unescapes TEXT, reads UTC date-times. */
function parseCalendar(text: string) {
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/); // no bare CR or LF
  const physical = text.slice(0, -2).split('\r\n');
  for (const line of physical) expect(encoder.encode(line).length, line).toBeLessThanOrEqual(75);
  const lines = text.slice(0, -2).replace(/\r\n /g, '').split('\r\n');
  const unescape = (v: string) => v.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
  const date = (v: string) => Date.parse(v.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const events: Array<Record<string, string>> = [];
  const calendar: Record<string, string> = {};
  let current: Record<string, string> | null = null;
  for (const line of lines) {
    const colon = line.indexOf(':');
    const [name, value] = [line.slice(0, colon), line.slice(colon + 1)];
    if (name === 'BEGIN' && value === 'VEVENT') current = {};
    else if (name === 'END' && value === 'VEVENT') {
      events.push(current!);
      current = null;
    } else (current ?? calendar)[name] = value;
  }
  return {
    calendar: { ...calendar, 'X-WR-CALNAME': unescape(calendar['X-WR-CALNAME'] ?? '') } as Record<string, string>,
    events: events.map((e) => ({ uid: e.UID!, start: date(e.DTSTART!), end: date(e.DTEND!), summary: unescape(e.SUMMARY!), description: unescape(e.DESCRIPTION!), stamp: e.DTSTAMP })),
  };
}

const schedule = Schedule.parse({
  id: 'sched-1',
  name: 'Payments, primary; EU\\US\nnights',
  zone: 'Europe/London',
  layers: [{ id: 'l1', versions: [{ effectiveFrom: '2026-10-20T09:00:00Z', rotation: { type: 'daily' }, handoff: '09:00', members: ['ann', 'bob', 'cat'] }] }],
  overrides: [{ user: 'zoë', start: '2026-10-24T12:00:00Z', end: '2026-10-24T18:00:00Z' }],
});
const now = at('2026-10-22T10:00:00Z');

describe('scheduleCalendar', () => {
  it('parses back to the final shifts, in UTC, across the October change', () => {
    const from = at('2026-10-23T00:00:00Z');
    const to = at('2026-10-27T00:00:00Z');
    const { calendar, events } = parseCalendar(scheduleCalendar(schedule, { from, to, now }));
    expect(calendar.VERSION).toBe('2.0');
    expect(calendar['X-WR-CALNAME']).toBe('On call: Payments, primary; EU\\US\nnights');
    // Whole shifts overlapping the range (not cut at it): 22 Oct 09:00 BST .. 27 Oct 09:00 GMT.
    const shifts = finalShifts(schedule, at('2026-10-22T08:00:00Z'), at('2026-10-27T09:00:00Z'));
    expect(events.map((e) => ({ start: e.start, end: e.end, user: e.description.split(' ')[0] }))).toEqual(shifts);
    expect(events.map((e) => new Date(e.start).toISOString())).toEqual([
      '2026-10-22T08:00:00.000Z',
      '2026-10-23T08:00:00.000Z',
      '2026-10-24T08:00:00.000Z',
      '2026-10-24T12:00:00.000Z', // zoë's override
      '2026-10-24T18:00:00.000Z',
      '2026-10-25T09:00:00.000Z', // GMT from here: 09:00 local is 09:00 UTC
      '2026-10-26T09:00:00.000Z',
    ]);
    for (const e of events) {
      expect(e.summary).toBe('On call: Payments, primary; EU\\US\nnights');
      expect(e.stamp).toBe('20261022T100000Z');
    }
    expect(new Set(events.map((e) => e.uid)).size).toBe(events.length);
  });

  it('keeps each shift\'s UID when the range moves', () => {
    const a = parseCalendar(scheduleCalendar(schedule, { from: at('2026-10-23T00:00:00Z'), to: at('2026-10-26T00:00:00Z'), now })).events;
    const b = parseCalendar(scheduleCalendar(schedule, { from: at('2026-10-24T12:00:00Z'), to: at('2026-10-28T00:00:00Z'), now: now + 3_600_000 })).events;
    const uidOf = (events: typeof a) => new Map(events.map((e) => [e.start, e.uid]));
    const [ua, ub] = [uidOf(a), uidOf(b)];
    const common = [...ua.keys()].filter((k) => ub.has(k));
    expect(common.length).toBeGreaterThanOrEqual(3);
    for (const k of common) expect(ub.get(k)).toBe(ua.get(k));
  });

  it('a personal feed has only that user\'s shifts', () => {
    const { calendar, events } = parseCalendar(scheduleCalendar(schedule, { from: at('2026-10-20T00:00:00Z'), to: at('2026-10-30T00:00:00Z'), now, user: 'bob' }));
    expect(calendar['X-WR-CALNAME']).toContain('(bob)');
    expect(events.map((e) => [new Date(e.start).toISOString(), new Date(e.end).toISOString()])).toEqual([
      ['2026-10-21T08:00:00.000Z', '2026-10-22T08:00:00.000Z'],
      ['2026-10-24T08:00:00.000Z', '2026-10-24T12:00:00.000Z'],
      ['2026-10-24T18:00:00.000Z', '2026-10-25T09:00:00.000Z'],
      ['2026-10-27T09:00:00.000Z', '2026-10-28T09:00:00.000Z'],
    ]);
  });

  it('an empty range is a valid calendar with no event', () => {
    const text = renderCalendar({ id: 's', name: 'x', calendarName: 'x', shifts: [], now });
    expect(text).toBe(
      'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ObservAI Hub//On-call schedules//EN\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:x\r\nEND:VCALENDAR\r\n',
    );
  });
});

describe('escapeText and fold', () => {
  it.each<[string, string]>([
    ['plain', 'plain'],
    ['a,b;c\\d', 'a\\,b\\;c\\\\d'],
    ['two\nlines\r\nthree', 'two\\nlines\\nthree'],
    ['colon: fine', 'colon: fine'],
  ])('escapes %j', (text, expected) => {
    expect(escapeText(text)).toBe(expected);
  });

  it.each<[string, string]>([
    ['ascii', `SUMMARY:${'x'.repeat(200)}`],
    ['two-byte characters', `SUMMARY:${'é'.repeat(100)}`],
    ['four-byte characters', `SUMMARY:${'🚨'.repeat(40)}`],
    ['exactly 75 octets', `SUMMARY:${'y'.repeat(67)}`],
  ])('folds %s at 75 octets without splitting a character', (_, line) => {
    const folded = fold(line);
    const parts = folded.split('\r\n');
    for (const p of parts) expect(encoder.encode(p).length).toBeLessThanOrEqual(75);
    parts.slice(1).forEach((p) => expect(p.startsWith(' ')).toBe(true));
    expect(folded.replace(/\r\n /g, '')).toBe(line);
    if (encoder.encode(line).length <= 75) expect(folded).toBe(line);
  });
});
