import { describe, expect, it } from 'vitest';
import { compileSearch, LOG_TEXT_PUNCTUATION, logSearchVector, SearchSyntaxError } from '../../../src/logs/search-syntax.ts';

describe('log search syntax', () => {
  it.each([
    ['timeout', "'timeout'"],
    ['Timeout', "'timeout'"],
    ['disk full', "'disk' & 'full'"],
    ['"connection refused"', "('connection' <-> 'refused')"],
    ['-debug error', "!'debug' & 'error'"],
    ['-"health check" GET', "!('health' <-> 'check') & 'get'"],
    ['a OR b c', "('a' | 'b') & 'c'"],
    ['a b OR c', "'a' & ('b' | 'c')"],
    ['OR a', "'a'"],
    ['a OR', "'a'"],
    ['a or b', "'a' & 'or' & 'b'"],
    ['time*', "'time':*"],
    ['api.example.com/v1', "('api' <-> 'example' <-> 'com' <-> 'v1')"],
    ['java.lang.NullPointerException', "('java' <-> 'lang' <-> 'nullpointerexception')"],
    ['user_id=7', "('user' <-> 'id' <-> '7')"],
    ['Müller', "'müller'"],
    ['ошибка', "'ошибка'"],
    ["it's", "('it' <-> 's')"],
    ['"unterminated phrase', "('unterminated' <-> 'phrase')"],
    ["'; drop table logs; --", "'drop' & 'table' & 'logs'"],
  ])('%s -> %s', (q, tsquery) => {
    expect(compileSearch(q)).toBe(tsquery);
  });

  it.each(['', '   ', '---', '"" ***', 'OR'])('%j has no searchable words', (q) => {
    expect(() => compileSearch(q)).toThrow(SearchSyntaxError);
  });

  it('refuses too many words', () => {
    expect(() => compileSearch(Array.from({ length: 33 }, (_, i) => `w${i}`).join(' '))).toThrow(/more than 32/);
  });

  it('the SQL expression replaces each punctuation character with one space', () => {
    expect(LOG_TEXT_PUNCTUATION).toHaveLength(32);
    expect(new Set(LOG_TEXT_PUNCTUATION).size).toBe(32);
    expect(logSearchVector('l')).toContain(`'${' '.repeat(32)}'`);
  });
});
