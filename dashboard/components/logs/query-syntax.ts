/**
 * The logs page's search box: one line of text, as in Datadog or Grafana's Loki builder, turned into
 * the parameters of the logs API (GET /logs/search, /logs/histogram, /logs/tail share them).
 * Field filters are `key:value` tokens; everything else is the API's full-text query (`q`), passed
 * through untouched so its own syntax (phrases, -exclusions, OR, prefix*) and its errors (a 400 that
 * names the problem) are the API's.
 *
 *   level:error  level:warn,error  level:>=warn   levels (one or several), or that level and above
 *   service:web  service:web,billing              services
 *   trace:<32 hex>  span:<16 hex>                 one trace, one span
 *   @http.status_code:500  (or attr.key=value)    an attribute (or resource attribute) equals the value
 *   has:user_id                                   the attribute exists
 */

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type Level = (typeof LEVELS)[number];

/** Okabe-Ito colours per level (the chart's palette), from quiet to loud. */
export const LEVEL_COLORS: Record<Level, string> = {
  trace: '#56b4e9',
  debug: '#009e73',
  info: '#0072b2',
  warn: '#e69f00',
  error: '#d55e00',
  fatal: '#000000',
};

export interface LogFilter {
  q?: string;
  level?: string[];
  minLevel?: string;
  service?: string[];
  traceId?: string;
  spanId?: string;
  has?: string[];
  attributes: Array<{ key: string; value: string }>;
}

/** Splits on spaces outside double quotes; quotes stay in the token (the API reads them in `q`). */
function tokens(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && /\s/.test(ch)) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

const unquote = (v: string) => (v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v);
const list = (v: string) => unquote(v).split(',').map((s) => s.trim()).filter(Boolean);

/** The search box's text as a filter. Unknown `key:` prefixes stay in the text (`Bar.java:42`, URLs). */
export function parseSearch(text: string): LogFilter {
  const f: LogFilter = { attributes: [] };
  const rest: string[] = [];
  for (const t of tokens(text)) {
    const attr = /^(?:@|attr\.)([^:=\s"]+)[:=](.+)$/.exec(t);
    if (attr) {
      f.attributes.push({ key: attr[1]!, value: unquote(attr[2]!) });
      continue;
    }
    const m = /^([a-zA-Z]+):(.+)$/.exec(t);
    const key = m?.[1]?.toLowerCase();
    const value = m?.[2] ?? '';
    if (key === 'level' || key === 'status' || key === 'minlevel') {
      const min = key === 'minlevel' ? value : /^>=?(.+)$/.exec(value)?.[1];
      if (min) f.minLevel = unquote(min).toLowerCase();
      else f.level = [...(f.level ?? []), ...list(value).map((l) => l.toLowerCase())];
    } else if (key === 'service') f.service = [...(f.service ?? []), ...list(value)];
    else if (key === 'trace' || key === 'traceid') f.traceId = unquote(value);
    else if (key === 'span' || key === 'spanid') f.spanId = unquote(value);
    else if (key === 'has') f.has = [...(f.has ?? []), ...list(value)];
    else rest.push(t);
  }
  const q = rest.join(' ').trim();
  if (q) f.q = q;
  return f;
}

/** The filter as query parameters of the logs API (lists comma-separated, attributes as `attr.<key>`). */
export function filterParams(f: LogFilter): Record<string, string> {
  const p: Record<string, string> = {};
  if (f.q) p.q = f.q;
  if (f.level?.length) p.level = f.level.join(',');
  if (f.minLevel) p.minLevel = f.minLevel;
  if (f.service?.length) p.service = f.service.join(',');
  if (f.traceId) p.traceId = f.traceId;
  if (f.spanId) p.spanId = f.spanId;
  if (f.has?.length) p.has = f.has.join(',');
  for (const a of f.attributes) p[`attr.${a.key}`] = a.value;
  return p;
}

/** A value as the search box writes it (quoted when it has spaces or quotes). */
export function searchValue(v: string): string {
  return /[\s"]/.test(v) ? `"${v.replaceAll('"', '')}"` : v;
}

/** Adds `token` to the search text unless it is there already (clicking a service or an attribute). */
export function addToSearch(text: string, token: string): string {
  return tokens(text).includes(token) ? text : `${text.trim()} ${token}`.trim();
}

export const SYNTAX_HELP: Array<[string, string]> = [
  ['timeout', 'the word, anywhere in the message (case-insensitive)'],
  ['"payment declined"', 'the exact phrase'],
  ['-health  -"GET /ping"', 'lines without the word or phrase'],
  ['timeout OR refused', 'either word (OR binds tighter than the space)'],
  ['conn*', 'words starting with conn'],
  ['level:error  level:warn,error  level:>=warn', 'one or several levels, or that level and above'],
  ['service:checkout  service:web,db', 'one or several services'],
  ['@http.status_code:500  @user.id:"a b"', 'an attribute (or resource attribute) equals the value'],
  ['has:user_id', 'the attribute exists'],
  ['trace:<32 hex>  span:<16 hex>', 'the lines of one trace or one span'],
];
