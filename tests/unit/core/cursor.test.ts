/** Signed cursors: what one codec seals for a purpose opens there only, and any change is a 400. */
import { describe, expect, it } from 'vitest';
import { createCursorCodec } from '../../../src/core/cursor.ts';
import { AppError } from '../../../src/core/errors.ts';

const codec = createCursorCodec(new Uint8Array(32).fill(1));
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? `${err.code} ${err.details?.[0]?.field}` : String(err);
  }
  return 'opened';
};

describe('cursor codec', () => {
  const value = { o: 'desc', us: '1767225600123456', id: '42', f: 1, t: 2, h: 'x' };
  const token = codec.seal('logs.search', value);
  const [body, tag] = token.split('.') as [string, string];

  it('opens what it sealed, for the same purpose', () => {
    expect(codec.open('logs.search', token)).toEqual(value);
  });

  it.each<[string, string, string?]>([
    ['another purpose', token, 'traces.logs'],
    ['another key', createCursorCodec(new Uint8Array(32).fill(2)).seal('logs.search', value)],
    ['an edited body', `${Buffer.from(JSON.stringify({ ...value, f: -9e15 })).toString('base64url')}.${tag}`],
    ['an edited tag', `${body}.${tag.slice(0, -2)}${tag.endsWith('AA') ? 'AB' : 'AA'}`],
    ['a short tag', `${body}.${tag.slice(0, 10)}`],
    ['no tag (the unsigned cursors of before)', body],
    ['nothing before the dot', `.${tag}`],
    ['garbage', 'garbage'],
    ['empty', ''],
  ])('refuses %s with a 400 naming query.cursor', (_, t, purpose = 'logs.search') => {
    expect(refusal(() => codec.open(purpose, t))).toBe('VALIDATION_FAILED query.cursor');
  });

  it('names the field it is given', () => {
    expect(refusal(() => codec.open('logs.search', 'x', 'header.cursor'))).toBe('VALIDATION_FAILED header.cursor');
  });
});
