import { z } from 'zod';
import type { Labels, Severity } from './model.ts';

/**
 * Annotation templates: the part of Go's text/template that Prometheus alerting rules use, so a
 * summary copied from a Prometheus rule renders the same here. A template is compiled (parsed and
 * checked) once, when the rule is saved, so every mistake is a 400 naming the field and the column;
 * rendering then cannot fail on syntax, only on data (a label that is not a number), and like
 * Prometheus it then renders `<error expanding template: ...>` instead of failing the evaluation.
 *
 * Safe by construction: no code runs, there are no loops, variables or nested templates, and the
 * output is bounded (16 KiB). Regular expressions are literals checked at compile time.
 *
 * Syntax (text/template's):
 * - literal text and `{{ pipeline }}` actions; `{{- ` and ` -}}` trim the white space before/after;
 *   `{{/* comment *\/}}`;
 * - a pipeline is `arg | fn | fn arg...`: a piped value becomes the function's LAST argument;
 * - args: `$labels.name`, `$labels["name-with-dash"]`, `index $labels "name"` (also Prometheus'
 *   `.Labels.name` and `.Value`), `$value`, `$severity`, `$rule`, "quoted" or `raw` strings,
 *   numbers, true/false, and `(pipeline)`;
 * - `{{ if pipeline }}...{{ else if pipeline }}...{{ else }}...{{ end }}`.
 * Functions: humanize, humanize1024, humanizePercentage, humanizeDuration (Prometheus' output to
 * the character), printf (%s %d %f %g %v with Go's flags, width and precision), toUpper, toLower,
 * title, trim, default, reReplaceAll, match, index, eq ne lt le gt ge, and or not.
 *
 * Where Go would fail or print `%!d(float64=...)` this is lenient, on purpose, since an annotation
 * is read by a person at 3 a.m.: a missing label is '', a null value is '' (also through humanize
 * and printf), comparisons of a number with a numeric string compare numbers, printf %d truncates a
 * float and %s prints a number as %v does.
 */

export const MAX_TEMPLATE_LENGTH = 4096;
export const MAX_OUTPUT_BYTES = 16 * 1024;
/** Longest regular expression accepted (Prometheus has no limit; ours keep compile time trivial). */
const MAX_REGEX_LENGTH = 256;
/** Widest printf width or precision: `%999999999s` must not be a way to make huge strings. */
const MAX_PRINTF_WIDTH = 64;

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    /** The problem without its position, e.g. `unknown function "humanise"`. */
    readonly problem: string,
    /** 1-based line and column of the problem in the template, or null when it has none. */
    readonly line: number | null = null,
    readonly column: number | null = null,
  ) {
    super(line === null ? problem : `${problem} at ${line === 1 ? '' : `line ${line}, `}column ${column}`);
  }
}

/** What a template can see. */
export interface TemplateData {
  labels: Labels;
  value: number | null;
  severity: Severity;
  /** The rule's name. */
  rule: string;
}

export interface CompiledTemplate {
  readonly source: string;
  /** The parsed template (internal to this module; stable only in shape, not as an API). */
  readonly nodes: readonly TemplateNode[];
}

type Val = string | number | boolean | null;

type Expr =
  | { k: 'lit'; v: Val; at: number }
  | { k: 'var'; name: 'value' | 'severity' | 'rule'; at: number }
  | { k: 'label'; key: Expr; at: number }
  /** Bare `$labels`: only valid as index's first argument. */
  | { k: 'labels'; at: number }
  | { k: 'call'; fn: FnName; args: Expr[]; at: number; re?: RegExp; format?: FormatPart[] };

export type TemplateNode =
  | { k: 'text'; text: string }
  | { k: 'out'; e: Expr }
  | { k: 'if'; branches: Array<{ cond: Expr; body: TemplateNode[] }>; otherwise: TemplateNode[] };

// ---------------------------------------------------------------------------------------------
// Functions: arity is checked at compile time; the piped value counts as the last argument.

const FUNCTIONS = {
  humanize: [1, 1],
  humanize1024: [1, 1],
  humanizePercentage: [1, 1],
  humanizeDuration: [1, 1],
  printf: [1, Infinity],
  toUpper: [1, 1],
  toLower: [1, 1],
  title: [1, 1],
  trim: [1, 1],
  default: [2, 2],
  reReplaceAll: [3, 3],
  match: [2, 2],
  index: [2, 2],
  eq: [2, Infinity],
  ne: [2, 2],
  lt: [2, 2],
  le: [2, 2],
  gt: [2, 2],
  ge: [2, 2],
  and: [2, Infinity],
  or: [2, Infinity],
  not: [1, 1],
} as const satisfies Record<string, readonly [number, number]>;
type FnName = keyof typeof FUNCTIONS;
const isFn = (s: string): s is FnName => Object.hasOwn(FUNCTIONS, s);

const VARIABLES = ['labels', 'value', 'severity', 'rule'] as const;
/** text/template actions we do not support, named so the error says so instead of "unknown function". */
const UNSUPPORTED = new Set(['range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil']);

// ---------------------------------------------------------------------------------------------
// Compiling

