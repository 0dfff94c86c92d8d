/**
 * Silences (src/alerts/silences.ts): active on [startsAt, endsAt), matching by all their matchers,
 * and never silencing everything by having no matchers.
 */
import { describe, expect, it } from 'vitest';
import { parseMatchers } from '../../../src/alerts/matchers.ts';
import { isSilenceActive, type Silence, silencedBy } from '../../../src/alerts/silences.ts';

const T0 = Date.UTC(2026, 2, 2, 12, 0);
const MIN = 60_000;
const silence = (id: string, matchers: string, from = T0, to = T0 + 60 * MIN): Silence => ({ id, matchers: parseMatchers(matchers), startsAt: from, endsAt: to });

describe('isSilenceActive', () => {
  const s = silence('s', 'a="b"');
  it.each<[string, number, boolean]>([
    ['before its start', T0 - 1, false],
    ['at its start', T0, true],
    ['in the middle', T0 + 30 * MIN, true],
    ['the last millisecond', T0 + 60 * MIN - 1, true],
    ['at its end (ends are exclusive)', T0 + 60 * MIN, false],
    ['after its end', T0 + 61 * MIN, false],
  ])('%s', (_, now, expected) => {
    expect(isSilenceActive(s, now)).toBe(expected);
  });
});

describe('silencedBy', () => {
  it.each<[string, Record<string, string>, Silence[], number, string[]]>([
    ['a matching active silence', { team: 'db' }, [silence('s1', 'team="db"')], T0, ['s1']],
    ['a silence that does not match', { team: 'web' }, [silence('s1', 'team="db"')], T0, []],
    ['every matcher must match', { team: 'db', env: 'dev' }, [silence('s1', 'team="db", env="prod"')], T0, []],
    ['an expired silence', { team: 'db' }, [silence('s1', 'team="db"', T0 - 60 * MIN, T0)], T0, []],
    ['a future silence', { team: 'db' }, [silence('s1', 'team="db"', T0 + MIN)], T0, []],
    // matchesAll([]) is true: without this rule an empty silence would mute the whole project.
    ['a silence without matchers silences nothing', { team: 'db' }, [silence('s1', '{}')], T0, []],
    ['regexes, anchored', { instance: 'db-1:9100' }, [silence('s1', 'instance=~"db-.*"'), silence('s2', 'instance=~"db"')], T0, ['s1']],
    // A missing label is "", so a negative matcher on it holds.
    ['a negative matcher on a missing label', { team: 'db' }, [silence('s1', 'team="db", env!="prod"')], T0, ['s1']],
    ['several in the given order', { team: 'db' }, [silence('b', 'team=~"d.*"'), silence('a', 'team="db"'), silence('c', 'team="web"')], T0, ['b', 'a']],
  ])('%s', (_, labels, silences, now, expected) => {
    expect(silencedBy(labels, silences, now)).toEqual(expected);
  });
});
