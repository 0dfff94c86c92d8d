import { z } from 'zod';
import type { Labels } from './model.ts';

/**
 * Label matchers in Alertmanager's syntax (`{foo="bar", baz=~"qu.*"}`), shared by routes, inhibit
 * rules and silences. Pure: parse text into plain `Matcher` data, test label sets against them.
 *
 * Invariants:
 * - a missing label has the value "" (Prometheus: an empty label is no label), so `foo!="bar"` and
 *   `foo=""` both match an alert without `foo`;
 * - regexes are fully anchored (`^(?:re)$`), as Alertmanager compiles them, and compiled once per
 *   Matcher object;
 * - `parseMatchers(formatMatcher(m))` gives back `m` for every valid matcher;
 * - anything that would not match as written (bad name, operator, quote, regex) is a parse error
 *   naming the problem and its column, never a matcher that silently matches nothing.
 *
 * Choices where Alertmanager's two parsers differ (we accept what its default "fallback" mode does):
 * - a string may hold several matchers, with or without braces, and a trailing comma;
 * - values may be unquoted (`env=prod`, up to the next `,`/`}`, trimmed; `env=` is the empty value);
 * - in quoted values `\"`, `\\` and `\n` are escapes, any other backslash is kept as written, so
 *   `"\d+"` reaches the regex as `\d+` (the classic parser's rule);
 * - label names are Prometheus names `[a-zA-Z_][a-zA-Z0-9_]*`; quoted UTF-8 names are not accepted.
 *
 * Regexes are RE2 in Alertmanager and backtracking JavaScript here, so regex text is translated and
 * fenced: a leading `(?i)`/`(?s)` becomes a flag, `(?P<n>` a named group, `\pL` `\p{L}`, escaped
 * punctuation a literal; lookarounds and backreferences (not RE2) are refused, and so are nested
 * unbounded quantifiers like `(a+)+`, whose backtracking on a long label value would stall the
 * dispatcher (RE2 has no such case, so a rule that is safe in Alertmanager must be safe here).
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const MAX_REGEX_LENGTH = 256;
/** Unbounded wildcards (`.*`, `.+`) one matcher regex may hold (`.*foo.*` has two). */
export const MAX_UNBOUNDED = 2;
export const MAX_MATCHERS = 32;

export class MatcherError extends Error {
  override readonly name = 'MatcherError';
  /** 1-based column in the parsed text where the problem is. */
  readonly column: number;

  constructor(problem: string, column: number) {
    super(`${problem} at column ${column}`);
    this.column = column;
  }
}

// ---------------------------------------------------------------------------------------------
// Regexes: RE2 text to an anchored JavaScript RegExp.

/** Compiled regexes by matcher object: parsed matchers are compiled once, hand-built ones on first use. */
const compiled = new WeakMap<Matcher, RegExp>();