export function compileTemplate(text: string): CompiledTemplate {
  if (text.length > MAX_TEMPLATE_LENGTH) {
    throw new TemplateError(`template is too long: ${text.length} characters, at most ${MAX_TEMPLATE_LENGTH}`);
  }
  const fail = (problem: string, at: number): never => {
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    throw new TemplateError(problem, line, at - before.lastIndexOf('\n'));
  };
  // Postgres text cannot hold NUL; refusing it here keeps it out of stored annotations.
  const nul = text.indexOf('\u0000');
  if (nul >= 0) fail('NUL character', nul);
  return Object.freeze({ source: text, nodes: build(scan(text, fail), fail) });
}

type Fail = (problem: string, at: number) => never;

type Tok = {
  t: 'var' | 'field' | 'ident' | 'str' | 'num' | 'pipe' | 'lparen' | 'rparen' | 'lbrack' | 'rbrack' | 'dot';
  /** Source text (for messages); for strings, the decoded value is in `s`. */
  v: string;
  s?: string;
  n?: number;
  at: number;
  end: number;
};

type Item = { kind: 'text'; text: string } | { kind: 'action'; toks: Tok[]; at: number; end: number } | { kind: 'comment' };

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const trimStartSpace = (s: string) => s.replace(/^[ \t\r\n]+/, '');
const trimEndSpace = (s: string) => s.replace(/[ \t\r\n]+$/, '');
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;

/** Splits the template into text and actions (lexed into tokens), applying the trim markers. */
function scan(src: string, fail: Fail): Item[] {
  const items: Item[] = [];
  let trimNext = false;
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = trimStartSpace(text);
    let p = open + 2;
    const trimPrev = open >= 0 && src[p] === '-' && isSpace(src[p + 1]);
    if (trimPrev) text = trimEndSpace(text);
    if (text) items.push({ kind: 'text', text });
    if (open < 0) break;
    if (trimPrev) p += 2;
    let end: number;
    if (src.startsWith('/*', p)) {
      // A comment runs to the first */ and must be followed by the closing delimiter, as in Go.
      const close = src.indexOf('*/', p + 2);
      if (close < 0) fail('unclosed comment', open);
      const rest = close + 2;
      if (src.startsWith('}}', rest)) [end, trimNext] = [rest + 2, false];
      else if (isSpace(src[rest]) && src[rest + 1] === '-' && src.startsWith('}}', rest + 2)) [end, trimNext] = [rest + 4, true];
      else fail('comment ends before the closing "}}"', rest);
      items.push({ kind: 'comment' });
    } else {
      const lexed = lexAction(src, p, open, fail);
      end = lexed.end;
      trimNext = lexed.trimNext;
      items.push({ kind: 'action', toks: lexed.toks, at: open, end: lexed.closeAt });
    }
    i = end!;
  }
  return items;
}

function lexAction(src: string, start: number, open: number, fail: Fail): { toks: Tok[]; end: number; closeAt: number; trimNext: boolean } {
  const toks: Tok[] = [];
  let p = start;
  const push = (t: Tok['t'], end: number, extra: Partial<Tok> = {}) => {
    toks.push({ t, v: src.slice(p, end), at: p, end, ...extra });
    p = end;
  };
  for (;;) {
    if (p >= src.length) fail('unclosed action', open);
    if (src.startsWith('}}', p)) return { toks, end: p + 2, closeAt: p, trimNext: false };
    const c = src[p]!;
    if (isSpace(c)) {
      if (src[p + 1] === '-' && src.startsWith('}}', p + 2)) return { toks, end: p + 4, closeAt: p, trimNext: true };
      p++;
      continue;
    }
    const single = ({ '|': 'pipe', '(': 'lparen', ')': 'rparen', '[': 'lbrack', ']': 'rbrack' } as const)[c as '|'];
    if (single) {
      push(single, p + 1);
      continue;
    }
    if (c === '"') {
      const { value, end } = lexQuoted(src, p, fail);
      push('str', end, { s: value });
      continue;
    }
    if (c === '`') {
      const close = src.indexOf('`', p + 1);
      if (close < 0) fail('unterminated raw string', p);
      // Go drops carriage returns from raw strings.
      push('str', close + 1, { s: src.slice(p + 1, close).replaceAll('\r', '') });
      continue;
    }
    if (c === '$' || (c === '.' && /[A-Za-z_]/.test(src[p + 1] ?? ''))) {
      IDENT.lastIndex = p + 1;
      const m = IDENT.exec(src);
      push(c === '$' ? 'var' : 'field', p + 1 + (m ? m[0].length : 0));
      continue;
    }
    NUMBER.lastIndex = p;
    const num = /[0-9.+-]/.test(c) ? NUMBER.exec(src) : null;
    if (num) {
      const end = p + num[0].length;
      if (/[A-Za-z0-9_.]/.test(src[end] ?? '')) fail(`bad number syntax "${src.slice(p).match(/^[A-Za-z0-9_.+-]+/)![0]}"`, p);
      push('num', end, { n: Number(num[0]) });
      continue;
    }
    if (c === '.') {
      push('dot', p + 1);
      continue;
    }
    IDENT.lastIndex = p;
    const ident = IDENT.exec(src);
    if (ident) {
      push('ident', p + ident[0].length);
      continue;
    }
    if (c === ':' || c === '=') fail('assigning variables is not supported', p);
    const cp = src.codePointAt(p)!;
    fail(`unexpected character ${cp > 0x20 && cp < 0x7f ? `"${c}"` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`}`, p);
  }
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };

/** A Go interpreted string literal: the escapes Go has; an unknown one (`"\d"`) is an error, as in Go. */
function lexQuoted(src: string, start: number, fail: Fail): { value: string; end: number } {
  let out = '';
  let p = start + 1;
  for (;;) {
    const c = src[p];
    if (c === undefined || c === '\n') fail('unterminated quoted string', start);
    if (c === '"') return { value: out, end: p + 1 };
    if (c !== '\\') {
      out += c;
      p++;
      continue;
    }
    const e = src[p + 1] ?? '';
    const hex = { x: 2, u: 4, U: 8 }[e as 'x'];
    if (hex) {
      const digits = src.slice(p + 2, p + 2 + hex);
      const code = /^[0-9a-fA-F]+$/.test(digits) && digits.length === hex ? parseInt(digits, 16) : -1;
      if (code < 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) fail(`bad escape "\\${e}${digits}" in string`, p);
      if (code === 0) fail('NUL character', p);
      out += String.fromCodePoint(code);
      p += 2 + hex;
    } else if (Object.hasOwn(ESCAPES, e)) {
      out += ESCAPES[e];
      p += 2;
    } else {
      fail(`unknown escape "\\${e}" in string (write "\\\\${e}" or use a \`raw string\`)`, p);
    }
  }
}

