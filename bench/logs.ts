/**
 * `npm run bench:logs`: log search and trace latency over millions of realistic log lines.
 *
 * 1. Creates a fresh database on the local Postgres (DATABASE_URL's server, default
 *    postgres://postgres@127.0.0.1:5432/postgres), applies the migrations and seeds a demo tenant.
 * 2. COPYs LINES log lines (default 5,000,000) over the last DAYS days (default 7) into public.logs,
 *    with every index the migrations define (full text, id, service, level, trace), and their
 *    traces (one per 50 lines, 3-20 spans each) into public.spans (bench/logs-data.ts). Prints the
 *    load rates. Then VACUUM ANALYZE (what autovacuum does to a day-old partition; timed apart).
 * 3. Starts the gateway on that database with Redis in its own process, as `npm start` would, and
 *    times requests over HTTP with the demo API key, one at a time, per type WARMUP (3) unmeasured
 *    then REPEAT (default 30) measured, rotating the searched needle / service / trace so no two
 *    requests are identical:
 *      a  rare word over 24 h (a token in 5 lines of the ~700K of that day)  GET /logs/search?q=
 *      b  common word over 24 h ("request", about half of all lines)        GET /logs/search?q=request
 *      c  phrase over 24 h ("connection refused")                          GET /logs/search?q="..."
 *      d  level + service over 24 h (errors of one service)                GET /logs/search?level=error&service=
 *      e  trace fetch (span tree, 3-20 spans)                              GET /logs/traces/:traceId
 *      f  level histogram over 24 h (60 buckets, no filter)                GET /logs/histogram
 *    Pages are 100 lines, newest first. Any non-2xx answer fails the benchmark.
 * Prints p50 and p95 per type and finally `logs: p95 <ms> ms worst type (<type>)`.
 * KEEP_DB=1 keeps the database for EXPLAIN ANALYZE afterwards.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type BenchDatabase, createBenchDatabase, fmt, partitionBytes, percentile, seconds } from './harness.ts';
import { type DataSpec, LOG_COLUMNS, logChunks, needle, SERVICES, SPAN_COLUMNS, spanChunks, spansPerTrace, traceId } from './logs-data.ts';

const LINES = Number(process.env.LINES ?? 5_000_000);
const DAYS = Number(process.env.DAYS ?? 7);
const REPEAT = Number(process.env.REPEAT ?? 30);
const WARMUP = Number(process.env.WARMUP ?? 3);
const port = 55500 + (process.pid % 400); // bench:query uses 55000-55499
const DAY = 86_400_000;
const NEEDLES = 40;
const NEEDLE_LINES = 5;

if (!(LINES >= 10_000) || !(DAYS >= 1 && DAYS <= 7) || !(REPEAT >= 1)) throw new Error('LINES >= 10000, DAYS 1..7, REPEAT >= 1');

let bench: BenchDatabase | undefined;

async function copy(table: string, columns: string, chunks: Iterable<string>) {
  const started = performance.now();
  const writable = await bench!.sql.unsafe(`copy public.${table} (${columns}) from stdin`).writable();
  await pipeline(Readable.from(chunks), writable);
  return seconds(started);
}

async function load(spec: DataSpec) {
  const { sql } = bench!;
  await sql.unsafe(`select private.ensure_telemetry_partitions(current_date - ${DAYS + 1}, current_date + 1)`);
  const logSeconds = await copy('logs', LOG_COLUMNS, logChunks(spec));
  const spans = Array.from({ length: spec.traces }, (_, k) => spansPerTrace(k)).reduce((a, b) => a + b, 0);
  const spanSeconds = await copy('spans', SPAN_COLUMNS, spanChunks(spec));
  const vacuumStarted = performance.now();
  await sql`vacuum analyze public.logs`;
  await sql`vacuum analyze public.spans`;
  return { logSeconds, spanSeconds, spans, vacuumSeconds: seconds(vacuumStarted), logBytes: await partitionBytes(sql, 'public.logs'), spanBytes: await partitionBytes(sql, 'public.spans') };
}

class Failure extends Error {}

interface Type {
  name: string;
  id: string;
  label: string;
  path: (i: number) => string;
  /** What a sane answer holds, checked on every response. */
  check: (body: Record<string, unknown>, i: number) => string | undefined;
}