const PUNCT = /^[!-/:-@[-`{-~]$/;
/** What a `u`-mode JavaScript regex lets you escape; RE2 lets you escape any ASCII punctuation. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/');

/** Returns the anchored RegExp for RE2-style `source`, or a problem description. */
function compileRegex(source: string): RegExp | string {
  if (source.length > MAX_REGEX_LENGTH) return `regular expression longer than ${MAX_REGEX_LENGTH} characters`;
  let s = source;
  const flags = new Set(['u']);
  const lead = /^\(\?([is]+)\)/.exec(s);
  if (lead) {
    for (const f of lead[1]!) flags.add(f);
    s = s.slice(lead[0].length);
  }
  let out = '';
  let inClass = false;
  // One entry per open group: does it hold a quantifier (*, +, ?, {n}) or an alternation? Repeating
  // such a group is refused: `(a+)+`, `(a|a)*`, `(a?)+` backtrack exponentially in JavaScript (RE2,
  // Alertmanager's engine, never does).
  const groups: boolean[] = [];
  let lastGroupQuantified = false; // the group that just closed holds one
  // Unbounded wildcards in all: more than MAX_UNBOUNDED (`.*a.*b.*c`) backtrack polynomially, which
  // on a 1 KiB label value is already seconds of a shared evaluator's time.
  let unbounded = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const afterGroup = lastGroupQuantified;
    lastGroupQuantified = false;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined) return 'regular expression ends with a lone backslash';
      if (/[1-9k]/.test(n)) return 'backreferences are not supported (Alertmanager regexes are RE2)';
      i++;
      if ((n === 'p' || n === 'P') && s[i + 1] !== undefined && /[A-Za-z]/.test(s[i + 1]!)) {
        out += `\\${n}{${s[i + 1]}}`; // RE2's one-letter class \pL
        i++;
      } else if (PUNCT.test(n) && !JS_SYNTAX.has(n) && !(inClass && n === '-')) {
        out += n; // an escaped non-syntax character is that character
      } else {
        out += c + n;
      }
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      // RE2 (like POSIX) reads a ']' first in a class as a member: `[]a]`; JavaScript, as the end.
      const negated = s[i + 1] === '^';
      if (s[i + (negated ? 2 : 1)] === ']') {
        out += negated ? '[^\\]' : '[\\]';
        i += negated ? 2 : 1;
        continue;
      }
    } else if (c === '(') {
      groups.push(false);
      if (s[i + 1] === '?') {
        const kind = s.slice(i + 2, i + 4);
        if (kind[0] === '=' || kind[0] === '!' || kind === '<=' || kind === '<!') {
          return 'lookarounds are not supported (Alertmanager regexes are RE2)';
        }
        if (kind === 'P<') {
          out += '(?<';
          i += 3;
          continue;
        }
      }
    } else if (c === ')') {
      const inner = groups.pop() ?? false;
      lastGroupQuantified = inner;
      if (inner && groups.length > 0) groups[groups.length - 1] = true;
    } else if (c === '*' || c === '+' || c === '{') {
      const repeat = c === '{' ? /^\{\d+(?:,\d*)?\}/.exec(s.slice(i))?.[0] : c;
      if (repeat === undefined) {
        out += '\\{'; // RE2 reads a '{' that starts no repeat as itself; u-mode JavaScript refuses it
        continue;
      }
      if (afterGroup) return 'a repeated group cannot hold a repeat or "|", like (a+)+ or (a|b)* (it can take exponential time)';
      if (s[i - 1] === '.' && s[i - 2] !== '\\' && (c !== '{' || /,\}$/.test(repeat))) unbounded += 1;
      if (unbounded > MAX_UNBOUNDED) return `at most ${MAX_UNBOUNDED} unbounded wildcards (.*, .+) per regular expression (more can take polynomial time)`;
      if (groups.length > 0) groups[groups.length - 1] = true;
      out += repeat;
      i += repeat.length - 1;
      continue;
    } else if (c === '|' || (c === '?' && s[i - 1] !== '(')) {
      // An alternation, or an optional part (not a group's own `(?` syntax), makes its group ambiguous.
      if (groups.length > 0) groups[groups.length - 1] = true;
    } else if (c === '}' || c === ']') {
      out += `\\${c}`; // a lone closing bracket: a literal in RE2
      continue;
    }
    out += c;
  }
  try {
    return new RegExp(`^(?:${out})$`, [...flags].join(''));
  } catch (err) {
    // V8 says "Invalid regular expression: /<source>/<flags>: <reason>"; the reason is what helps.
    return `invalid regular expression (${(err as Error).message.split(': ').pop()})`;
  }
}

function regexOf(m: Matcher): RegExp {
  let re = compiled.get(m);
  if (!re) {
    const r = compileRegex(m.value);
    if (typeof r === 'string') throw new MatcherError(`${r} in matcher for '${m.name}'`, 1);
    re = r;
    compiled.set(m, re);
  }
  return re;
}

// ---------------------------------------------------------------------------------------------
// Matching.

export function matches(m: Matcher, labels: Labels): boolean {
  const v = (Object.hasOwn(labels, m.name) ? labels[m.name] : undefined) ?? ''; // never an inherited member (`constructor`)
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return regexOf(m).test(v);
    case '!~':
      return !regexOf(m).test(v);
  }
}

/** True when every matcher matches (so an empty list matches everything). */
export function matchesAll(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((m) => matches(m, labels));
}

// ---------------------------------------------------------------------------------------------
// Parsing.

const OPS: MatchOp[] = ['=~', '!~', '!=', '=']; // two-character operators first

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string | undefined {
    return this.text[this.pos];
  }
  skipSpace(): void {
    while (!this.done && /\s/.test(this.text[this.pos]!)) this.pos++;
  }
  fail(problem: string, at = this.pos): never {
    throw new MatcherError(problem, at + 1);
  }
}

function describe(ch: string | undefined): string {
  return ch === undefined ? 'end of text' : `'${ch}'`;
}

/** Reads one `name op value` at the scanner's position; `inBraces` makes `}` end an unquoted value. */
function readMatcher(sc: Scanner, inBraces: boolean): Matcher {
  sc.skipSpace();
  const nameAt = sc.pos;
  const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(sc.text.slice(sc.pos))?.[0];
  if (!name) {
    if (sc.peek() === '"') sc.fail('quoted label names are not supported; expected a label name like env');
    sc.fail(`expected a label name, found ${describe(sc.peek())}`);
  }
  sc.pos += name.length;
  sc.skipSpace();
  const op = OPS.find((o) => sc.text.startsWith(o, sc.pos));
  if (!op) {
    const next = sc.text[nameAt + name.length];
    if (next !== undefined && !/[\s=!~]/.test(next)) sc.fail(`invalid character '${next}' in label name '${name}'`, nameAt + name.length);
    sc.fail(`expected an operator (=, !=, =~, !~) after '${name}', found ${describe(sc.peek())}`);
  }
  sc.pos += op.length;
  sc.skipSpace();
  const valueAt = sc.pos;
  let value = '';
  if (sc.peek() === '"') {
    sc.pos++;
    for (;;) {
      const c = sc.peek();
      if (c === undefined) sc.fail(`unterminated quoted value for '${name}'`, valueAt);
      sc.pos++;
      if (c === '"') break;
      if (c === '\\') {
        const n = sc.peek();
        if (n === 'n') value += '\n';
        else if (n === '"' || n === '\\') value += n;
        else {
          value += '\\'; // not an escape: the backslash is part of the value (a regex's \d)
          continue;
        }
        sc.pos++;
        continue;
      }
      value += c;
    }
  } else {
    const stop = inBraces ? /[,}]/ : /,/;
    let end = sc.pos;
    while (end < sc.text.length && !stop.test(sc.text[end]!)) end++;
    const raw = sc.text.slice(sc.pos, end);
    const quote = raw.indexOf('"');
    if (quote >= 0) sc.fail(`unexpected '"' inside unquoted value for '${name}' (quote the whole value)`, sc.pos + quote);
    value = raw.trim();
    sc.pos = end;
  }
  if (op === '=~' || op === '!~') {
    const re = compileRegex(value);
    if (typeof re === 'string') sc.fail(`${re} in matcher for '${name}'`, valueAt);
    const m: Matcher = { name, op, value };
    compiled.set(m, re);
    return m;
  }
  return { name, op, value };
}

/** Parses `{a="b", c=~"x|y"}`, with or without braces; an empty text (or `{}`) is no matchers. */
export function parseMatchers(text: string): Matcher[] {
  const sc = new Scanner(text);
  const out: Matcher[] = [];
  sc.skipSpace();
  const braces = sc.peek() === '{';
  if (braces) sc.pos++;
  for (;;) {
    sc.skipSpace();
    if (braces && sc.peek() === '}') {
      sc.pos++;
      sc.skipSpace();
      if (!sc.done) sc.fail(`unexpected ${describe(sc.peek())} after '}'`);
      return out;
    }
    if (sc.done) {
      if (braces) sc.fail("missing closing '}'");
      return out;
    }
    out.push(readMatcher(sc, braces));
    sc.skipSpace();
    if (sc.peek() === ',') sc.pos++;
    else if (!sc.done && !(braces && sc.peek() === '}')) sc.fail(`expected ',' between matchers, found ${describe(sc.peek())}`);
  }
}

/** Parses exactly one matcher (`env="prod"`, `env=prod`). */
export function parseMatcher(text: string): Matcher {
  const sc = new Scanner(text);
  sc.skipSpace();
  if (sc.done) sc.fail('expected a matcher like env="prod", found end of text');
  const m = readMatcher(sc, false);
  sc.skipSpace();
  if (!sc.done) sc.fail(`expected one matcher, found ${describe(sc.peek())} after it`);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Formatting: the inverse of parsing.

export function quoteValue(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${quoteValue(m.value)}`;
}

