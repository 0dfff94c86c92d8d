/**
 * `npm run bench:query`: dashboard query latency over a month of metrics, and what the rollups cost.
 *
 * 1. Creates a fresh database on the local Postgres (DATABASE_URL's server, default
 *    postgres://postgres@127.0.0.1:5432/postgres), applies the migrations with the project's runner
 *    and seeds a demo tenant (organization, project, ingest+read API key).
 * 2. COPYs POINTS raw points (default 10,000,000) over the last 30 days into public.metric_points:
 *    1,000 series = 10 metrics (gauges and two cumulative counters with resets) x 100 tag sets
 *    {service: s0..s9, host: h0..h9} (bench/query-data.ts). Prints the load rate.
 * 3. Rolls the points up (1m/5m/1h/1d) and times it. ROLLUP=days (default): rollupRange() one UTC day
 *    at a time, each in its own service-role transaction, as the job does per merged range, with the
 *    time split per statement (1m from raw, 5m from 1m, ...);
 *    ROLLUP=job: one ingest_usage row per day, then the real aggregate-metrics job via runJob() until
 *    it has consumed them all. Then VACUUM ANALYZE of the rollups and totals (what autovacuum would
 *    have done by the time a month of data is queried; timed separately).
 * 4. Starts the gateway on that database with Redis (REDIS_URL, default redis://127.0.0.1:6379) in its
 *    own process, as `npm start` would, and times dashboard queries over HTTP with the API key
 *    (POST /functions/v1/metrics/query): per type WARMUP (3) unmeasured then REPEAT (default 40)
 *    measured requests, one at a time, or fewer (at least 10) once the type has taken TYPE_SECONDS
 *    (default 60), so a slow type cannot blow the run time. Time ranges end at the moment of each
 *    request (a live dashboard) and the series rotate between requests, so no two requests are
 *    identical.
 *      a  one series, 24 h at 1m          b  one series, 7 d at 1h
 *      c  group by host over 100 series, 24 h at 5m
 *      d  p99 over 30 d (100 series) at 1d
 *      e  a 12-panel dashboard in one request (mixed kinds)
 *    Any non-2xx answer fails the benchmark. Then each panel of the batch alone (BREAKDOWN requests
 *    each, default 3, median; 0 skips it), to show where the batch's time goes.
 * Prints a table (p50, p95 per type), the load and rollup figures, and finally:
 *   query: p95 <ms> ms worst type (<type id>)
 * KEEP_DB=1 keeps the database (its name is printed) for EXPLAIN ANALYZE afterwards; REUSE_DB=<name>
 * times the queries again over such a database, skipping steps 2 and 3 (a new API key is minted).
 * GATEWAY_NODE_ARGS passes node flags to the gateway, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
 * ONLY=<letters> times only those query types (ONLY=e: the batch), for quicker A/B runs.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { systemClock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/logger.ts';
import { asServiceRole } from '../src/db/scoped.ts';
import type { Queryable } from '../src/db/types.ts';
import { runJob } from '../src/jobs/run-job.ts';
import { aggregateMetrics, ROLLUP_SETTINGS, rollupRange } from '../src/metrics/aggregate-metrics.ts';
import { type BenchDatabase, createBenchDatabase, fmt, median, partitionBytes, percentile, seconds } from './harness.ts';
import { pointLines, SERIES, seriesSpecs } from './query-data.ts';

const POINTS = Number(process.env.POINTS ?? 10_000_000);
const REPEAT = Number(process.env.REPEAT ?? 40);
const WARMUP = Number(process.env.WARMUP ?? 3);
const ROLLUP = (process.env.ROLLUP ?? 'days') as 'days' | 'job';
const BREAKDOWN = Number(process.env.BREAKDOWN ?? 3);
const MIN_REPEAT = Math.min(REPEAT, 10);
const TYPE_SECONDS = Number(process.env.TYPE_SECONDS ?? 60);
/** Only these query types (letters, e.g. ONLY=ce), for A/B runs over a kept database. */
const ONLY = process.env.ONLY?.split('');
const port = 55000 + (process.pid % 500); // bench:ingest uses 54400-54899
const DAY = 86_400_000;
const HOUR = 3_600_000;