function build(items: Item[], fail: Fail): TemplateNode[] {
  const root: TemplateNode[] = [];
  type Frame = { node: Extract<TemplateNode, { k: 'if' }>; body: TemplateNode[]; at: number; sawElse: boolean };
  const stack: Frame[] = [];
  let body = root;
  for (const item of items) {
    if (item.kind === 'comment') continue;
    if (item.kind === 'text') {
      body.push({ k: 'text', text: item.text });
      continue;
    }
    const { toks, at, end } = item;
    const head = toks[0];
    if (!head) fail('empty action', at);
    const word = head!.t === 'ident' ? head!.v : '';
    if (word === 'if') {
      const node: Frame['node'] = { k: 'if', branches: [{ cond: parseCondition(toks.slice(1), end, head!, fail), body: [] }], otherwise: [] };
      body.push(node);
      stack.push({ node, body: node.branches[0]!.body, at, sawElse: false });
      body = stack.at(-1)!.body;
    } else if (word === 'else') {
      const top = stack.at(-1);
      if (!top) fail('unexpected {{else}} outside {{if}}', at);
      if (top!.sawElse) fail('unexpected {{else}} after {{else}}', at);
      if (toks.length === 1) {
        top!.sawElse = true;
        top!.body = top!.node.otherwise;
      } else if (toks[1]!.t === 'ident' && toks[1]!.v === 'if') {
        const branch = { cond: parseCondition(toks.slice(2), end, toks[1]!, fail), body: [] };
        top!.node.branches.push(branch);
        top!.body = branch.body;
      } else {
        fail(`unexpected ${describe(toks[1]!)} after else`, toks[1]!.at);
      }
      body = top!.body;
    } else if (word === 'end') {
      if (toks.length > 1) fail(`unexpected ${describe(toks[1]!)} after end`, toks[1]!.at);
      if (!stack.pop()) fail('unexpected {{end}} outside {{if}}', at);
      body = stack.at(-1)?.body ?? root;
    } else {
      body.push({ k: 'out', e: parseExpression(toks, end, fail) });
    }
  }
  const open = stack.at(-1);
  if (open) fail('unclosed {{if}}: missing {{end}}', open.at);
  return root;
}

function parseCondition(toks: Tok[], end: number, keyword: Tok, fail: Fail): Expr {
  if (toks.length === 0) fail('missing condition after if', keyword.at);
  return parseExpression(toks, end, fail);
}

function describe(t: Tok): string {
  const text = t.v.length > 24 ? `${t.v.slice(0, 24)}...` : t.v;
  return t.t === 'str' ? text : `"${text}"`;
}

/** The known name a typo most likely meant: within 1 edit of a short name, 2 of a longer one. */
function suggest(name: string, known: readonly string[]): string {
  let best: string | null = null;
  let bestDistance = name.length >= 5 ? 3 : 2;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : distance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best === null ? '' : best;
}

