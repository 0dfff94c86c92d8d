/**
 * Prometheus durations (src/alerts/durations.ts): what parses to how many milliseconds, what is
 * refused and why, the canonical format Prometheus prints, and the zod schema with bounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Duration, durationSchema, formatDuration, parseDuration } from '../../../src/alerts/durations.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each<[string, string, number]>([
    ['a bare 0 needs no unit', '0', 0],
    ['seconds', '30s', 30 * S],
    ['minutes', '5m', 5 * M],
    ['hours', '4h', 4 * H],
    ['days', '1d', D],
    ['weeks', '1w', 7 * D],
    ['a year is 365 days', '1y', 365 * D],
    ['a combination', '1h30m', 90 * M],
    ['milliseconds, not minutes', '500ms', 500],
    ['units may be skipped', '1m500ms', M + 500],
    ['every unit once', '1y1w1d1h1m1s1ms', 365 * D + 7 * D + D + H + M + S + 1],
    ['zero with a unit', '0s', 0],
    ['non-canonical amounts are fine', '90m', 90 * M],
  ])('%s: %s', (_, text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each<[string, string, RegExp]>([
    ['empty', '', /empty duration/],
    ['a number without unit', '5', /'5' has no unit/],
    ['fractions', '1.5h', /fractions are not allowed/],
    ['a sign', '-5m', /no sign/],
    ['spaces', '5 m', /spaces are not allowed/],
    // Read as one token, so the message names 'min' rather than complaining about 'in'.
    ['an unknown unit', '5min', /unknown unit 'min'/],
    ['units are case-sensitive', '5M', /unknown unit 'M'/],
    ['smaller units first', '30m1h', /has 'h' after 'm'/],
    ['a repeated unit', '1h1h', /repeats the unit 'h'/],
    ['a unit without a number', 'h', /expected a number, found 'h'/],
    ['beyond what a number holds exactly', '999999999999y', /too long/],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseDuration(text)).toThrow(message);
  });
});

describe('formatDuration', () => {
  it.each<[string, number, string]>([
    ['zero', 0, '0s'],
    ['hours and minutes', 90 * M, '1h30m'],
    ['milliseconds', 500, '500ms'],
    ['seconds and milliseconds', 1_500, '1s500ms'],
    ['exact weeks', 14 * D, '2w'],
    // Prometheus prints years and weeks only when exact: 90d, not 12w6d.
    ['inexact weeks stay days', 8 * D, '8d'],
    ['90 days', 90 * D, '90d'],
    ['an exact year', 365 * D, '1y'],
    ['a year and a day stays days', 366 * D, '366d'],
    ['every small unit', D + H + M + S + 1, '1d1h1m1s1ms'],
  ])('%s', (_, ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([[-1], [1.5], [Number.NaN]])('refuses %s', (ms) => {
    expect(() => formatDuration(ms)).toThrow(RangeError);
  });

  it('parses back to the same milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 * 365 * D }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});

describe('Duration schemas', () => {
  it('parses text to milliseconds', () => {
    expect(Duration.parse('5m')).toBe(5 * M);
  });

  it.each<[string, unknown, { min?: string; max?: string }, RegExp]>([
    ['a bad duration names the problem', '5 m', {}, /spaces are not allowed/],
    ['a number is not a duration', 300, {}, /must be a duration like '5m'/],
    ['below the minimum', '500ms', { min: '1s' }, /must be at least 1s/],
    ['above the maximum', '2h', { max: '1h' }, /must be at most 1h/],
  ])('refuses %s', (_, input, bounds, message) => {
    const r = durationSchema(bounds).safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(message);
  });

  it('accepts the bounds themselves', () => {
    const schema = durationSchema({ min: '1s', max: '1h' });
    expect(schema.parse('1s')).toBe(S);
    expect(schema.parse('60m')).toBe(H);
  });
});