if (!(POINTS >= SERIES) || !(REPEAT >= 1) || (ROLLUP !== 'days' && ROLLUP !== 'job')) {
  throw new Error(`POINTS must be >= ${SERIES}, REPEAT >= 1, ROLLUP days|job`);
}

let bench: BenchDatabase | undefined;

// ============================================================================ 2. load
async function load(projectId: string, organizationId: string) {
  const sql = bench!.sql;
  await sql`select private.ensure_telemetry_partitions(current_date - 31, current_date + 1)`;
  await sql`insert into public.project_ingest_settings (project_id, organization_id, max_series) values (${projectId}, ${organizationId}, 100000)`;
  const specs = await seriesSpecs();
  const inserted = await sql`
    insert into public.metric_series (project_id, name, type, temporality, unit, tags, fingerprint)
    select ${projectId}, s.name, s.type, nullif(s.temporality, ''), s.unit, s.tags::jsonb, s.fingerprint
    from unnest(${specs.map((s) => s.metric.name)}::text[], ${specs.map((s) => s.metric.type)}::text[], ${specs.map((s) => s.metric.temporality ?? '')}::text[],
                ${specs.map((s) => s.metric.unit)}::text[], ${specs.map((s) => JSON.stringify(s.tags))}::text[], ${specs.map((s) => s.fingerprint)}::text[])
         as s(name, type, temporality, unit, tags, fingerprint)
    returning id::text as id, fingerprint`;
  const idByFingerprint = new Map(inserted.map((r) => [r.fingerprint as string, r.id as string]));
  const seriesIds = specs.map((s) => idByFingerprint.get(s.fingerprint)!);

  const perSeries = Math.ceil(POINTS / SERIES);
  const total = perSeries * SERIES;
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  const start = end - 30 * DAY;
  const started = performance.now();
  const writable = await sql.unsafe('copy public.metric_points (project_id, series_id, time, value, event_key) from stdin').writable();
  await pipeline(Readable.from(pointLines(projectId, seriesIds, start, end, perSeries)), writable);
  const copySeconds = seconds(started);
  const analyzeStarted = performance.now();
  await sql`analyze public.metric_series, public.metric_points`;
  const analyzeSeconds = seconds(analyzeStarted);
  const tableBytes = await partitionBytes(sql, 'public.metric_points');
  return { total, start, end, copySeconds, analyzeSeconds, rate: total / copySeconds, tableBytes, perSeries };
}

// ============================================================================ 3. rollups
/**
 * Passes statements through, adding each one's seconds to `into` under what it writes: rollupMinutes
 * and the histogram minutes read raw points; rollupFrom's fourth parameter names its source resolution;
 * the metric totals (all resolutions) are one key.
 */
function timed(tx: Queryable, into: Record<string, number>): Queryable {
  return {
    async query<T>(text: string, params?: readonly unknown[]) {
      const key = /metric_histogram_points/.test(text) ? 'histograms' : /metric_totals/.test(text) ? 'totals' : typeof params?.[3] === 'string' ? `from ${params[3]}` : /metric_points/.test(text) ? '1m' : 'other';
      const t = performance.now();
      try {
        return await tx.query<T>(text, params);
      } finally {
        into[key] = (into[key] ?? 0) + seconds(t);
      }
    },
    exec: (script: string) => tx.exec(script),
  };
}

