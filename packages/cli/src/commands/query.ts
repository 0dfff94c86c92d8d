/** Reading a project's data: logs search, metrics query (table, JSON or sparklines), traces get. */
import type { Command } from '../command.ts';
import { usage } from '../errors.ts';
import { labels, listing, num, type Output, table } from '../output.ts';
import { checkProjectId } from './auth.ts';
import { FILTER_FLAGS, filterQuery, formatLog, type LogView } from './tail.ts';

const logsSearch: Command = {
  path: ['logs', 'search'],
  summary: 'search a project\'s logs (full text and filters), newest first',
  description: [
    'GET /logs/search. The query is full text in web-search syntax: words (exact, case-insensitive),',
    '"exact phrases", -excluded, a OR b, prefix*; several arguments are joined with spaces. One page of',
    'at most --limit lines; the next page with --cursor <nextCursor> (printed on stderr, or in --json).',
  ].join('\n'),
  args: [{ name: 'query', variadic: true }],
  flags: {
    from: { type: 'string', value: 'time', description: 'from (inclusive): ISO 8601, or an age: 15m, 2h, 7d (default 24h ago)' },
    to: { type: 'string', value: 'time', description: 'to (exclusive): ISO 8601, an age, or now (default now)' },
    limit: { type: 'string', value: 'n', description: 'lines, 1-1000 (default 100)' },
    order: { type: 'string', value: 'order', choices: ['desc', 'asc'], description: 'newest first (default) or oldest first' },
    cursor: { type: 'string', value: 'cursor', description: 'the next page: the nextCursor of the previous one (same filter)' },
    ...FILTER_FLAGS,
  },
  examples: [
    'observai logs search \'"payment declined"\' --min-level warn --from 1h',
    'observai logs search timeout OR refused --service checkout --limit 20',
    'observai logs search --attr http.status_code=500 --from 2026-03-09T00:00:00Z --to 2026-03-10T00:00:00Z --json',
  ],
  async run(ctx) {
    const f = ctx.flags;
    const q = ctx.args.join(' ').trim();
    const api = ctx.api({ usesProject: true });
    const answer = await api.get<{ logs: LogView[]; nextCursor: string | null; from: string; to: string }>('/logs/search', {
      ...filterQuery(ctx),
      q: q || undefined,
      from: f.time('from'),
      to: f.time('to'),
      limit: f.int('limit', { min: 1, max: 1000 }),
      order: f.str('order'),
      cursor: f.str('cursor'),
    });
    if (ctx.json) return void ctx.out.json(answer);
    for (const log of answer.logs) ctx.out.line(formatLog(ctx.out, log));
    if (answer.logs.length === 0) ctx.out.note(`no logs from ${answer.from} to ${answer.to}`);
    if (answer.nextCursor) ctx.out.note(`more: --cursor ${answer.nextCursor}`);
  },
};

const AGGREGATIONS = ['avg', 'sum', 'min', 'max', 'count', 'p50', 'p90', 'p95', 'p99', 'rate'] as const;

interface Series {
  tags: Record<string, string>;
  points: Array<[number, number | null]>;
}
interface QueryResult {
  id: string;
  resolution: string;
  step: number;
  series: Series[];
  truncated: boolean;
}

const BARS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled between the series' min and max; a gap is a space. */
export function sparkline(values: Array<number | null>, width: number): string {
  // Wider than the terminal: average neighbouring points into `width` buckets.
  let v = values;
  if (values.length > width && width > 0) {
    v = Array.from({ length: width }, (_, i) => {
      const part = values.slice(Math.floor((i * values.length) / width), Math.floor(((i + 1) * values.length) / width)).filter((x): x is number => x !== null);
      return part.length ? part.reduce((a, b) => a + b, 0) / part.length : null;
    });
  }
  const present = v.filter((x): x is number => x !== null);
  if (present.length === 0) return ' '.repeat(v.length);
  const min = Math.min(...present);
  const max = Math.max(...present);
  return v.map((x) => (x === null ? ' ' : BARS[max === min ? 3 : Math.round(((x - min) / (max - min)) * (BARS.length - 1))]!)).join('');
}

function printSpark(out: Output, metric: string, r: QueryResult, columns: number): void {
  const names = r.series.map((s) => labels(s.tags) || metric);
  const nameWidth = Math.min(40, Math.max(...names.map((n) => n.length), 0));
  const rows = r.series.map((s, i) => {
    const values = s.points.map((p) => p[1]);
    const present = values.filter((x): x is number => x !== null);
    const stats = present.length ? `min ${num(Math.min(...present))}  max ${num(Math.max(...present))}  last ${num(present[present.length - 1])}` : 'no data';
    const width = Math.max(10, columns - nameWidth - stats.length - 6);
    return `${names[i]!.slice(0, 40).padEnd(nameWidth)}  ${out.c.cyan(sparkline(values, width))}  ${out.c.gray(stats)}`;
  });
  out.line(rows.join('\n'));
}