/** Levenshtein distance; names are short, so the plain quadratic version is enough. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

/** Recursive descent over one action's tokens. */
function parseExpression(toks: Tok[], end: number, fail: Fail): Expr {
  let i = 0;
  const peek = (): Tok | undefined => toks[i];
  const next = (): Tok | undefined => toks[i++];
  const stops = (t: Tok | undefined) => !t || t.t === 'pipe' || t.t === 'rparen';
  const adjacent = (a: Tok, t: Tok['t']) => peek()?.t === t && peek()!.at === a.end;

  const noLabelsMap = (e: Expr) => {
    if (e.k === 'labels') fail('$labels is a map: use $labels.name, $labels["name"] or index $labels "name"', e.at);
    return e;
  };

  const pipeline = (): Expr => {
    const first = peek();
    if (stops(first)) fail(first ? `unexpected ${describe(first)}` : 'missing value', first?.at ?? end);
    let e = command(null);
    while (peek()?.t === 'pipe') {
      const bar = next()!;
      if (stops(peek())) fail('missing function after "|"', bar.at);
      e = command(e);
    }
    return e;
  };

  const command = (piped: Expr | null): Expr => {
    const t = peek()!;
    if (t.t === 'ident' && t.v !== 'true' && t.v !== 'false') {
      next();
      if (!isFn(t.v)) fail(unknownFunction(t.v), t.at);
      const args: Expr[] = [];
      while (!stops(peek())) args.push(arg());
      if (piped) args.push(piped);
      return call(t, t.v as FnName, args, piped !== null);
    }
    if (piped) fail(`cannot pipe into ${describe(t)}: only functions take a piped value`, t.at);
    const e = arg();
    const extra = peek();
    if (!stops(extra)) fail(`unexpected ${describe(extra!)} after ${describe(t)}: only functions take arguments`, extra!.at);
    return e;
  };

  const unknownFunction = (name: string): string => {
    if (UNSUPPORTED.has(name)) return `"${name}" is not supported`;
    const s = suggest(name, Object.keys(FUNCTIONS));
    return `unknown function "${name}"${s ? ` (did you mean "${s}"?)` : ''}`;
  };

  const arg = (): Expr => {
    const t = next()!;
    switch (t.t) {
      case 'str':
        return { k: 'lit', v: t.s!, at: t.at };
      case 'num':
        return { k: 'lit', v: t.n!, at: t.at };
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true', at: t.at };
        if (isFn(t.v)) fail(`${t.v} needs parentheses to be an argument: (${t.v} ...)`, t.at);
        return fail(unknownFunction(t.v), t.at);
      case 'lparen': {
        const e = pipeline();
        if (peek()?.t !== 'rparen') fail('unclosed "(": missing ")"', t.at);
        const close = next()!;
        if (adjacent(close, 'field')) fail(`unexpected field ${peek()!.v}`, peek()!.at);
        return e;
      }
      case 'var': {
        const name = t.v.slice(1);
        if (name === 'labels') return labels(t);
        if (name === 'value' || name === 'severity' || name === 'rule') {
          noFields(t);
          return { k: 'var', name, at: t.at };
        }
        const s = suggest(name, VARIABLES);
        return fail(`unknown variable ${t.v || '$'}${s ? ` (did you mean $${s}?)` : ''}`, t.at);
      }
      case 'field':
        // Prometheus' own names for the same data.
        if (t.v === '.Labels') return labels(t);
        if (t.v === '.Value') {
          noFields(t);
          return { k: 'var', name: 'value', at: t.at };
        }
        return fail(`unknown field ${t.v}: use $labels, $value, $severity or $rule`, t.at);
      case 'dot':
        return fail('"." is not supported: use $labels, $value, $severity or $rule', t.at);
      default:
        return fail(`unexpected ${describe(t)}`, t.at);
    }
  };

  const noFields = (t: Tok) => {
    if (adjacent(t, 'field')) fail(`${t.v} has no field ${peek()!.v}`, peek()!.at);
  };

  const labels = (t: Tok): Expr => {
    if (adjacent(t, 'field')) {
      const f = next()!;
      noFields(f);
      return { k: 'label', key: { k: 'lit', v: f.v.slice(1), at: f.at }, at: t.at };
    }
    if (adjacent(t, 'lbrack')) {
      const open = next()!;
      const key = next();
      if (key?.t !== 'str') fail('$labels[...] needs a quoted label name', key?.at ?? open.at);
      if (peek()?.t !== 'rbrack') fail('missing "]"', peek()?.at ?? end);
      noFields(next()!);
      return { k: 'label', key: { k: 'lit', v: key!.s!, at: key!.at }, at: t.at };
    }
    return { k: 'labels', at: t.at };
  };

  const call = (t: Tok, fn: FnName, args: Expr[], piped: boolean): Expr => {
    const [min, max] = FUNCTIONS[fn];
    if (args.length < min || args.length > max) {
      const wanted = min === max ? `${min} argument${min === 1 ? '' : 's'}` : `at least ${min} arguments`;
      fail(`${fn} expects ${wanted}, got ${args.length}${piped ? ' (counting the piped value)' : ''}`, t.at);
    }
    if (fn === 'index') {
      if (args[0]!.k !== 'labels') fail('index works on $labels only: index $labels "name"', args[0]!.at);
      return { k: 'label', key: noLabelsMap(args[1]!), at: t.at };
    }
    args.forEach(noLabelsMap);
    const literal = (what: string): string => {
      const a = args[0]!;
      if (a.k !== 'lit' || typeof a.v !== 'string') fail(`${fn} needs a quoted ${what} as its first argument`, a.at);
      return (a as { v: string }).v;
    };
    if (fn === 'printf') {
      const spec = literal('format');
      const format = parseFormat(spec, (problem) => fail(`printf: ${problem}`, args[0]!.at));
      const verbs = format.filter((f) => typeof f !== 'string').length;
      if (verbs !== args.length - 1) {
        fail(`printf format ${JSON.stringify(spec)} needs ${verbs} argument${verbs === 1 ? '' : 's'}, got ${args.length - 1}`, t.at);
      }
      return { k: 'call', fn, args, at: t.at, format };
    }
    if (fn === 'reReplaceAll' || fn === 'match') {
      const re = compileRegex(literal('regular expression'), fn === 'reReplaceAll', (problem) => fail(problem, args[0]!.at));
      return { k: 'call', fn, args, at: t.at, re };
    }
    return { k: 'call', fn, args, at: t.at };
  };

  const e = noLabelsMap(pipeline());
  const extra = peek();
  if (extra) fail(`unexpected ${describe(extra)}`, extra.at);
  return e;
}