async function rollups(projectId: string, organizationId: string, start: number, end: number, total: number) {
  const { db, sql } = bench!;
  const firstDay = Math.floor(start / DAY) * DAY;
  const perDay: number[] = [];
  const rows: Record<string, number> = {};
  const split: Record<string, number> = {};
  const started = performance.now();
  if (ROLLUP === 'days') {
    for (let d = firstDay; d < end; d += DAY) {
      const t = performance.now();
      // With the job's transaction settings.
      const counts = await asServiceRole(db, (tx) => rollupRange(timed(tx, split), projectId, d, Math.min(d + DAY, end)), ROLLUP_SETTINGS);
      perDay.push(seconds(t));
      for (const [k, v] of Object.entries(counts)) rows[k] = (rows[k] ?? 0) + v;
      process.stdout.write('.');
    }
    process.stdout.write('\n');
  } else {
    for (let d = firstDay; d < end; d += DAY) {
      await sql`insert into public.ingest_usage (project_id, organization_id, events, bytes, metric_min_time, metric_max_time)
                 values (${projectId}, ${organizationId}, 0, 0, ${new Date(Math.max(d, start))}, ${new Date(Math.min(d + DAY, end) - 1)})`;
    }
    for (let run = 0; ; run++) {
      const t = performance.now();
      const r = await runJob({ db, logger: silentLogger, clock: systemClock }, aggregateMetrics, { budgetMs: 600_000 });
      if (r.outcome !== 'ok') throw new Error(`aggregate-metrics ${r.outcome}: ${r.error ?? JSON.stringify(r.summary)}`);
      const s = r.summary as { usageRows: number; ranges?: number; rows?: Record<string, number> };
      if (s.usageRows === 0) break;
      perDay.push(seconds(t));
      console.log(`  job run ${run + 1}: ${s.usageRows} usage rows, ${s.ranges} merged range(s), ${seconds(t).toFixed(1)} s`);
      for (const [k, v] of Object.entries(s.rows ?? {})) rows[k] = (rows[k] ?? 0) + v;
      if (run > 100) throw new Error('aggregate-metrics did not finish');
    }
  }
  const rollupSeconds = seconds(started);
  const vacuumStarted = performance.now();
  await sql`vacuum analyze public.metric_rollups, public.metric_totals, public.metric_group_totals`;
  const vacuumSeconds = seconds(vacuumStarted);
  const [totals] = await sql<{ bytes: string }[]>`select pg_total_relation_size('public.metric_totals') + pg_total_relation_size('public.metric_group_totals') as bytes`;
  return { rollupSeconds, perMillion: rollupSeconds / (total / 1e6), perDay, rows, split, vacuumSeconds, rollupBytes: await partitionBytes(sql, 'public.metric_rollups'), totalsBytes: Number(totals!.bytes) };
}

// ============================================================================ 4. queries
type Filter = { key: string; op: '=' | '!=' | 'regex'; value: string } | { key: string; op: 'in' | 'not_in'; values: string[] };
interface Query {
  metric: string;
  filters?: Filter[];
  groupBy?: string[];
  aggregation: string;
  from: string;
  to: string;
  step?: number;
}
interface Result {
  id: string;
  resolution: string;
  step: number;
  series: { tags: Record<string, string>; points: [number, number | null][] }[];
}

const GAUGES = ['http.server.duration', 'db.client.duration', 'cpu.usage', 'gc.pause'];
const range = (ms: number, step?: number): Pick<Query, 'from' | 'to' | 'step'> => {
  const now = Date.now();
  return { from: new Date(now - ms).toISOString(), to: new Date(now).toISOString(), ...(step ? { step } : {}) };
};
const one = (i: number): Filter[] => [
  { key: 'service', op: '=', value: `s${i % 10}` },
  { key: 'host', op: '=', value: `h${(i * 3 + 1) % 10}` },
];