function types(spec: DataSpec): Type[] {
  const last24h = () => {
    const now = Date.now();
    return `from=${new Date(now - DAY).toISOString()}&to=${new Date(now).toISOString()}`;
  };
  const logs = (b: Record<string, unknown>) => (b.logs as unknown[]).length;
  const recentTraces = Math.floor(spec.traces / DAYS);
  return [
    {
      name: 'a',
      id: 'rare_word_24h',
      label: 'rare word, 24 h',
      path: (i) => `/search?${last24h()}&q=${needle(i % NEEDLES)}&limit=100`,
      check: (b) => (logs(b) === NEEDLE_LINES ? undefined : `expected ${NEEDLE_LINES} lines, got ${logs(b)}`),
    },
    { name: 'b', id: 'common_word_24h', label: 'common word, 24 h', path: () => `/search?${last24h()}&q=request&limit=100`, check: (b) => (logs(b) === 100 ? undefined : `expected a full page, got ${logs(b)}`) },
    { name: 'c', id: 'phrase_24h', label: 'phrase, 24 h', path: () => `/search?${last24h()}&q=${encodeURIComponent('"connection refused"')}&limit=100`, check: (b) => (logs(b) === 100 ? undefined : `expected a full page, got ${logs(b)}`) },
    {
      name: 'd',
      id: 'level_service_24h',
      label: 'level + service, 24 h',
      path: (i) => `/search?${last24h()}&level=error&service=${SERVICES[i % SERVICES.length]}&limit=100`,
      check: (b) => (logs(b) === 100 ? undefined : `expected a full page, got ${logs(b)}`),
    },
    {
      name: 'e',
      id: 'trace_fetch',
      label: 'trace fetch (span tree)',
      // Traces of the last day, spread over it.
      path: (i) => `/traces/${traceId(spec.traces - 1 - ((i * 7919) % recentTraces))}`,
      check: (b) => (b.trace || b.spans || b.traceId ? undefined : 'no trace in the answer'),
    },
    { name: 'f', id: 'level_histogram_24h', label: 'level histogram, 24 h', path: () => `/histogram?${last24h()}&buckets=60`, check: (b) => ((b.total as number) > 0 ? undefined : 'empty histogram') },
  ];
}

async function timeTypes(base: string, apiKey: string, spec: DataSpec) {
  const out: Array<{ type: Type; n: number; p50: number; p95: number; max: number; bytes: number }> = [];
  for (const type of types(spec)) {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < WARMUP + REPEAT; i++) {
      const path = type.path(i);
      const t = performance.now();
      const res = await fetch(`${base}${path}`, { headers: { 'x-api-key': apiKey } });
      const text = await res.text();
      const ms = performance.now() - t;
      if (!res.ok) throw new Failure(`GET ${path} answered ${res.status}: ${text.slice(0, 1000)}`);
      const problem = type.check(JSON.parse(text) as Record<string, unknown>, i);
      if (problem) throw new Failure(`GET ${path}: ${problem}`);
      bytes = text.length;
      if (i >= WARMUP) times.push(ms);
    }
    times.sort((a, b) => a - b);
    out.push({ type, n: times.length, p50: percentile(times, 0.5), p95: percentile(times, 0.95), max: times[times.length - 1]!, bytes });
  }
  return out;
}

let exitCode = 0;
try {
  const started = performance.now();
  console.log(`${fmt(LINES)} log lines over ${DAYS} days`);
  bench = await createBenchDatabase('observai_lbench');
  const demo = bench.demo;
  const end = Date.now();
  const spec: DataSpec = { projectId: demo.projectId, lines: LINES, traces: Math.floor(LINES / 50), start: end - DAYS * DAY, end, needles: NEEDLES, needleLines: NEEDLE_LINES };
  const l = await load(spec);
  console.log(
    `load: ${fmt(LINES)} log lines in ${l.logSeconds.toFixed(1)} s = ${fmt(LINES / l.logSeconds)} lines/s by COPY (${fmt(l.logBytes / 2 ** 20)} MiB with indexes); ` +
      `${fmt(l.spans)} spans of ${fmt(spec.traces)} traces in ${l.spanSeconds.toFixed(1)} s = ${fmt(l.spans / l.spanSeconds)} spans/s (${fmt(l.spanBytes / 2 ** 20)} MiB); vacuum analyze ${l.vacuumSeconds.toFixed(1)} s`,
  );
  const base = await bench.startGateway('logs', port);
  const results = await timeTypes(base, demo.apiKey, spec);
  console.log('');
  console.log('type | what                       |  n | p50 ms | p95 ms | max ms | response bytes');
  for (const r of results) {
    console.log(
      `${r.type.name.padEnd(4)} | ${r.type.label.padEnd(26)} | ${String(r.n).padStart(2)} | ${r.p50.toFixed(1).padStart(6)} | ${r.p95.toFixed(1).padStart(6)} | ${r.max.toFixed(1).padStart(6)} | ${fmt(r.bytes).padStart(14)}`,
    );
  }
  console.log(`\n(${WARMUP} warm-ups then ${REPEAT} measured requests per type, one at a time over HTTP; whole run ${seconds(started).toFixed(0)} s)`);
  const searches = results.filter((r) => r.type.id !== 'trace_fetch');
  const trace = results.find((r) => r.type.id === 'trace_fetch')!;
  console.log(`search: p95 ${Math.max(...searches.map((r) => r.p95)).toFixed(1)} ms worst search type (target 200 ms); trace: p95 ${trace.p95.toFixed(1)} ms (target 50 ms)`);
  const worst = results.reduce((a, b) => (b.p95 > a.p95 ? b : a));
  console.log(`logs: p95 ${worst.p95.toFixed(1)} ms worst type (${worst.type.id})`);
} catch (err) {
  exitCode = 1;
  console.error(err instanceof Failure ? `benchmark failed: ${err.message}` : err);
} finally {
  await bench?.cleanup();
}
process.exit(exitCode);