// ---------------------------------------------------------------------------------------------
// printf

type FormatPart = string | { verb: 's' | 'd' | 'f' | 'g' | 'v'; minus: boolean; plus: boolean; zero: boolean; width: number | null; prec: number | null };

const FORMAT_VERB = /%([-+0]*)(\d*)(?:\.(\d*))?(.?)/y;

function parseFormat(spec: string, fail: (problem: string) => never): FormatPart[] {
  const parts: FormatPart[] = [];
  let text = '';
  for (let i = 0; i < spec.length; ) {
    if (spec[i] !== '%') {
      text += spec[i++];
      continue;
    }
    if (spec[i + 1] === '%') {
      text += '%';
      i += 2;
      continue;
    }
    FORMAT_VERB.lastIndex = i;
    const [all, flags, width, prec, verb] = FORMAT_VERB.exec(spec)!;
    if (!verb) fail(`format ends in the middle of a verb: ${JSON.stringify(all)}`);
    if (!'sdfgv'.includes(verb!)) fail(`unsupported verb %${verb} (use %s, %d, %f, %g or %v)`);
    const w = width ? Number(width) : null;
    const p = prec === undefined ? null : Number(prec || 0);
    if ((w ?? 0) > MAX_PRINTF_WIDTH || (p ?? 0) > MAX_PRINTF_WIDTH) fail(`width and precision are at most ${MAX_PRINTF_WIDTH}`);
    if (text) parts.push(text);
    text = '';
    parts.push({ verb: verb as 's', minus: flags!.includes('-'), plus: flags!.includes('+'), zero: flags!.includes('0'), width: w, prec: p });
    i += all!.length;
  }
  if (text) parts.push(text);
  return parts;
}

function printf(parts: FormatPart[], args: Val[]): string {
  let out = '';
  let n = 0;
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const v = args[n++] ?? null;
    let s: string;
    let numeric = false;
    if (v === null) s = '';
    else if (part.verb === 's' || part.verb === 'v') {
      s = toText(v);
      if (part.prec !== null && part.verb === 's') s = [...s].slice(0, part.prec).join('');
    } else {
      const x = typeof v === 'number' ? v : typeof v === 'string' ? parseGoFloat(v) : null;
      // Go's way of showing a value its verb cannot print.
      if (x === null) s = `%!${part.verb}(${typeof v === 'boolean' ? 'bool' : 'string'}=${v})`;
      else {
        numeric = Number.isFinite(x);
        s = part.verb === 'd' ? formatInt(x, part.prec) : part.verb === 'f' ? formatFixed(x, part.prec ?? 6) : part.prec === null ? goValue(x) : formatG(x, part.prec);
        if (part.plus && numeric && !s.startsWith('-')) s = `+${s}`;
      }
    }
    out += pad(s, part, numeric);
  }
  return out;
}

function pad(s: string, spec: { minus: boolean; zero: boolean; width: number | null }, numeric: boolean): string {
  const missing = (spec.width ?? 0) - [...s].length;
  if (missing <= 0) return s;
  if (spec.minus) return s + ' '.repeat(missing);
  if (spec.zero && numeric) {
    const sign = /^[+-]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(missing) + s.slice(sign.length);
  }
  return ' '.repeat(missing) + s;
}

/** %d: Go refuses floats; an annotation is better served by the integer part. */
function formatInt(x: number, minDigits: number | null): string {
  if (!Number.isFinite(x)) return formatG(x, 1);
  const t = Math.trunc(x);
  const digits = BigInt(Math.abs(t)).toString().padStart(minDigits ?? 0, '0');
  return t < 0 ? `-${digits}` : digits;
}

function formatFixed(x: number, prec: number): string {
  if (!Number.isFinite(x)) return formatG(x, 1);
  const abs = Math.abs(x);
  // toFixed switches to exponent notation from 1e21; such floats are integers, so BigInt is exact.
  const body = abs < 1e21 ? abs.toFixed(prec) : `${BigInt(abs)}${prec > 0 ? `.${'0'.repeat(prec)}` : ''}`;
  return x < 0 || Object.is(x, -0) ? `-${body}` : body;
}

// ---------------------------------------------------------------------------------------------
// Go's float formatting, which Prometheus' humanize functions and `{{ $value }}` print with.