/** Builds the request's queries for iteration i (rotating metrics and series). */
const TYPES: { name: string; id: string; label: string; expectSeries?: number; build: (i: number) => Query[] }[] = [
  { name: 'a', id: 'one_series_24h_1m', label: 'one series 24h @1m', expectSeries: 1, build: (i) => [{ metric: GAUGES[i % 4]!, filters: one(i), aggregation: 'avg', ...range(24 * HOUR, 60) }] },
  { name: 'b', id: 'one_series_7d_1h', label: 'one series 7d @1h', expectSeries: 1, build: (i) => [{ metric: GAUGES[i % 4]!, filters: one(i), aggregation: 'avg', ...range(7 * 24 * HOUR, 3600) }] },
  { name: 'c', id: 'group_by_host_100_series', label: 'group by host, 100 series 24h @5m', expectSeries: 10, build: (i) => [{ metric: GAUGES[i % 4]!, groupBy: ['host'], aggregation: 'avg', ...range(24 * HOUR, 300) }] },
  { name: 'd', id: 'p99_30d', label: 'p99 of 100 series 30d @1d', expectSeries: 1, build: (i) => [{ metric: GAUGES[i % 2]!, aggregation: 'p99', ...range(30 * 24 * HOUR, 86400) }] },
  {
    name: 'e',
    id: 'batch_12_panels',
    label: '12-panel dashboard batch',
    build: (i) => [
      { metric: 'http.server.duration', filters: one(i), aggregation: 'avg', ...range(24 * HOUR, 60) },
      { metric: 'cpu.usage', filters: one(i + 1), aggregation: 'max', ...range(24 * HOUR, 60) },
      { metric: 'http.server.requests', filters: [{ key: 'service', op: '=', value: `s${i % 10}` }], groupBy: ['host'], aggregation: 'rate', ...range(24 * HOUR, 300) },
      { metric: 'net.bytes.sent', filters: [{ key: 'service', op: 'in', values: [`s${i % 10}`, `s${(i + 1) % 10}`] }], aggregation: 'rate', ...range(24 * HOUR, 300) },
      { metric: 'http.server.duration', groupBy: ['service'], aggregation: 'p95', ...range(24 * HOUR, 300) },
      { metric: 'cpu.usage', groupBy: ['host'], aggregation: 'avg', ...range(24 * HOUR, 300) },
      { metric: 'memory.rss', filters: one(i + 2), aggregation: 'max', ...range(7 * 24 * HOUR, 3600) },
      { metric: 'queue.depth', filters: [{ key: 'host', op: '!=', value: `h${i % 10}` }], aggregation: 'sum', ...range(7 * 24 * HOUR, 3600) },
      { metric: 'db.client.duration', aggregation: 'p99', ...range(30 * 24 * HOUR, 86400) },
      { metric: 'gc.pause', groupBy: ['service'], aggregation: 'p50', ...range(7 * 24 * HOUR, 3600) },
      { metric: 'cache.hit_ratio', filters: [{ key: 'host', op: 'regex', value: '^h[0-4]$' }], aggregation: 'count', ...range(24 * HOUR, 300) },
      { metric: 'disk.used_percent', filters: [{ key: 'service', op: 'not_in', values: ['s8', 's9'] }], groupBy: ['host'], aggregation: 'min', ...range(30 * 24 * HOUR, 86400) },
    ],
  },
];

class QueryFailure extends Error {}