function printTable(out: Output, metric: string, r: QueryResult): void {
  const names = r.series.map((s) => labels(s.tags) || metric);
  const times = [...new Set(r.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const byTime = r.series.map((s) => new Map(s.points.map((p) => [p[0], p[1]])));
  const rows = times.map((t) => [new Date(t).toISOString(), ...byTime.map((m) => num(m.get(t) ?? null))]);
  out.line(table(rows, ['time', ...names]));
}

const metricsQuery: Command = {
  path: ['metrics', 'query'],
  summary: 'query a metric over time: a table, JSON, or a sparkline per series',
  description: [
    'POST /metrics/query with one query. Points come from the rollups (1m, 5m, 1h, 1d), aligned to the',
    'step; a step without data is empty. Without --step the server picks the smallest that keeps at',
    'most 1,000 points. --group-by gives one series per combination of the tags named.',
  ].join('\n'),
  args: [{ name: 'metric', required: true }],
  flags: {
    agg: { type: 'string', value: 'aggregation', choices: AGGREGATIONS, description: 'default: the metric\'s own (avg unless changed)' },
    step: { type: 'string', value: 'duration', description: 'bucket width, whole minutes: 1m, 5m, 1h (default: chosen by the server)' },
    from: { type: 'string', value: 'time', description: 'ISO 8601 or an age: 15m, 2h, 7d (default 1h ago)' },
    to: { type: 'string', value: 'time', description: 'ISO 8601, an age, or now (default now)' },
    'group-by': { type: 'string', multiple: true, value: 'tag', description: 'tag keys, one series per combination (repeatable, or comma-separated)' },
    filter: { type: 'string', multiple: true, value: 'key=value', description: 'only series whose tag equals (key=value) or differs (key!=value); repeatable' },
    format: { type: 'string', value: 'format', choices: ['table', 'json', 'spark'], description: 'default table (json with --json)' },
  },
  examples: [
    'observai metrics query cpu.usage --from 6h --step 5m --format spark --group-by host',
    'observai metrics query http.server.duration --agg p95 --filter route=/cart --from 1d --step 1h',
    'observai metrics query http.server.requests --agg rate --json | jq \'.results[0].series[0].points\'',
  ],
  async run(ctx) {
    const f = ctx.flags;
    const metric = ctx.args[0]!;
    const format = ctx.json ? 'json' : (f.choice('format', ['table', 'json', 'spark'] as const) ?? 'table');
    const stepMs = f.duration('step');
    if (stepMs !== undefined && (stepMs < 60_000 || stepMs % 60_000 !== 0)) throw usage(`--step must be whole minutes, at least 1m (got "${f.str('step')}")`);
    const filters = f.list('filter').map((text) => {
      const m = /^([^=!]+)(!?=)(.*)$/.exec(text);
      if (!m) throw usage(`--filter takes key=value or key!=value (got "${text}")`);
      return { key: m[1]!, op: m[2] as '=' | '!=', value: m[3]! };
    });
    const now = ctx.io.now();
    const query = {
      id: 'q',
      metric,
      aggregation: f.choice('agg', AGGREGATIONS),
      groupBy: f.list('group-by', true),
      filters,
      from: f.time('from') ?? new Date(now - 3_600_000).toISOString(),
      to: f.time('to') ?? new Date(now).toISOString(),
      ...(stepMs !== undefined ? { step: stepMs / 1000 } : {}),
    };
    const api = ctx.api({ usesProject: true });
    const answer = await api.post<{ results: QueryResult[] }>('/metrics/query', { projectId: checkProjectId(ctx.project()), queries: [query] });
    if (format === 'json') return void ctx.out.json(answer);
    const r = answer.results[0]!;
    if (r.series.length === 0) {
      ctx.out.note(`no series of ${metric} from ${query.from} to ${query.to}`);
      return;
    }
    if (format === 'spark') printSpark(ctx.out, metric, r, ctx.io.stdout.columns ?? 100);
    else printTable(ctx.out, metric, r);
    ctx.out.note(`step ${r.step} s from the ${r.resolution} rollup${r.truncated ? '; more series exist than shown (truncated)' : ''}`);
  },
};

const metricsList: Command = {
  path: ['metrics', 'list'],
  summary: 'the project\'s metric names, with their types, units and series',
  description: 'GET /metrics/names.',
  flags: {
    prefix: { type: 'string', value: 'text', description: 'names starting with this' },
    limit: { type: 'string', value: 'n', description: '1-1000 (default 200)' },
  },
  examples: ['observai metrics list', 'observai metrics list --prefix http. --json'],
  async run(ctx) {
    const api = ctx.api({ usesProject: true });
    const answer = await api.get<{ metrics: Array<{ name: string; types: string[]; unit: string | null; series: number; lastSeenAt: string | null }> }>('/metrics/names', {
      projectId: checkProjectId(ctx.project()),
      prefix: ctx.flags.str('prefix'),
      limit: ctx.flags.int('limit', { min: 1, max: 1000 }),
    });
    if (ctx.json) return void ctx.out.json(answer);
    listing(ctx.out, answer.metrics.map((m) => [m.name, m.types.join(','), m.unit ?? '', String(m.series), m.lastSeenAt ?? '']), ['name', 'type', 'unit', 'series', 'last seen'], 'no metrics');
  },
};

interface SpanNode {
  spanId: string;
  name: string;
  service: string;
  durationMs: number;
  offsetMs: number;
  status: string;
  orphan: boolean;
  children: SpanNode[];
}
interface TraceAnswer {
  trace: { traceId: string; start: string; durationMs: number; spanCount: number; errorCount: number; logCount: number; services: Array<{ service: string }>; truncated: boolean };
  spans: SpanNode[];
}

/** The span tree with a waterfall bar: where each span starts and how long it lasts within the trace. */
function printTrace(out: Output, t: TraceAnswer, columns: number): void {
  const s = t.trace;
  out.line(
    `${out.c.bold(`trace ${s.traceId}`)}  ${num(s.durationMs)} ms  ${s.spanCount} spans  ${s.errorCount ? out.c.red(`${s.errorCount} errors`) : '0 errors'}  ${s.logCount} logs  started ${s.start}`,
  );
  out.line(out.c.gray(`services: ${s.services.map((x) => x.service).join(', ')}`));
  const rows: string[][] = [];
  const barWidth = Math.max(10, Math.min(40, columns - 80));
  const total = s.durationMs > 0 ? s.durationMs : 1;
  const walk = (node: SpanNode, prefix: string, last: boolean, root: boolean) => {
    const branch = root ? '' : last ? '└─ ' : '├─ ';
    const from = Math.min(barWidth - 1, Math.floor((node.offsetMs / total) * barWidth));
    const len = Math.max(1, Math.round((node.durationMs / total) * barWidth));
    const bar = ' '.repeat(from) + '█'.repeat(Math.min(len, barWidth - from)) + ' '.repeat(Math.max(0, barWidth - from - len));
    const error = node.status === 'error';
    rows.push([
      `${prefix}${branch}${error ? out.c.red(node.name) : node.name}${node.orphan ? out.c.gray(' (orphan)') : ''}`,
      out.c.cyan(node.service),
      `${num(node.durationMs)} ms`,
      out.c.gray(`+${num(node.offsetMs)} ms`),
      error ? out.c.red(bar) : out.c.green(bar),
    ]);
    const childPrefix = root ? prefix : prefix + (last ? '   ' : '│  ');
    node.children.forEach((c, i) => walk(c, childPrefix, i === node.children.length - 1, false));
  };
  for (const rootSpan of t.spans) walk(rootSpan, '', true, true);
  out.line(table(rows));
  if (s.truncated) out.note('the trace has more spans than shown (the earliest 10,000 are)');
}

const tracesGet: Command = {
  path: ['traces', 'get'],
  summary: 'a trace as its span tree, with a waterfall',
  description: 'GET /logs/traces/:traceId (32 hex characters). A trace nobody sent, or one you may not see, is a 404 (exit 4).',
  args: [{ name: 'traceId', required: true }],
  flags: {
    from: { type: 'string', value: 'time', description: 'a hint: only spans starting from then (faster)' },
    to: { type: 'string', value: 'time', description: 'a hint: only spans starting until then' },
  },
  examples: ['observai traces get 4bf92f3577b34da6a3ce929d0e0e4736', 'observai traces get 4bf92f3577b34da6a3ce929d0e0e4736 --json | jq .trace.durationMs'],
  async run(ctx) {
    const id = ctx.args[0]!;
    if (!/^[0-9a-fA-F]{32}$/.test(id)) throw usage(`<traceId> must be 32 hexadecimal characters (got "${id}")`);
    const api = ctx.api();
    const answer = await api.get<TraceAnswer>(`/logs/traces/${id.toLowerCase()}`, {
      projectId: checkProjectId(ctx.project()),
      from: ctx.flags.time('from'),
      to: ctx.flags.time('to'),
    });
    if (ctx.json) return void ctx.out.json(answer);
    printTrace(ctx.out, answer, ctx.io.stdout.columns ?? 120);
  },
};

export const queryCommands: Command[] = [logsSearch, metricsList, metricsQuery, tracesGet];