/** Lays out significant digits (first at 10^exp) as Go's %g does: %e form when exp < -4 or >= eprec. */
function layoutG(negative: boolean, digits: string, exp: number, eprec: number): string {
  const d = digits.replace(/0+$/, '') || '0';
  let s: string;
  if (exp < -4 || exp >= eprec) {
    s = `${d[0]}${d.length > 1 ? `.${d.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp >= 0) {
    const frac = d.slice(exp + 1);
    s = d.slice(0, exp + 1).padEnd(exp + 1, '0') + (frac ? `.${frac}` : '');
  } else {
    s = `0.${'0'.repeat(-exp - 1)}${d}`;
  }
  return negative ? `-${s}` : s;
}

function special(v: number): string | null {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return null;
}

/** Go's fmt.Sprintf("%.<prec>g", v). */
export function formatG(v: number, prec: number): string {
  const s = special(v);
  if (s !== null) return s;
  const p = Math.max(1, prec);
  const [mantissa, exp] = Math.abs(v).toExponential(p - 1).split('e') as [string, string];
  return layoutG(v < 0, mantissa.replace('.', ''), Number(exp), p);
}

/**
 * Go's %v of a float64, which is how Prometheus prints `{{ $value }}`: the shortest digits that read
 * back as the same float, in %e form from 10^6 up and below 10^-4 (strconv's fixed threshold of 6
 * for the shortest form), so 1234567 prints as 1.234567e+06, as it does in Prometheus.
 */
function goValue(v: number): string {
  const s = special(v);
  if (s !== null) return s;
  const [mantissa, exp] = Math.abs(v).toExponential().split('e') as [string, string];
  return layoutG(v < 0, mantissa.replace('.', ''), Number(exp), 6);
}

const SI_UP = ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const SI_DOWN = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
const IEC_UP = ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];

/** Scales by `step` through `prefixes` while the value is at least `step` (|v| >= 1 expected). */
function scaleUp(v: number, step: number, prefixes: string[]): [number, string] {
  let prefix = '';
  for (const p of prefixes) {
    if (Math.abs(v) < step) break;
    prefix = p;
    v /= step;
  }
  return [v, prefix];
}

function scaleDown(v: number): [number, string] {
  let prefix = '';
  for (const p of SI_DOWN) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return [v, prefix];
}

/** Prometheus' humanize: 4 significant digits with an SI prefix (1234 -> 1.234k, 0.001 -> 1m). */
export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return formatG(v, 4);
  const [x, prefix] = Math.abs(v) >= 1 ? scaleUp(v, 1000, SI_UP) : scaleDown(v);
  return formatG(x, 4) + prefix;
}

/** Prometheus' humanize1024: binary prefixes, spelled as Prometheus does (ki, Mi, Gi...). */
export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return formatG(v, 4);
  const [x, prefix] = scaleUp(v, 1024, IEC_UP);
  return formatG(x, 4) + prefix;
}

/** Prometheus' humanizePercentage: a ratio as a percentage (0.1234 -> 12.34%). */
export function humanizePercentage(v: number): string {
  return `${formatG(v * 100, 4)}%`;
}

/** Prometheus' humanizeDuration: seconds as `1d 2h 3m 4s`, `1.5s` or `100ms`. */
export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return formatG(v, 4);
  if (v === 0) return '0s';
  if (Math.abs(v) < 1) {
    const [x, prefix] = scaleDown(v);
    return `${formatG(x, 4)}${prefix}s`;
  }
  const sign = v < 0 ? '-' : '';
  const abs = Math.abs(v);
  const whole = Math.trunc(abs);
  const [d, h, m, s] = [Math.trunc(whole / 86400), Math.trunc(whole / 3600) % 24, Math.trunc(whole / 60) % 60, whole % 60];
  if (d) return `${sign}${d}d ${h}h ${m}m ${s}s`;
  if (h) return `${sign}${h}h ${m}m ${s}s`;
  if (m) return `${sign}${m}m ${s}s`;
  return `${sign}${formatG(abs, 4)}s`;
}

// ---------------------------------------------------------------------------------------------
// Regular expressions: Go's RE2 syntax where JavaScript agrees, checked when the rule is saved.

/**
 * A JavaScript RegExp for an RE2 pattern. RE2 runs in linear time and JavaScript's engine
 * backtracks, so constructs RE2 lacks (lookaround, backreferences) are refused, and so is a repeated
 * group holding a repetition or an alternation (`(a+)+`, `(a|ab)*`): those are what take
 * exponential time on a crafted label value. Polynomial patterns are bounded too: at most two
 * unbounded wildcards (`.*foo.*` is fine, `.*a.*b.*c` is refused), and every value is cut at 16 KiB.
 */