async function post(base: string, apiKey: string, projectId: string, queries: Query[]) {
  const body = JSON.stringify({ projectId, queries: queries.map((q, j) => ({ id: String.fromCharCode(97 + j), ...q })) });
  const t = performance.now();
  const res = await fetch(`${base}/query`, { method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': 'application/json' }, body });
  const text = await res.text();
  const ms = performance.now() - t;
  if (!res.ok) throw new QueryFailure(`POST /metrics/query answered ${res.status}: ${text.slice(0, 2000)}\n  request: ${body.slice(0, 600)}`);
  const json = JSON.parse(text) as { results: Result[] };
  if (!Array.isArray(json.results) || json.results.length !== queries.length) throw new QueryFailure(`expected ${queries.length} results, got: ${text.slice(0, 500)}`);
  return { ms, bytes: text.length, results: json.results };
}

function describe(results: Result[]) {
  const series = results.reduce((n, r) => n + r.series.length, 0);
  const points = results.reduce((n, r) => n + r.series.reduce((m, s) => m + s.points.length, 0), 0);
  const nonNull = results.reduce((n, r) => n + r.series.reduce((m, s) => m + s.points.filter((p) => p[1] !== null).length, 0), 0);
  const resolutions = [...new Set(results.map((r) => r.resolution))].join(',');
  return { series, points, nonNull, resolutions };
}

interface TypeResult {
  name: string;
  id: string;
  label: string;
  queries: number;
  n: number;
  p50: number;
  p95: number;
  max: number;
  bytes: number;
  shape: ReturnType<typeof describe>;
}

async function timeQueries(base: string, apiKey: string, projectId: string): Promise<TypeResult[]> {
  const out: TypeResult[] = [];
  for (const type of TYPES.filter((t) => ONLY === undefined || ONLY.includes(t.name))) {
    let shape: ReturnType<typeof describe> | undefined;
    let bytes = 0;
    for (let i = 0; i < WARMUP; i++) {
      const r = await post(base, apiKey, projectId, type.build(i));
      shape ??= describe(r.results);
      bytes = r.bytes;
      if (type.expectSeries !== undefined && r.results[0]!.series.length !== type.expectSeries) {
        console.warn(`warning: type ${type.name} returned ${r.results[0]!.series.length} series, expected ${type.expectSeries}`);
      }
    }
    const times: number[] = [];
    const typeStarted = performance.now();
    for (let i = 0; i < REPEAT && (i < MIN_REPEAT || seconds(typeStarted) < TYPE_SECONDS); i++) {
      const queries = type.build(WARMUP + i);
      const r = await post(base, apiKey, projectId, queries);
      shape ??= describe(r.results);
      bytes = r.bytes;
      times.push(r.ms);
    }
    times.sort((a, b) => a - b);
    const res = { name: type.name, id: type.id, label: type.label, queries: type.build(0).length, n: times.length, p50: percentile(times, 0.5), p95: percentile(times, 0.95), max: times[times.length - 1]!, bytes, shape: shape! };
    if (res.shape.nonNull === 0) console.warn(`warning: type ${type.name} returned no values at all; its timing is not meaningful`);
    out.push(res);
  }
  return out;
}

/** Each panel of the batch on its own (BREAKDOWN requests each, median), to show where its time goes. */
async function panelBreakdown(base: string, apiKey: string, projectId: string, repeat: number) {
  const batch = TYPES.find((t) => t.name === 'e')!;
  const panels = batch.build(0).length;
  const out: { panel: string; median: number }[] = [];
  for (let j = 0; j < panels; j++) {
    const times: number[] = [];
    for (let i = 0; i < repeat + 1; i++) {
      const q = batch.build(i)[j]!;
      const r = await post(base, apiKey, projectId, [q]);
      if (i > 0) times.push(r.ms);
    }
    const q = batch.build(0)[j]!;
    const days = (Date.parse(q.to) - Date.parse(q.from)) / DAY;
    const what = `${q.aggregation} ${q.metric}${q.filters?.length ? ` ${q.filters.map((f) => `${f.key}${f.op === '=' || f.op === '!=' ? f.op : ` ${f.op} `}${'value' in f ? f.value : f.values.join('|')}`).join(',')}` : ''}` +
      `${q.groupBy?.length ? ` by ${q.groupBy.join(',')}` : ''} ${days}d @${q.step}s`;
    out.push({ panel: what, median: median(times) });
  }
  return out;
}

/** Steps 2 and 3, with their figures printed; skipped with REUSE_DB. */
async function loadAndRollUp(projectId: string, organizationId: string) {
  const l = await load(projectId, organizationId);
  console.log(
    `load: ${fmt(l.total)} points (${SERIES} series x ${fmt(l.perSeries)}, one per ${fmt((30 * DAY) / l.perSeries / 1000)} s) over 30 days in ${l.copySeconds.toFixed(1)} s ` +
      `= ${fmt(l.rate)} points/s by COPY; analyze ${l.analyzeSeconds.toFixed(1)} s; ${fmt(l.tableBytes / 2 ** 20)} MiB`,
  );

  process.stdout.write(`rollup (${ROLLUP === 'days' ? 'rollupRange per UTC day' : 'aggregate-metrics job via runJob'}) `);
  if (ROLLUP === 'job') process.stdout.write('\n');
  const r = await rollups(projectId, organizationId, l.start, l.end, l.total);
  const rowsText = Object.entries(r.rows).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
  console.log(
    `rollup: ${r.rollupSeconds.toFixed(1)} s total, ${r.perMillion.toFixed(1)} s per million raw points` +
      (ROLLUP === 'days' ? `; per day median ${median(r.perDay).toFixed(1)} s, max ${Math.max(...r.perDay).toFixed(1)} s over ${r.perDay.length} days` : `; ${r.perDay.length} job run(s)`) +
      `; rows ${rowsText}; ${fmt(r.rollupBytes / 2 ** 20)} MiB of rollups, ${fmt(r.totalsBytes / 2 ** 20)} MiB of totals; vacuum analyze ${r.vacuumSeconds.toFixed(1)} s`,
  );
  if (Object.keys(r.split).length) {
    const names: Record<string, string> = { '1m': '1m from raw', histograms: 'histogram 1m from raw', 'from 1m': '5m from 1m', 'from 5m': '1h from 5m', 'from 1h': '1d from 1h', totals: 'metric totals' };
    console.log(`rollup split: ${Object.entries(r.split).map(([k, v]) => `${names[k] ?? k} ${v.toFixed(1)} s`).join(', ')}`);
  }

  return { l, r };
}

// ============================================================================ main
let exitCode = 0;
try {
  const benchStarted = performance.now();
  console.log(`${fmt(POINTS)} points requested, rollup approach: ${ROLLUP}`);
  bench = await createBenchDatabase('observai_qbench');
  const demo = bench.demo;

  const reused = process.env.REUSE_DB;
  const loaded = reused ? undefined : await loadAndRollUp(demo.projectId, demo.organizationId);
  if (reused) console.log(`REUSE_DB=${reused}: queries only, over the points and rollups an earlier KEEP_DB=1 run left there`);

  const base = await bench.startGateway('metrics', port, { DB_POOL_MAX: process.env.DB_POOL_MAX ?? '10' });
  const results = await timeQueries(base, demo.apiKey, demo.projectId);

  console.log('');
  console.log(`type | what                               | queries |  n | p50 ms | p95 ms | max ms | resolution | series | points (non-null) | response bytes`);
  for (const t of results) {
    console.log(
      `${t.name.padEnd(4)} | ${t.label.padEnd(34)} | ${String(t.queries).padStart(7)} | ${String(t.n).padStart(2)} | ${t.p50.toFixed(1).padStart(6)} | ${t.p95.toFixed(1).padStart(6)} | ${t.max.toFixed(1).padStart(6)} | ` +
        `${t.shape.resolutions.padEnd(10)} | ${String(t.shape.series).padStart(6)} | ${`${fmt(t.shape.points)} (${fmt(t.shape.nonNull)})`.padStart(17)} | ${fmt(t.bytes).padStart(14)}`,
    );
  }
  if (BREAKDOWN > 0) {
    const panels = await panelBreakdown(base, demo.apiKey, demo.projectId, BREAKDOWN);
    console.log(`\nbatch (e) panel by panel, each alone, median of ${BREAKDOWN}:`);
    for (const p of panels) console.log(`  ${p.median.toFixed(1).padStart(8)} ms  ${p.panel}`);
    console.log(`  ${panels.reduce((s, p) => s + p.median, 0).toFixed(1).padStart(8)} ms  sum`);
  }
  console.log(`\n(n measured requests per type after ${WARMUP} warm-ups, one at a time: ${REPEAT}, or fewer (at least ${MIN_REPEAT}) once a type has run ${TYPE_SECONDS} s; whole run ${seconds(benchStarted).toFixed(0)} s)`);
  console.log('');
  if (loaded) {
    const { l, r } = loaded;
    console.log(`load: ${fmt(l.rate)} points/s (COPY, ${fmt(l.total)} points)`);
    console.log(`rollup: ${r.perMillion.toFixed(1)} s per million raw points (${r.rollupSeconds.toFixed(1)} s for ${fmt(l.total)}, ${ROLLUP === 'days' ? 'rollupRange per day' : 'aggregate-metrics job'})`);
  }
  const worst = results.reduce((a, b) => (b.p95 > a.p95 ? b : a));
  console.log(`query: p95 ${worst.p95.toFixed(1)} ms worst type (${worst.id})`);
} catch (err) {
  exitCode = 1;
  console.error(err instanceof QueryFailure ? `benchmark failed: ${err.message}` : err);
} finally {
  await bench?.cleanup();
}
process.exit(exitCode);
