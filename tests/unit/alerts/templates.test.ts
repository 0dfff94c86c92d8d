/**
 * Annotation templates (src/alerts/templates.ts), table-driven: templates and what they render for
 * one alert, Prometheus' own expected outputs for the humanize functions (prometheus/prometheus
 * template/template_test.go and prometheus/common helpers/templates), compile errors with their
 * messages, and the zod schemas that turn those into 400s naming the annotation.
 */
import { describe, expect, it } from 'vitest';
import {
  compileTemplate,
  humanize,
  MAX_OUTPUT_BYTES,
  MAX_TEMPLATE_LENGTH,
  renderTemplate,
  type TemplateData,
  TemplateError,
  TemplateMap,
  TemplateText,
} from '../../../src/alerts/templates.ts';

const DATA: TemplateData = {
  labels: { instance: 'db-1:9100', env: 'prod', code: '500', 'with-dash': 'dashed', empty: '' },
  value: 93.14159,
  severity: 'critical',
  rule: 'HighCPU',
};

const render = (text: string, data: Partial<TemplateData> = {}) => renderTemplate(compileTemplate(text), { ...DATA, ...data });
const compileError = (text: string): Error | null => {
  try {
    compileTemplate(text);
    return null;
  } catch (e) {
    return e as Error;
  }
};
const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

