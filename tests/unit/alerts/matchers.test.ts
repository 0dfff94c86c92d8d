/**
 * Alertmanager matchers (src/alerts/matchers.ts): the text syntax in both directions, errors that
 * name the problem and its column, matching with a missing label read as "", anchored regexes with
 * RE2 text translated (or refused) for JavaScript, and the zod schemas a policy document uses.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  formatMatcher,
  formatMatchers,
  type Matcher,
  MatcherError,
  MatcherText,
  Matchers,
  matchesAll,
  parseMatcher,
  parseMatchers,
} from '../../../src/alerts/matchers.ts';

const m = (name: string, op: Matcher['op'], value: string): Matcher => ({ name, op, value });

describe('parseMatchers', () => {
  it.each<[string, string, Matcher[]]>([
    ['braces, two matchers, a regex', '{foo="bar", baz=~"qu.*"}', [m('foo', '=', 'bar'), m('baz', '=~', 'qu.*')]],
    ['no braces', 'foo="bar",baz!="x"', [m('foo', '=', 'bar'), m('baz', '!=', 'x')]],
    ['an unquoted value', 'env=prod', [m('env', '=', 'prod')]],
    // Unquoted values end at ',' or '}' and lose the spaces around them; spaces around operators go too.
    ['spaces everywhere', '{ env = prod , team =~ db }', [m('env', '=', 'prod'), m('team', '=~', 'db')]],
    ['an escaped quote', 'a="x\\"y"', [m('a', '=', 'x"y')]],
    ['an escaped backslash', 'a="back\\\\slash"', [m('a', '=', 'back\\slash')]],
    ['\\n is a newline', 'a="line\\nbreak"', [m('a', '=', 'line\nbreak')]],
    // Any other backslash stays, so regex escapes reach the regex (the classic parser's rule).
    ['\\d stays \\d', 'a=~"\\d+"', [m('a', '=~', '\\d+')]],
    ['a comma inside quotes is part of the value', '{a="1,2"}', [m('a', '=', '1,2')]],
    ['a brace inside quotes is part of the value', '{a="}"}', [m('a', '=', '}')]],
    ['empty braces are no matchers', '{}', []],
    ['empty text is no matchers', '  ', []],
    ['a trailing comma is allowed', '{a="b",}', [m('a', '=', 'b')]],
    ['`a=` is the empty value', 'a=', [m('a', '=', '')]],
    ['all four operators', 'a="1", b!="2", c=~"3", d!~"4"', [m('a', '=', '1'), m('b', '!=', '2'), m('c', '=~', '3'), m('d', '!~', '4')]],
    ['underscores and digits in names', '__name__="up", job_2="x"', [m('__name__', '=', 'up'), m('job_2', '=', 'x')]],
  ])('%s', (_, text, expected) => {
    expect(parseMatchers(text)).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ['an open brace is closed', '{a="b"', /missing closing '}' at column 7/],
    ['a quoted value is closed', 'a="b', /unterminated quoted value for 'a' at column 3/],
    ['an operator follows the name', 'a b', /expected an operator .* after 'a', found 'b' at column 3/],
    ['a name starts with a letter or _', '1a="b"', /expected a label name, found '1' at column 1/],
    ['a dot is not part of a name', 'foo.bar="x"', /invalid character '\.' in label name 'foo' at column 4/],
    ['quoted (UTF-8) names are not accepted', '"a b"="c"', /quoted label names are not supported.* at column 1/],
    ['matchers are separated by commas', 'a="b" c="d"', /expected ',' between matchers, found 'c' at column 7/],
    ['a quote inside an unquoted value', 'a=b"c', /unexpected '"' inside unquoted value for 'a' .* at column 4/],
    ['nothing follows the closing brace', '{a="b"} x', /unexpected 'x' after '}' at column 9/],
    ['an invalid regex is a parse error', 'a=~"("', /invalid regular expression .* in matcher for 'a' at column 4/],
    ['lookarounds are not RE2', 'a=~"(?=x)x"', /lookarounds are not supported/],
    ['backreferences are not RE2', 'a=~"(a)\\1"', /backreferences are not supported/],
    // (a+)+ backtracks exponentially in JavaScript on "aaaa...!"; RE2 never does, so we refuse it.
    ['nested unbounded quantifiers are refused', 'a=~"(a+)+"', /repeated group cannot hold/],
    ['nested through an inner group', 'a=~"((a)*)+"', /repeated group cannot hold/],
    ['nested with a counted repeat', 'a=~"(a{2,})*"', /repeated group cannot hold/],
    // (a|a)* and (a?)+ backtrack exponentially too (the security review's proof: 4x per 2 characters).
    ['a repeated alternation is refused', 'a=~"(a|a)*"', /repeated group cannot hold/],
    ['a repeated optional is refused', 'a=~"(a?)+"', /repeated group cannot hold/],
    // .*a.*b.*c is cubic on a 1 KiB value: seconds of the shared evaluator's time.
    ['three wildcards are refused', 'a=~".*a.*b.*c"', /at most 2 unbounded wildcards/],
    ['inline flags are only supported at the start', 'a=~"a(?i)b"', /invalid regular expression/],
    ['a regex of 257 characters is too long', `a=~"${'x'.repeat(257)}"`, /longer than 256 characters/],
  ])('refuses: %s', (_, text, message) => {
    expect(() => parseMatchers(text)).toThrow(message);
  });

  // What people write in Alertmanager configs stays accepted under the backtracking limits.
  it.each(['.*foo.*', '(api|web)-.*', 'prod|staging', '(?:eu|us)-west-\\d+', '(:\\d+)?', '[a-z]+-\\d+:\\d+', 'db-(primary|replica)'])('accepts %s', (re) => {
    expect(() => parseMatchers(`a=~"${re}"`)).not.toThrow();
  });

  it('throws a MatcherError carrying the column', () => {
    const err = (() => {
      try {
        parseMatchers('env="prod", team');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MatcherError);
    expect((err as MatcherError).column).toBe(17);
  });

  it('accepts a regex of exactly 256 characters', () => {
    expect(parseMatchers(`a=~"${'x'.repeat(256)}"`)).toHaveLength(1);
  });
});

describe('parseMatcher', () => {
  it('parses exactly one matcher', () => {
    expect(parseMatcher(' team =~ "db|cache" ')).toEqual(m('team', '=~', 'db|cache'));
  });

  it.each<[string, string, RegExp]>([
    ['two matchers', 'a="b", c="d"', /expected one matcher, found ',' after it at column 6/],
    ['nothing', '', /expected a matcher/],
    ['braces are for lists', '{a="b"}', /expected a label name, found '\{'/],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseMatcher(text)).toThrow(message);
  });
});

describe('matchesAll', () => {
  it.each<[string, string, Record<string, string>, boolean]>([
    ['equality matches', 'foo="bar"', { foo: 'bar' }, true],
    ['equality is exact', 'foo="bar"', { foo: 'baz' }, false],
    // A missing label is "": foo!="bar" holds for an alert without foo.
    ['!= matches a missing label', 'foo!="bar"', {}, true],
    ['="" matches a missing label', 'foo=""', {}, true],
    ['="" does not match a present label', 'foo=""', { foo: 'x' }, false],
    ['regexes are anchored at the start', 'foo=~"bar"', { foo: 'xbar' }, false],
    ['regexes are anchored at the end', 'foo=~"bar"', { foo: 'barx' }, false],
    // ^(?:a|b)$, not ^a|b$, which would match "xb".
    ['anchoring wraps alternations', 'foo=~"a|b"', { foo: 'xb' }, false],
    ['an alternation matches either side', 'foo=~"a|b"', { foo: 'b' }, true],
    ['!~ matches what the regex does not', 'env!~"prod|staging"', { env: 'dev' }, true],
    ['!~ refuses what the regex matches', 'env!~"prod|staging"', { env: 'prod' }, false],
    ['.* matches a missing label', 'foo=~".*"', {}, true],
    ['.+ does not match a missing label', 'foo=~".+"', {}, false],
    ['a leading (?i) is case-insensitive', 'env=~"(?i)PROD"', { env: 'prod' }, true],
    ['without (?i) case matters', 'env=~"PROD"', { env: 'prod' }, false],
    ['. does not match a newline', 'a=~"x.y"', { a: 'x\ny' }, false],
    ['(?s) lets . match a newline', 'a=~"(?s)x.y"', { a: 'x\ny' }, true],
    ['\\d is a digit', 'code=~"5\\d\\d"', { code: '503' }, true],
    // RE2 lets any punctuation be escaped; JavaScript's u mode does not, so \- and \_ become literals.
    ['an escaped - is a literal', 'a=~"x\\-y"', { a: 'x-y' }, true],
    ['an escaped _ is a literal', 'a=~"x\\_y"', { a: 'x_y' }, true],
    ['RE2 one-letter classes: \\pL', 'a=~"\\pL+"', { a: 'héllo' }, true],
    ['RE2 named groups: (?P<n>...)', 'a=~"(?P<first>a)b"', { a: 'ab' }, true],
    ['a group quantifier without an inner one is fine', 'a=~"(ab)+"', { a: 'abab' }, true],
    ['{n} repeats', 'a=~"x{2}"', { a: 'xx' }, true],
    ['{n,m} repeats', 'a=~"x{1,2}y"', { a: 'xxy' }, true],
    // RE2 reads '{' and '}' that form no repeat, and a lone ']', as themselves.
    ['a { that starts no repeat is itself', 'a=~"x{y}"', { a: 'x{y}' }, true],
    ['a lone ] is itself', 'a=~"x]"', { a: 'x]' }, true],
    ['a ] first in a class is a member', 'a=~"[]a]+"', { a: ']a]' }, true],
    ['a ] first in a negated class is a member', 'a=~"[^]a]"', { a: ']' }, false],
    ['all matchers must match', 'env="prod", team=~"db|cache"', { env: 'prod', team: 'cache' }, true],
    ['one failing matcher fails the set', 'env="prod", team=~"db|cache"', { env: 'prod', team: 'web' }, false],
    ['no matchers match everything', '{}', { anything: 'x' }, true],
  ])('%s', (_, text, labels, expected) => {
    expect(matchesAll(parseMatchers(text), labels)).toBe(expected);
  });

  it('compiles hand-built matchers on first use (a copy loses nothing)', () => {
    const copy = structuredClone(parseMatchers('team=~"db|cache"'));
    expect(matchesAll(copy, { team: 'db' })).toBe(true);
    expect(matchesAll(copy, { team: 'web' })).toBe(false);
  });

  it('refuses to match with a hand-built invalid regex instead of matching nothing', () => {
    expect(() => matchesAll([m('a', '=~', '(')], { a: '(' })).toThrow(MatcherError);
  });
});

describe('formatMatcher', () => {
  it.each<[string, Matcher, string]>([
    ['quotes the value', m('env', '=', 'prod'), 'env="prod"'],
    ['escapes quotes', m('a', '!=', 'x"y'), 'a!="x\\"y"'],
    ['escapes backslashes (a regex keeps its \\d)', m('a', '=~', '\\d+'), 'a=~"\\\\d+"'],
    ['escapes newlines', m('a', '!~', 'x\ny'), 'a!~"x\\ny"'],
  ])('%s', (_, matcher, text) => {
    expect(formatMatcher(matcher)).toBe(text);
  });

  it.each<[string, Matcher]>([
    ['a plain value', m('env', '=', 'prod')],
    ['quotes', m('a', '=', 'say "hi"')],
    ['backslashes', m('a', '=', 'C:\\path\\')],
    ['a regex escape', m('a', '=~', '\\d+\\.\\d+')],
    ['a newline', m('a', '!=', 'two\nlines')],
    ['the empty value', m('a', '=', '')],
    ['list punctuation', m('a', '!=', 'x,}{y')],
    ['list punctuation in a regex', m('a', '!~', 'x,}{y')],
  ])('round-trips %s', (_, matcher) => {
    expect(parseMatcher(formatMatcher(matcher))).toEqual(matcher);
    expect(parseMatchers(formatMatchers([matcher, matcher]))).toEqual([matcher, matcher]);
  });
});

describe('schemas', () => {
  const issues = (schema: z.ZodType, input: unknown) => {
    const r = schema.safeParse(input);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  it('MatcherText parses one matcher and names the problem', () => {
    expect(MatcherText.parse('env="prod"')).toEqual(m('env', '=', 'prod'));
    expect(issues(MatcherText, 'env="prod')).toEqual([{ path: '', message: "unterminated quoted value for 'env' at column 5" }]);
  });

  it("Matchers reads Alertmanager's list of strings, objects, and strings holding several", () => {
    expect(Matchers.parse(['a="b"', 'c=~"x|y"', { name: 'd', op: '!=', value: 'q' }, '{e="1", f="2"}'])).toEqual([
      m('a', '=', 'b'),
      m('c', '=~', 'x|y'),
      m('d', '!=', 'q'),
      m('e', '=', '1'),
      m('f', '=', '2'),
    ]);
  });

  it('an object matcher with a regex is compiled like a parsed one', () => {
    const [matcher] = Matchers.parse([{ name: 'team', op: '=~', value: 'db|cache' }]);
    expect(matchesAll([matcher!], { team: 'cache' })).toBe(true);
  });

  it.each<[string, unknown, Array<{ path: string; message: string | RegExp }>]>([
    // The parser's own message, not zod's "Invalid input" from a union.
    ['a bad string names the column', ['a="b"', 'c=~"("'], [{ path: '1', message: /invalid regular expression .* at column 4/ }]],
    ['a bad object operator names the field', [{ name: 'a', op: '==', value: 'b' }], [{ path: '0.op', message: /Invalid option/ }]],
    ['a bad object regex names the value', [{ name: 'a', op: '!~', value: '(?=x)' }], [{ path: '0.value', message: /lookarounds/ }]],
    ['a bad object name', [{ name: 'a-b', op: '=', value: 'b' }], [{ path: '0.name', message: /label name/ }]],
    ['an empty string is a mistake', [''], [{ path: '0', message: /must hold a matcher/ }]],
    ['a number is neither form', [3], [{ path: '0', message: /must be a matcher like/ }]],
    ['at most 32 matchers', Array.from({ length: 33 }, (_, i) => `l${i}="x"`), [{ path: '', message: /at most 32/ }]],
  ])('refuses %s', (_, input, expected) => {
    const got = issues(Matchers, input);
    expect(got).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      expect(got[i]!.path).toBe(e.path);
      expect(got[i]!.message).toMatch(e.message);
    });
  });

  it('accepts exactly 32 matchers', () => {
    expect(Matchers.parse(Array.from({ length: 32 }, (_, i) => `l${i}="x"`))).toHaveLength(32);
  });
});