function compileRegex(pattern: string, global: boolean, fail: (problem: string) => never): RegExp {
  if (pattern.length > MAX_REGEX_LENGTH) fail(`regular expression is too long (at most ${MAX_REGEX_LENGTH} characters)`);
  let source = pattern;
  let flags = global ? 'gu' : 'u';
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(source);
  if (inline) {
    for (const f of inline[1]!) {
      if (!'ims'.includes(f)) fail(`regular expression flag "${f}" is not supported (use i, m or s)`);
      if (!flags.includes(f)) flags += f;
    }
    source = source.slice(inline[0].length);
  }
  source = source.replaceAll('(?P<', '(?<');
  const groups: Array<{ repeats: boolean; alternates: boolean }> = [{ repeats: false, alternates: false }];
  // Inside a group any quantifier counts, `?` too (`(a?)+`); on the group itself an optional `?`
  // is harmless (`(:\d+)?`), so only unbounded or counted repetition is refused there.
  const repeatsAt = (i: number) => /^(?:[*+]|\{\d)/.test(source.slice(i));
  // Unbounded wildcards in all: more than two (`.*a.*b.*c`) backtrack polynomially, seconds on a 1 KiB value.
  let unbounded = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const e = source[i + 1] ?? '';
      if (/[1-9]/.test(e) || (e === 'k' && source[i + 2] === '<')) fail('backreferences are not supported in regular expressions');
      i++;
    } else if (c === '[') {
      // Skip the class: a leading ] (or ^]) is a literal, escapes are skipped.
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
    } else if (c === '(') {
      if (/^\(\?<?[=!]/.test(source.slice(i))) fail('lookahead and lookbehind are not supported in regular expressions');
      groups.push({ repeats: false, alternates: false });
      // Step over a group's own syntax, (?: or (?<name>, whose ? is not a quantifier.
      const prefix = /^\(\?(?::|<[A-Za-z0-9_]*>)/.exec(source.slice(i));
      if (prefix) i += prefix[0].length - 1;
    } else if (c === ')') {
      const group = groups.length > 1 ? groups.pop()! : null;
      if (group && repeatsAt(i + 1) && (group.repeats || group.alternates)) {
        fail('a repeated group in a regular expression cannot hold a repetition or "|" (it can take exponential time)');
      }
      const parent = groups.at(-1)!;
      parent.repeats ||= group?.repeats ?? false;
      parent.alternates ||= group?.alternates ?? false;
    } else if (c === '|') {
      groups.at(-1)!.alternates = true;
    } else if (c === '?' || repeatsAt(i)) {
      groups.at(-1)!.repeats = true;
      if (source[i - 1] === '.' && source[i - 2] !== '\\' && (c === '*' || c === '+' || /^\{\d+,\}/.test(source.slice(i))) && ++unbounded > 2) {
        fail('a regular expression may hold at most 2 unbounded wildcards (.*, .+): more can take polynomial time');
      }
    }
  }
  try {
    return new RegExp(source, flags);
  } catch (e) {
    // V8 says "Invalid regular expression: /<source>/<flags>: <problem>"; the problem is what helps.
    return fail(`invalid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`);
  }
}

/** Go's Regexp.Expand template: $1, ${1}, $name, ${name}, $$; an unknown group is ''. */
function expandReplacement(repl: string, match: string[], named: Record<string, string | undefined> | undefined): string {
  return repl.replace(/\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (all, braced: string | undefined, bare: string | undefined) => {
    if (all === '$$') return '$';
    const name = (braced ?? bare)!;
    if (/^\d+$/.test(name)) return match[Number(name)] ?? '';
    return named?.[name] ?? '';
  });
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** A data error while rendering (the template itself compiled). */
class RenderFailure extends Error {}

export function renderTemplate(t: CompiledTemplate, data: TemplateData): string {
  const out: string[] = [];
  const budget = { bytes: 0 };
  try {
    renderNodes(t.nodes, data, out, budget);
  } catch (e) {
    if (e instanceof RenderFailure) return `<error expanding template: ${e.message}>`;
    if (e !== FULL) throw e;
  }
  const s = out.join('');
  return budget.bytes > MAX_OUTPUT_BYTES ? `${truncateUtf8(s, MAX_OUTPUT_BYTES - 3)}…` : s;
}

/** Thrown once the output is past the cap: nothing after it could be shown. */
const FULL = Symbol('full');

function renderNodes(nodes: readonly TemplateNode[], data: TemplateData, out: string[], budget: { bytes: number }): void {
  for (const node of nodes) {
    if (node.k === 'if') {
      const branch = node.branches.find((b) => truthy(evaluate(b.cond, data)));
      renderNodes(branch ? branch.body : node.otherwise, data, out, budget);
      continue;
    }
    const s = node.k === 'text' ? node.text : toText(evaluate(node.e, data));
    out.push(s);
    budget.bytes += utf8Length(s);
    if (budget.bytes > MAX_OUTPUT_BYTES) throw FULL;
  }
}

function evaluate(e: Expr, data: TemplateData): Val {
  switch (e.k) {
    case 'lit':
      return e.v;
    case 'var':
      return data[e.name];
    case 'label': {
      const key = toText(evaluate(e.key, data));
      return Object.hasOwn(data.labels, key) ? cap(data.labels[key]!) : '';
    }
    case 'labels':
      throw new Error('bare $labels passed the compiler');
    case 'call':
      return apply(e, data);
  }
}

function apply(e: Extract<Expr, { k: 'call' }>, data: TemplateData): Val {
  const { fn } = e;
  // and/or stop at the first argument that decides, as Go's do.
  if (fn === 'and' || fn === 'or') {
    let v: Val = null;
    for (const a of e.args) {
      v = evaluate(a, data);
      if (truthy(v) === (fn === 'or')) return v;
    }
    return v;
  }
  const args = e.args.map((a) => evaluate(a, data));
  const [a, b] = args as [Val, Val];
  switch (fn) {
    case 'humanize':
    case 'humanize1024':
    case 'humanizePercentage':
    case 'humanizeDuration': {
      const x = toNumber(fn, a);
      return x === null ? '' : NUMBER_FORMATS[fn](x);
    }
    case 'printf':
      return cap(printf(e.format!, args.slice(1)));
    case 'toUpper':
      return toText(a).toUpperCase();
    case 'toLower':
      return toText(a).toLowerCase();
    case 'title':
      return title(toText(a));
    case 'trim':
      return toText(a).trim();
    case 'default':
      return b === null || b === '' ? a : b;
    case 'reReplaceAll':
      return replaceAll(e.re!, toText(b), toText(args[2] ?? null));
    case 'match':
      return e.re!.test(toText(b));
    case 'not':
      return !truthy(a);
    case 'eq':
      return args.slice(1).some((x) => compare(fn, a, x) === 0);
    case 'ne':
      return compare(fn, a, b) !== 0;
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge': {
      const c = compare(fn, a, b);
      if (c === null) return false;
      return fn === 'lt' ? c < 0 : fn === 'le' ? c <= 0 : fn === 'gt' ? c > 0 : c >= 0;
    }
    case 'index':
      throw new Error('index is compiled into a label lookup');
  }
}

const NUMBER_FORMATS = { humanize, humanize1024, humanizePercentage, humanizeDuration };

/**
 * Orders two values: numbers as numbers (a numeric string counts as a number, so a label compares
 * with a number), strings as strings. null (no value) is equal only to null and orders with nothing.
 */
function compare(fn: string, a: Val, b: Val): number | null {
  if (a === null || b === null) return a === b ? 0 : null;
  if (typeof a === typeof b) {
    if (typeof a === 'boolean' && fn !== 'eq' && fn !== 'ne') throw new RenderFailure(`${fn}: booleans cannot be ordered`);
    return a === b ? 0 : a < b ? -1 : a > b ? 1 : null;
  }
  const x = typeof a === 'number' ? a : typeof a === 'string' ? parseGoFloat(a) : null;
  const y = typeof b === 'number' ? b : typeof b === 'string' ? parseGoFloat(b) : null;
  if (x !== null && y !== null) return x === y ? 0 : x < y ? -1 : x > y ? 1 : null;
  if (fn === 'eq' || fn === 'ne') return null;
  throw new RenderFailure(`${fn}: cannot compare ${JSON.stringify(a)} with ${JSON.stringify(b)}`);
}

const truthy = (v: Val) => v !== null && v !== '' && v !== 0 && v !== false;

function toText(v: Val): string {
  if (v === null) return '';
  if (typeof v === 'number') return goValue(v);
  return String(v);
}

/** A humanize argument: a number or a numeric string (as Prometheus takes); '' and null are no value. */
function toNumber(fn: string, v: Val): number | null {
  if (v === null || v === '') return null;
  if (typeof v === 'number') return v;
  const x = typeof v === 'string' ? parseGoFloat(v) : null;
  if (x === null) throw new RenderFailure(`${fn}: ${JSON.stringify(v)} is not a number`);
  return x;
}

/** strconv.ParseFloat's decimal forms, plus Inf and NaN. */
function parseGoFloat(s: string): number | null {
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) return Number(s);
  if (/^[+-]?inf(?:inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return Number.NaN;
  return null;
}

/** Go's strings.Title: upper-cases the first letter after anything but a letter, digit or _. */
function title(s: string): string {
  let out = '';
  let prev = ' ';
  for (const ch of s) {
    const separator = prev <= '\x7f' ? !/[A-Za-z0-9_]/.test(prev) : !/[\p{L}\p{Nd}]/u.test(prev) && /\s/u.test(prev);
    out += separator ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function replaceAll(re: RegExp, repl: string, text: string): string {
  const groups = new RegExp(`${re.source}|`, re.flags).exec('')!.length - 1;
  let produced = 0;
  return cap(
    text.replace(re, (...args: unknown[]) => {
      // A replacement like $0$0$0... on many matches must not build a huge string before the cap.
      if (produced > MAX_OUTPUT_BYTES) return '';
      const match = args.slice(0, groups + 1).map((g) => (g === undefined ? '' : String(g)));
      const last = args.at(-1);
      const named = typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : undefined;
      const s = expandReplacement(repl, match, named);
      produced += s.length;
      return s;
    }),
  );
}

/** Every value is cut at the output cap, so no step can build something larger than the output. */
const cap = (s: string) => (s.length > MAX_OUTPUT_BYTES ? s.slice(0, MAX_OUTPUT_BYTES) : s);

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : c >= 0xdc00 && c <= 0xdfff ? 0 : 3;
  }
  return n;
}

/** The longest prefix of whole code points that fits in `max` UTF-8 bytes. */
function truncateUtf8(s: string, max: number): string {
  let n = 0;
  let end = 0;
  for (const ch of s) {
    n += utf8Length(ch);
    if (n > max) break;
    end += ch.length;
  }
  return s.slice(0, end);
}

// ---------------------------------------------------------------------------------------------
// Validation at save time

const ANNOTATION_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const MAX_ANNOTATIONS = 32;

/** A template that compiles; the issue's message is the TemplateError's (problem and column). */
export const TemplateText = z.string().superRefine((text, ctx) => {
  try {
    compileTemplate(text);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    ctx.addIssue({ code: 'custom', message: e.message });
  }
});
export type TemplateText = z.infer<typeof TemplateText>;

/** Annotation name -> template; a bad template is a 400 whose field is the annotation's name. */
export const TemplateMap = z
  .record(z.string().regex(ANNOTATION_NAME), TemplateText, {
    error: (issue) =>
      issue.code === 'invalid_key' ? 'annotation names are letters, digits and _, and do not start with a digit' : undefined,
  })
  .superRefine((map, ctx) => {
    const n = Object.keys(map).length;
    if (n > MAX_ANNOTATIONS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_ANNOTATIONS} annotations, got ${n}` });
  });
export type TemplateMap = z.infer<typeof TemplateMap>;