export function formatMatchers(ms: readonly Matcher[]): string {
  return `{${ms.map(formatMatcher).join(', ')}}`;
}

// ---------------------------------------------------------------------------------------------
// zod schemas.

const MAX_TEXT = 4096;

function parseInto<T>(parse: (s: string) => T) {
  return (text: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(text);
    } catch (err) {
      if (!(err instanceof MatcherError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
      return z.NEVER;
    }
  };
}

/** A Prometheus label name, as group_by and inhibit rules' `equal` list them. */
export const LabelName = z.string().regex(LABEL_NAME, 'must be a label name like env ([a-zA-Z_][a-zA-Z0-9_]*)');

/** One matcher as text: `env="prod"`. */
export const MatcherText = z.string().max(MAX_TEXT).transform(parseInto(parseMatcher));

/** One matcher as an object, for API clients that would rather not build strings. */
export const MatcherObject = z
  .strictObject({
    name: LabelName,
    op: z.enum(['=', '!=', '=~', '!~']),
    value: z.string().max(MAX_TEXT),
  })
  .transform((m, ctx): Matcher => {
    const out: Matcher = { name: m.name, op: m.op, value: m.value };
    if (m.op === '=~' || m.op === '!~') {
      const re = compileRegex(m.value);
      if (typeof re === 'string') {
        ctx.addIssue({ code: 'custom', path: ['value'], message: re });
        return z.NEVER;
      }
      compiled.set(out, re);
    }
    return out;
  });

const MatcherListText = z
  .string()
  .max(MAX_TEXT)
  .transform(parseInto(parseMatchers))
  .refine((ms) => ms.length > 0, 'must hold a matcher like env="prod"');

/**
 * One entry of a matcher list, dispatched on its type by hand: a zod union would bury the parse
 * error ("unterminated quoted value at column 7") under a generic "Invalid input".
 */
const MatcherEntry = z.unknown().transform((v, ctx): Matcher[] => {
  if (typeof v !== 'string' && (typeof v !== 'object' || v === null || Array.isArray(v))) {
    ctx.addIssue({ code: 'custom', message: 'must be a matcher like env="prod" or an object {name, op, value}' });
    return z.NEVER;
  }
  const r = typeof v === 'string' ? MatcherListText.safeParse(v) : MatcherObject.safeParse(v);
  if (!r.success) {
    for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }
  return Array.isArray(r.data) ? r.data : [r.data];
});

/**
 * Alertmanager's `matchers: ['a="b"', 'c=~"x|y"']`: a list whose strings each hold one or more
 * matchers (Alertmanager parses each as a list), or `{name, op, value}` objects; at most 32 in all.
 */
export const Matchers = z
  .array(MatcherEntry)
  .transform((lists) => lists.flat())
  .refine((ms) => ms.length <= MAX_MATCHERS, `must hold at most ${MAX_MATCHERS} matchers`);
export type Matchers = z.output<typeof Matchers>;