describe('renderTemplate', () => {
  it.each<[string, string, Partial<TemplateData>, string]>([
    // Text without actions is copied as is (Prometheus' first case), braces alone included.
    ['plain text', 'plain text } {', {}, 'plain text } {'],
    ['a number literal', '{{ 1 }}', {}, '1'],
    // The ways to reach a label: Go's field syntax, our bracket form for names that are not
    // identifiers, index, and Prometheus' .Labels.
    ['$labels.name', 'on {{ $labels.instance }}', {}, 'on db-1:9100'],
    ['$labels["with-dash"]', '{{ $labels["with-dash"] }}', {}, 'dashed'],
    ['index $labels "name"', '{{ index $labels "env" }}', {}, 'prod'],
    ['index with a piped name', '{{ "env" | index $labels }}', {}, 'prod'],
    ['.Labels and .Value as in Prometheus rules', '{{ .Labels.env }} {{ .Value }}', {}, 'prod 93.14159'],
    // A missing label is empty, never "<no value>"; nor does the object's prototype leak through.
    ['a missing label renders empty', '[{{ $labels.nope }}]', {}, '[]'],
    ['prototype names are not labels', '[{{ $labels.constructor }}{{ index $labels "__proto__" }}]', {}, '[]'],
    ['$severity and $rule', '{{ $rule }} is {{ $severity }}', {}, 'HighCPU is critical'],
    // $value prints as Go prints a float64 (%v), as in Prometheus: e-notation from 10^6.
    ['$value small', '{{ $value }}', { value: 0.5 }, '0.5'],
    ['$value large, Go style', '{{ $value }}', { value: 1234567 }, '1.234567e+06'],
    ['$value 100000 stays plain', '{{ $value }}', { value: 100000 }, '100000'],
    ['$value tiny, Go style', '{{ $value }}', { value: 0.00001 }, '1e-05'],
    // No value (no data) is empty everywhere, also through humanize and printf.
    ['null value renders empty', '[{{ $value }}|{{ $value | humanize }}|{{ printf "%.1f" $value }}]', { value: null }, '[||]'],
    // Pipelines: the piped value is the last argument.
    ['humanize in a pipeline', 'CPU {{ $value | humanize }}%', {}, 'CPU 93.14%'],
    ['a chain of functions', '{{ $labels.instance | reReplaceAll ":.*" "" | toUpper }}', {}, 'DB-1'],
    ['a parenthesised argument', '{{ printf "%s!" (humanize 1234) }}', {}, '1.234k!'],
    // printf: Go's verbs, flags, width and precision.
    ['printf %.2f %d %s %v', '{{ printf "%.2f|%d|%s|%v" $value 42 $rule true }}', {}, '93.14|42|HighCPU|true'],
    ['printf width, left-align and zero padding', '{{ printf "[%5d][%-4s][%05.1f][%+d]" 42 "ab" 3.14159 7 }}', {}, '[   42][ab  ][003.1][+7]'],
    ['printf %d truncates a float, %f defaults to 6 places', '{{ printf "%d %f" $value 1.5 }}', {}, '93 1.500000'],
    ['printf %g and %%', '{{ printf "%.3g%% %g" 0.12345 1234567.0 }}', {}, '0.123% 1.234567e+06'],
    ['printf %.3s cuts a string', '{{ printf "%.3s" "abcdef" }}', {}, 'abc'],
    ['printf shows what a verb cannot print, as Go does', '{{ printf "%d" "abc" }}', {}, '%!d(string=abc)'],
    ['printf %f of a numeric label', '{{ printf "%.1f" $labels.code }}', {}, '500.0'],
    // String functions.
    ['toUpper, toLower', '{{ toUpper "aa bb CC" }} {{ "aA bB CC" | toLower }}', {}, 'AA BB CC aa bb cc'],
    ['title is Go strings.Title', '{{ "aa bb CC" | title }}|{{ title "foo_bar x-y" }}', {}, 'Aa Bb CC|Foo_bar X-Y'],
    ['trim', '[{{ "  x y \\n" | trim }}]', {}, '[x y]'],
    ['default replaces only empty', '{{ $labels.nope | default "n/a" }} {{ $labels.empty | default "-" }} {{ $labels.env | default "x" }}', {}, 'n/a - prod'],
    ['default keeps a zero value', '{{ $value | default "none" }}', { value: 0 }, '0'],
    // reReplaceAll: Go's replacement syntax ($1, ${1}, named groups), and its $1x gotcha.
    ['reReplaceAll (Prometheus example)', '{{ reReplaceAll "(a)b" "x$1" "ab" }}', {}, 'xa'],
    ['reReplaceAll with named groups and ${n}', '{{ reReplaceAll `(?P<host>[^:]+):(\\d+)` "${host} port ${2}" $labels.instance }}', {}, 'db-1 port 9100'],
    ['reReplaceAll: $1x names a group "1x", which is empty', '{{ reReplaceAll "(a)" "$1x|${1}x|$$" "a" }}', {}, '|ax|$'],
    ['reReplaceAll with a case-insensitive flag', '{{ reReplaceAll "(?i)DB" "host" $labels.instance }}', {}, 'host-1:9100'],
    ['match', '{{ match "^db-" $labels.instance }} {{ match "^web" $labels.instance }}', {}, 'true false'],
    // Safe shapes stay allowed: an optional group holding a repetition, (?: groups, classes.
    ['optional and non-capturing groups are fine', '{{ reReplaceAll `^(?:[a-z]+)-(\\d+)(:\\d+)?$` "#$1" $labels.instance }}', {}, '#1'],
    // Conditions: truthiness and Go's comparison functions.
    ['if on $value', '{{ if $value }}has value{{ else }}no data{{ end }}', { value: null }, 'no data'],
    ['if / else if / else', '{{ if gt $value 95 }}page{{ else if ge $value 90 }}warn{{ else }}ok{{ end }}', {}, 'warn'],
    ['eq against several values', '{{ if eq $labels.env "staging" "prod" }}yes{{ end }}', {}, 'yes'],
    ['ne, lt, le', '{{ ne $rule "x" }} {{ lt 1 2 }} {{ le 2 2 }}', {}, 'true true true'],
    ['a numeric label compares as a number', '{{ eq $labels.code 500 }} {{ gt $labels.code 99 }}', {}, 'true true'],
    ['strings compare as strings', '{{ lt "abc" "abd" }}', {}, 'true'],
    ['no value compares false (ne true)', '{{ gt $value 1 }} {{ lt $value 1 }} {{ eq $value 1 }} {{ ne $value 1 }}', { value: null }, 'false false false true'],
    ['and, or, not', '{{ and (eq $labels.env "prod") (gt $value 90) }} {{ or $labels.nope "fallback" }} {{ not $value }}', {}, 'true fallback false'],
    // White space control and comments.
    ['trim markers', 'a  {{- " b " -}}  c', {}, 'a b c'],
    ['trim markers across new lines', 'x\n  {{- if true -}}\n  y\n{{- end }}', {}, 'xy'],
    ['{{-3}} is the number -3, not a trim marker', '{{-3}}', {}, '-3'],
    ['comments render nothing', 'a{{/* note */}}b {{- /* trimmed */ -}} c', {}, 'abc'],
    ['raw strings keep backslashes', '{{ `C:\\dir` }}', {}, 'C:\\dir'],
    ['escapes in quoted strings', '{{ "tab\\tquote\\"\\u00e9" }}', {}, 'tab\tquote"é'],
    // A data error (a label that is not a number) renders as Prometheus renders expansion errors.
    ['a data error renders the error', 'x {{ $labels.env | humanize }}', {}, '<error expanding template: humanize: "prod" is not a number>'],
  ])('%s', (_, text, data, expected) => {
    expect(render(text, data)).toBe(expected);
  });

  it.each<[string, number, string]>([
    // Prometheus' expected outputs (template_test.go), as $value and through the function.
    ['humanize', 0, '0'],
    ['humanize', 1, '1'],
    ['humanize', 1234567, '1.235M'],
    ['humanize', 0.12, '120m'],
    ['humanize', -1, '-1'],
    ['humanize', -1234567, '-1.235M'],
    ['humanize', 9223372036854775807, '9.223E'],
    ['humanize', 18446744073709551615, '18.45E'],
    ['humanize', 1234, '1.234k'],
    ['humanize', 0.001, '1m'],
    ['humanize', Infinity, '+Inf'],
    ['humanize', -Infinity, '-Inf'],
    ['humanize', NaN, 'NaN'],
    ['humanize1024', 0, '0'],
    ['humanize1024', 1, '1'],
    ['humanize1024', 1048576, '1Mi'],
    ['humanize1024', 0.12, '0.12'],
    ['humanize1024', 1234567, '1.177Mi'],
    ['humanize1024', 9223372036854775807, '8Ei'],
    ['humanize1024', 18446744073709551615, '16Ei'],
    ['humanize1024', 1536, '1.5ki'],
    ['humanize1024', Infinity, '+Inf'],
    ['humanizeDuration', 0, '0s'],
    ['humanizeDuration', 1, '1s'],
    ['humanizeDuration', 60, '1m 0s'],
    ['humanizeDuration', 3600, '1h 0m 0s'],
    ['humanizeDuration', 3723, '1h 2m 3s'],
    ['humanizeDuration', 86400, '1d 0h 0m 0s'],
    ['humanizeDuration', 86400 + 3600, '1d 1h 0m 0s'],
    ['humanizeDuration', -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), '-2d 3h 4m 5s'],
    ['humanizeDuration', 899.99, '14m 59s'],
    ['humanizeDuration', 0.1, '100ms'],
    ['humanizeDuration', 0.0001, '100us'],
    ['humanizeDuration', 0.12345, '123.5ms'],
    ['humanizeDuration', 60.1, '1m 0s'],
    ['humanizeDuration', 60.5, '1m 0s'],
    ['humanizeDuration', 1.2345, '1.234s'],
    ['humanizeDuration', 12.345, '12.35s'],
    ['humanizeDuration', -1, '-1s'],
    ['humanizeDuration', 1234567, '14d 6h 56m 7s'],
    ['humanizeDuration', NaN, 'NaN'],
    ['humanizePercentage', -0.22222, '-22.22%'],
    ['humanizePercentage', 0, '0%'],
    ['humanizePercentage', 0.1234567, '12.35%'],
    ['humanizePercentage', 0.1234, '12.34%'],
    ['humanizePercentage', 1.23456, '123.5%'],
    ['humanizePercentage', 1234567, '1.235e+08%'],
    ['humanizePercentage', 9223372036854775807, '9.223e+20%'],
  ])('%s(%s) = %s', (fn, value, expected) => {
    expect(render(`{{ ${fn} $value }}`, { value })).toBe(expected);
  });

  it('takes numeric strings as Prometheus does', () => {
    expect(render('{{ humanize "1234567.0" }}:{{ humanize ".12" }}:{{ humanizeDuration "86400" }}:{{ "0.1234567" | humanizePercentage }}:{{ humanize "+Inf" }}')).toBe(
      '1.235M:120m:1d 0h 0m 0s:12.35%:+Inf',
    );
    expect(humanize(1234)).toBe('1.234k');
  });

  it('caps the output at 16 KiB of UTF-8, on a character boundary, marking the cut', () => {
    const ascii = render('{{ $labels.big }}{{ $labels.big }}', { labels: { big: 'x'.repeat(20_000) } });
    expect(utf8Bytes(ascii)).toBe(MAX_OUTPUT_BYTES);
    expect(ascii.endsWith('x…')).toBe(true);
    const wide = render('{{ $labels.big }}', { labels: { big: '€'.repeat(10_000) } });
    expect(utf8Bytes(wide)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    expect(wide).toMatch(/^€+…$/);
    // A replacement that multiplies its input stops growing at the cap too.
    const many = render('{{ reReplaceAll "" "$0$0$0$0$0$0$0$0" $labels.big }}', { labels: { big: 'y'.repeat(10_000) } });
    expect(utf8Bytes(many)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    // Exactly at the cap is not cut.
    expect(render('{{ $labels.big }}', { labels: { big: 'z'.repeat(MAX_OUTPUT_BYTES) } })).toBe('z'.repeat(MAX_OUTPUT_BYTES));
  });

  it('renders a compiled template any number of times with the same result', () => {
    const t = compileTemplate('{{ reReplaceAll "[0-9]" "#" $labels.instance }} {{ match "db" $labels.instance }}');
    const first = renderTemplate(t, DATA);
    expect(first).toBe('db-#:#### true');
    expect(renderTemplate(t, DATA)).toBe(first);
    expect(renderTemplate(t, { ...DATA, labels: { instance: 'web-2' } })).toBe('web-# false');
  });
});

describe('compileTemplate', () => {
  it.each<[string, string]>([
    // Each message names the problem and where it is (column on line 1, else line and column).
    ['{{ $value | humanise }}', 'unknown function "humanise" (did you mean "humanize"?) at column 13'],
    ['Value: {{ humanise $value }}', 'unknown function "humanise" (did you mean "humanize"?) at column 11'],
    ['{{ frobnicate 1 }}', 'unknown function "frobnicate" at column 4'],
    ['{{ $lables.instance }}', 'unknown variable $lables (did you mean $labels?) at column 4'],
    ['{{ $externalLabels.x }}', 'unknown variable $externalLabels at column 4'],
    ['{{ $value ', 'unclosed action at column 1'],
    ['ok {{ "a" }} then {{', 'unclosed action at column 19'],
    ['line one\n  {{ nope }}', 'unknown function "nope" at line 2, column 6'],
    ['{{ }}', 'empty action at column 1'],
    ['{{ $value | }}', 'missing function after "|" at column 11'],
    ['{{ | humanize }}', 'unexpected "|" at column 4'],
    ['{{ humanize }}', 'humanize expects 1 argument, got 0 at column 4'],
    ['{{ $value | humanize 1 }}', 'humanize expects 1 argument, got 2 (counting the piped value) at column 13'],
    ['{{ reReplaceAll "a" "b" }}', 'reReplaceAll expects 3 arguments, got 2 at column 4'],
    ['{{ $value 3 }}', 'unexpected "3" after "$value": only functions take arguments at column 11'],
    ['{{ $value | "x" }}', 'cannot pipe into "x": only functions take a piped value at column 13'],
    ['{{ printf "%s %s" $value }}', 'printf format "%s %s" needs 2 arguments, got 1 at column 4'],
    ['{{ printf "%x" 1 }}', 'printf: unsupported verb %x (use %s, %d, %f, %g or %v) at column 11'],
    ['{{ printf "%999s" 1 }}', 'printf: width and precision are at most 64 at column 11'],
    ['{{ printf $rule 1 }}', 'printf needs a quoted format as its first argument at column 11'],
    ['{{ reReplaceAll $rule "" "x" }}', 'reReplaceAll needs a quoted regular expression as its first argument at column 17'],
    ['{{ reReplaceAll "[" "" $rule }}', 'invalid regular expression: Unterminated character class at column 17'],
    ['{{ reReplaceAll "(a+)+$" "" $rule }}', 'a repeated group in a regular expression cannot hold a repetition or "|" (it can take exponential time) at column 17'],
    ['{{ match "(a|aa)*b" $rule }}', 'a repeated group in a regular expression cannot hold a repetition or "|" (it can take exponential time) at column 10'],
    ['{{ match "(a?)+" $rule }}', 'a repeated group in a regular expression cannot hold a repetition or "|" (it can take exponential time) at column 10'],
    ['{{ match "((a|b))*" $rule }}', 'a repeated group in a regular expression cannot hold a repetition or "|" (it can take exponential time) at column 10'],
    ['{{ match "(?=a)" $rule }}', 'lookahead and lookbehind are not supported in regular expressions at column 10'],
    ['{{ match `(a)\\1` $rule }}', 'backreferences are not supported in regular expressions at column 10'],
    ['{{ "\\d+" }}', 'unknown escape "\\d" in string (write "\\\\d" or use a `raw string`) at column 5'],
    ['{{ "abc }}', 'unterminated quoted string at column 4'],
    ['{{ `abc }}', 'unterminated raw string at column 4'],
    ['{{ 12ab }}', 'bad number syntax "12ab" at column 4'],
    ['{{ $labels }}', '$labels is a map: use $labels.name, $labels["name"] or index $labels "name" at column 4'],
    ['{{ toUpper $labels }}', '$labels is a map: use $labels.name, $labels["name"] or index $labels "name" at column 12'],
    ['{{ index $rule "x" }}', 'index works on $labels only: index $labels "name" at column 10'],
    ['{{ $labels[env] }}', '$labels[...] needs a quoted label name at column 12'],
    ['{{ $value.x }}', '$value has no field .x at column 10'],
    ['{{ .Foo }}', 'unknown field .Foo: use $labels, $value, $severity or $rule at column 4'],
    ['{{ . }}', '"." is not supported: use $labels, $value, $severity or $rule at column 4'],
    ['{{ $x := 1 }}', 'assigning variables is not supported at column 7'],
    ['{{ (humanize $value }}', 'unclosed "(": missing ")" at column 4'],
    ['{{ humanize $value) }}', 'unexpected ")" at column 19'],
    ['{{ printf "%s" humanize }}', 'humanize needs parentheses to be an argument: (humanize ...) at column 16'],
    ['{{ range $labels }}{{ end }}', '"range" is not supported at column 4'],
    ['{{ template "x" }}', '"template" is not supported at column 4'],
    ['{{ if $value }}x', 'unclosed {{if}}: missing {{end}} at column 1'],
    ['{{ if }}x{{ end }}', 'missing condition after if at column 4'],
    ['{{ end }}', 'unexpected {{end}} outside {{if}} at column 1'],
    ['{{ else }}', 'unexpected {{else}} outside {{if}} at column 1'],
    ['{{ if 1 }}{{ else }}{{ else }}{{ end }}', 'unexpected {{else}} after {{else}} at column 21'],
    ['{{ if 1 }}{{ end 2 }}', 'unexpected "2" after end at column 18'],
    ['{{/* never closed', 'unclosed comment at column 1'],
    ['{{ "\u00a0" }}{{\u00a0}}', 'unexpected character U+00A0 at column 12'],
    ['a\u0000b', 'NUL character at column 2'],
  ])('%j', (text, message) => {
    const error = compileError(text);
    expect(error).toBeInstanceOf(TemplateError);
    expect(error?.message).toBe(message);
  });

  it('refuses a template longer than 4096 characters, and takes one of exactly 4096', () => {
    expect(() => compileTemplate('x'.repeat(MAX_TEMPLATE_LENGTH + 1))).toThrow('template is too long: 4097 characters, at most 4096');
    expect(compileTemplate('x'.repeat(MAX_TEMPLATE_LENGTH)).source).toHaveLength(MAX_TEMPLATE_LENGTH);
  });

  it('gives the position as numbers too', () => {
    expect(compileError('ok\n{{ bad }}')).toMatchObject({ name: 'TemplateError', problem: 'unknown function "bad"', line: 2, column: 4 });
  });
});

describe('TemplateText and TemplateMap', () => {
  it('TemplateText accepts a template that compiles and names the problem of one that does not', () => {
    expect(TemplateText.parse('{{ $value | humanize }}')).toBe('{{ $value | humanize }}');
    const r = TemplateText.safeParse('{{ $value | humanise }}');
    expect(r.success).toBe(false);
    expect(r.error?.issues).toMatchObject([{ path: [], message: 'unknown function "humanise" (did you mean "humanize"?) at column 13' }]);
    expect(TemplateText.safeParse(42).success).toBe(false);
  });

  it('TemplateMap reports a bad template under its annotation name', () => {
    const r = TemplateMap.safeParse({ summary: '{{ $labels.instance }} is down', description: '{{ if $value }}x' });
    expect(r.success).toBe(false);
    expect(r.error?.issues).toMatchObject([{ path: ['description'], message: 'unclosed {{if}}: missing {{end}} at column 1' }]);
  });

  it.each<[string, unknown, string]>([
    // Annotation names follow label names, so they can be used as keys everywhere labels are.
    ['a name that is not a label name', { 'run-book': 'x' }, 'annotation names are letters, digits and _, and do not start with a digit'],
    ['a name starting with a digit', { '1st': 'x' }, 'annotation names are letters, digits and _, and do not start with a digit'],
    ['more than 32 annotations', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, 'x'])), 'at most 32 annotations, got 33'],
  ])('TemplateMap refuses %s', (_, input, message) => {
    const r = TemplateMap.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual([message]);
  });

  it('TemplateMap accepts up to 32 annotations', () => {
    const ok = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`a_${i}`, `{{ $labels.x${i} }}`]));
    expect(TemplateMap.parse(ok)).toEqual(ok);
  });
});
