/**
 * `npm run bench:anomalies`: throughput of the anomaly scanner (the detect-anomalies job) over a
 * day of 1m rollups, the first scan and the steady-state minute-by-minute runs.
 *
 * 1. Creates a fresh database on the local Postgres (DATABASE_URL's server, default
 *    postgres://postgres@127.0.0.1:5432/postgres), applies the migrations with the project's runner
 *    and seeds a demo tenant.
 * 2. Creates SERIES gauge series (default 10,000; 10 metric names, `service` tag over 100 services)
 *    and COPYs HOURS (default 24) of 1m rollups for each straight into public.metric_rollups:
 *    noise around a per-series level with a daily cycle; ~1% of the series get a spike, a dip or a
 *    level shift in the last hour (same-service series start close together, so incidents group).
 * 3. Initial scan: the real job via runJob() with a fake clock set so the last loaded minute is
 *    complete and settled, repeated until a run reports `complete` (a run stops when its budget,
 *    BUDGET_MS, default one hour, is spent). Reports series/s and points/s.
 * 4. Incremental: INCREMENTS times (default 3), COPY one more minute for every series, advance the
 *    clock one minute and run the job until all series are up to date. Reports the median wall
 *    time for bringing all series up to date, and the number of runs it took.
 * Where the time goes: every query the job issues goes through a timing wrapper of the Db, grouped
 * by statement kind; "outside SQL" is the rest of the run wall time (detector CPU, JSON, the
 * job's own bookkeeping). A detector-only pass over the same values (in process, no database) is
 * printed for comparison (DETECTOR_ONLY=0 skips it).
 * Ends with exactly one line:
 *   anomalies: <N> series/s scanned, <ms> ms per incremental run
 * KEEP_DB=1 keeps the database (its name is printed) for EXPLAIN ANALYZE afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { detectAnomalies, SCANNER } from '../src/anomalies/detect-anomalies.ts';
import { createDetectorState, stepDetector } from '../src/anomalies/detectors/index.ts';
import { fakeClock } from '../src/core/clock.ts';
import { parseConfig } from '../src/core/config.ts';
import { silentLogger } from '../src/core/logger.ts';
import { createPostgresDb } from '../src/db/postgres.ts';
import type { Db, Queryable } from '../src/db/types.ts';
import { runJob } from '../src/jobs/run-job.ts';
import { createNodeDeps, migrateDb } from '../src/node/deps.ts';
import { seedDemo } from '../src/orgs/seed-demo.ts';

const SERIES = Number(process.env.SERIES ?? 10_000);
const HOURS = Number(process.env.HOURS ?? 24);
const INCREMENTS = Number(process.env.INCREMENTS ?? 3);
const KEEP_DB = process.env.KEEP_DB === '1';
/** The job's budget per run (the scheduler's default is 48 s); the bench runs the job until a run reports complete. */
const BUDGET_MS = Number(process.env.BUDGET_MS ?? 3_600_000);
const DETECTOR_ONLY = process.env.DETECTOR_ONLY !== '0';
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MINUTE = 60_000;
const DAY = 86_400_000;
const SERVICES = 100;
const METRIC_NAMES = ['http.server.duration', 'http.server.rps', 'db.client.duration', 'cpu.usage', 'memory.rss', 'queue.depth', 'gc.pause', 'net.bytes.sent', 'cache.hit_ratio', 'disk.used_percent'];

if (!(SERIES >= 1) || !(HOURS > 0) || !(INCREMENTS >= 1) || !Number.isInteger(SERIES)) throw new Error('SERIES >= 1 (integer), HOURS > 0, INCREMENTS >= 1');
if (HOURS * 60 > SCANNER.maxBucketsPerSeries) console.warn(`note: ${HOURS} h exceeds the scanner's ${SCANNER.maxBucketsPerSeries} buckets per series per run`);

const dbName = `observai_abench_${Date.now()}`;
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
let sql: postgres.Sql | undefined;
let rawDb: Db | undefined;
let created = false;

let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  await rawDb?.close().catch(() => {});
  await sql?.end({ timeout: 5 }).catch(() => {});
  if (created) {
    if (KEEP_DB) console.log(`kept database ${dbUrl.toString()}`);
    else await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch((err) => console.error(`could not drop ${dbName}: ${err}`));
  }
  await admin.end({ timeout: 5 }).catch(() => {});
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const seconds = (since: number) => (performance.now() - since) / 1000;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ============================================================================ query timing
/** Statement kinds the scanner issues, by a distinctive fragment of their text. */
const KINDS: [string, RegExp][] = [
  ['candidates (series with new buckets)', /from public\.metric_series s\s+left join private\.anomaly_detector_states/],
  ['read rollups', /from public\.metric_rollups/],
  ['read config', /from public\.anomaly_configs/],
  ['read + lock state', /from private\.anomaly_detector_states/],
  ['write state (upsert)', /insert into private\.anomaly_detector_states/],
  ['episodes + incidents', /anomaly_episodes|anomaly_incidents/],
  ['set role / claims', /^\s*(set local role|select set_config)/],
  ['job_runs bookkeeping', /private\.job_runs/],
];
interface Timing {
  ms: number;
  n: number;
}
const timings = new Map<string, Timing>();
let txMs = 0;
let txCount = 0;
let txQueryMs = 0;
/** begin (call to callback start) + commit (callback end to resolve), i.e. round trips outside the callback. */
let txBeginCommitMs = 0;
function record(text: string, ms: number) {
  const kind = KINDS.find(([, re]) => re.test(text))?.[0] ?? 'other';
  const t = timings.get(kind) ?? { ms: 0, n: 0 };
  t.ms += ms;
  t.n += 1;
  timings.set(kind, t);
}
function timedQueryable(q: Queryable, inTx: boolean): Queryable {
  return {
    async query<T>(text: string, params?: readonly unknown[]) {
      const t = performance.now();
      try {
        return await q.query<T>(text, params);
      } finally {
        const ms = performance.now() - t;
        record(text, ms);
        if (inTx) txQueryMs += ms;
      }
    },
    exec: (script: string) => q.exec(script),
  };
}
/** The Db with every query timed; a transaction's begin/commit is the part of it outside its queries. */
function timedDb(db: Db): Db {
  return {
    kind: db.kind,
    ...timedQueryable(db, false),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      const t = performance.now();
      let entered = t;
      let left = t;
      try {
        return await db.transaction(async (tx) => {
          entered = performance.now();
          try {
            return await fn(timedQueryable(tx, true));
          } finally {
            left = performance.now();
          }
        });
      } finally {
        const now = performance.now();
        txMs += now - t;
        txBeginCommitMs += entered - t + (now - left);
        txCount += 1;
      }
    },
    withAdvisoryLock: (key, fn) => db.withAdvisoryLock(key, fn),
    close: () => db.close(),
  };
}
function resetTimings() {
  timings.clear();
  txMs = 0;
  txCount = 0;
  txQueryMs = 0;
  txBeginCommitMs = 0;
}
function snapshotTimings() {
  return { kinds: new Map([...timings].map(([k, v]) => [k, { ...v }])), txMs, txCount, txQueryMs, txBeginCommitMs };
}
type Snapshot = ReturnType<typeof snapshotTimings>;

// ============================================================================ data
/** mulberry32: a small seeded PRNG, so every run loads the same values. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gaussian(rand: () => number) {
  const u = rand() || 1e-12;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

type AnomalyKind = 'spike' | 'dip' | 'level_shift';
interface SeriesModel {
  index: number;
  level: number;
  amplitude: number;
  phase: number;
  sigma: number;
  anomaly: { kind: AnomalyKind; start: number; minutes: number; size: number } | null;
}
/** Knuth multiplicative hash: ~1% of the series, spread over services and metrics. */
const isAnomalous = (i: number) => (Math.imul(i + 1, 2654435761) >>> 0) % 100 === 0;

function seriesModel(i: number, end: number): SeriesModel {
  const rand = prng(i * 7919 + 17);
  const level = 10 ** (1 + 2.5 * rand()); // 10 .. 3,000
  const sigma = level * (0.01 + 0.03 * rand());
  let anomaly: SeriesModel['anomaly'] = null;
  if (isAnomalous(i)) {
    const service = i % SERVICES;
    // Same-service anomalies start within a few minutes of each other, somewhere in the last hour.
    const start = end - (20 + ((service * 7) % 40)) * MINUTE + (i % 3) * MINUTE;
    const kind = (['spike', 'dip', 'level_shift'] as const)[Math.floor(i / SERVICES) % 3]!;
    anomaly = kind === 'level_shift' ? { kind, start, minutes: 10_000, size: 6 } : { kind, start, minutes: 1 + (i % 3), size: kind === 'spike' ? 10 : -10 };
  }
  return { index: i, level, amplitude: level * (0.05 + 0.2 * rand()), phase: 2 * Math.PI * rand(), sigma, anomaly };
}

/** The bucket average of a series at time t (deterministic in series and minute). */
function value(m: SeriesModel, t: number, rand: () => number): number {
  let v = m.level + m.amplitude * Math.sin((2 * Math.PI * (t % DAY)) / DAY + m.phase) + m.sigma * gaussian(rand);
  const a = m.anomaly;
  if (a && t >= a.start && t < a.start + a.minutes * MINUTE) v += a.size * m.sigma * (a.kind === 'level_shift' ? 1 : 1.5);
  return Math.max(0, v);
}

/** One COPY line of metric_rollups for bucket average v (6 points a minute, every 10 s). */
function rollupLine(projectId: string, seriesId: string, bucketIso: string, lastIso: string, v: number, rand: () => number, sigma: number): string {
  const spread = sigma * (0.5 + rand());
  const sum = v * 6;
  return `${projectId}\t${seriesId}\t1m\t${bucketIso}\t6\t${sum.toFixed(4)}\t${Math.max(0, v - spread).toFixed(4)}\t${(v + spread).toFixed(4)}\t${v.toFixed(4)}\t${lastIso}\t{}\n`;
}
const COPY_ROLLUPS = 'copy public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, sketch) from stdin';

async function copyLines(gen: () => AsyncGenerator<string> | Generator<string>) {
  const writable = await sql!.unsafe(COPY_ROLLUPS).writable();
  await pipeline(Readable.from(gen()), writable);
}

// ============================================================================ 1. database and tenant
async function setup() {
  await admin.unsafe(`create database ${dbName}`);
  created = true;
  const config = parseConfig({ OBSERVAI_MODE: 'local', DATABASE_URL: dbUrl.toString() });
  rawDb = createPostgresDb(dbUrl.toString(), { max: 4, applicationName: 'observai-abench' });
  await migrateDb(rawDb, config);
  const jwtSecret = randomBytes(36).toString('base64url'); // 48 characters
  const demo = await seedDemo({ db: rawDb, clock: fakeClock(new Date()) }, { jwtSecret });
  if (!demo) throw new Error('seedDemo returned null on a fresh database');
  sql = postgres(dbUrl.toString(), { max: 2, onnotice: () => {} });
  return { ...demo, jwtSecret };
}

// ============================================================================ 2. load
async function load(projectId: string, start: number, minutes: number) {
  const names: string[] = [];
  const tags: string[] = [];
  const fps: string[] = [];
  for (let i = 0; i < SERIES; i++) {
    names.push(METRIC_NAMES[Math.floor(i / SERVICES) % METRIC_NAMES.length]!);
    tags.push(JSON.stringify({ service: `svc-${String(i % SERVICES).padStart(2, '0')}`, host: `h${Math.floor(i / 1000)}`, shard: String(i) }));
    fps.push(`abench-${i}`);
  }
  const t0 = performance.now();
  const inserted = await sql!`
    insert into public.metric_series (project_id, name, type, tags, fingerprint)
    select ${projectId}, s.name, 'gauge', s.tags::jsonb, s.fingerprint
    from unnest(${names}::text[], ${tags}::text[], ${fps}::text[]) with ordinality as s(name, tags, fingerprint, ord)
    order by s.ord
    returning id::text as id, fingerprint`;
  const idByFp = new Map(inserted.map((r) => [r.fingerprint as string, r.id as string]));
  const ids = fps.map((f) => idByFp.get(f)!);
  const seriesSeconds = seconds(t0);

  const end = start + minutes * MINUTE;
  const models = ids.map((_, i) => seriesModel(i, end));
  const bucketIso: string[] = [];
  const lastIso: string[] = [];
  for (let k = 0; k < minutes; k++) {
    bucketIso.push(new Date(start + k * MINUTE).toISOString());
    lastIso.push(new Date(start + k * MINUTE + 50_000).toISOString());
  }
  const t1 = performance.now();
  let rows = 0;
  let nextReport = performance.now() + 15_000;
  await copyLines(function* () {
    for (let i = 0; i < ids.length; i++) {
      const m = models[i]!;
      const rand = prng(i * 104729 + 3);
      let chunk = '';
      for (let k = 0; k < minutes; k++) chunk += rollupLine(projectId, ids[i]!, bucketIso[k]!, lastIso[k]!, value(m, start + k * MINUTE, rand), rand, m.sigma);
      rows += minutes;
      if (performance.now() > nextReport) {
        process.stdout.write(`  ... ${fmt(rows)} rows (${fmt(rows / seconds(t1))} rows/s)\n`);
        nextReport = performance.now() + 15_000;
      }
      yield chunk;
    }
  });
  const copySeconds = seconds(t1);
  const t2 = performance.now();
  await sql!`vacuum analyze public.metric_series, public.metric_rollups`;
  const analyzeSeconds = seconds(t2);
  return { ids, models, rows, seriesSeconds, copySeconds, analyzeSeconds, end };
}

/** One more minute (bucket t) for every series. */
async function addMinute(projectId: string, ids: string[], models: SeriesModel[], t: number, step: number) {
  const b = new Date(t).toISOString();
  const l = new Date(t + 50_000).toISOString();
  await copyLines(function* () {
    let chunk = '';
    for (let i = 0; i < ids.length; i++) {
      const rand = prng(i * 104729 + 3 + step * 7_000_003);
      chunk += rollupLine(projectId, ids[i]!, b, l, value(models[i]!, t, rand), rand, models[i]!.sigma);
      if (chunk.length > 200_000) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  });
}

// ============================================================================ 3/4. scanning
interface ScanSummary {
  cutoff: string;
  series: number;
  skipped: number;
  points: number;
  episodesOpened: number;
  episodesClosed: number;
  complete: boolean;
}
interface Pass {
  wallMs: number;
  runs: number[];
  series: number;
  points: number;
  opened: number;
  closed: number;
  timing: Snapshot;
}

/** Runs the job until a run reports complete; returns wall time, per-run times and totals. */
async function scanUntilDone(deps: Parameters<typeof runJob>[0], label: string, verbose: boolean): Promise<Pass> {
  resetTimings();
  const runs: number[] = [];
  let series = 0;
  let points = 0;
  let opened = 0;
  let closed = 0;
  // Runs are bounded by the budget (BUDGET_MS), not by a series count.
  const maxRuns = 1000;
  const t0 = performance.now();
  for (;;) {
    const t = performance.now();
    const r = await runJob(deps, detectAnomalies, { budgetMs: BUDGET_MS });
    if (r.outcome !== 'ok') throw new Error(`${label}: detect-anomalies ${r.outcome}: ${r.error ?? JSON.stringify(r.summary)}`);
    const s = r.summary as unknown as ScanSummary;
    runs.push(performance.now() - t);
    series += s.series;
    points += s.points;
    opened += s.episodesOpened;
    closed += s.episodesClosed;
    if (verbose) console.log(`  run ${runs.length}: ${s.series} series, ${fmt(s.points)} points, ${s.episodesOpened} episodes opened, ${fmt(runs.at(-1)!)} ms`);
    if (s.complete) break;
    if (runs.length >= maxRuns) throw new Error(`${label}: not complete after ${runs.length} runs`);
  }
  return { wallMs: performance.now() - t0, runs, series, points, opened, closed, timing: snapshotTimings() };
}

function printBreakdown(title: string, passes: Pass[]) {
  // Sum over the passes, then show per pass (average) so one incremental step reads as one.
  const n = passes.length;
  const wall = passes.reduce((a, p) => a + p.wallMs, 0) / n;
  const kinds = new Map<string, Timing>();
  let txBC = 0;
  let txN = 0;
  for (const p of passes) {
    for (const [k, v] of p.timing.kinds) {
      const t = kinds.get(k) ?? { ms: 0, n: 0 };
      t.ms += v.ms / n;
      t.n += v.n / n;
      kinds.set(k, t);
    }
    txBC += p.timing.txBeginCommitMs / n;
    txN += p.timing.txCount / n;
  }
  console.log(`\n${title}: where the wall time goes (${n > 1 ? `mean of ${n} passes, ` : ''}${fmt(wall)} ms per pass)`);
  console.log(`  ${'part'.padEnd(40)} | ${'ms'.padStart(9)} | ${'share'.padStart(6)} | ${'calls'.padStart(8)} | ms/call`);
  let sqlMs = 0;
  const rows = [...kinds].sort((a, b) => b[1].ms - a[1].ms);
  for (const [k, v] of rows) {
    sqlMs += v.ms;
    console.log(`  ${k.padEnd(40)} | ${fmt(v.ms).padStart(9)} | ${((100 * v.ms) / wall).toFixed(1).padStart(5)}% | ${fmt(v.n).padStart(8)} | ${(v.ms / Math.max(1, v.n)).toFixed(2)}`);
  }
  const beginCommit = txBC;
  console.log(`  ${'begin + commit (incl. WAL flush)'.padEnd(40)} | ${fmt(beginCommit).padStart(9)} | ${((100 * beginCommit) / wall).toFixed(1).padStart(5)}% | ${fmt(txN).padStart(8)} | ${(beginCommit / Math.max(1, txN)).toFixed(2)}`);
  const outside = wall - sqlMs - beginCommit;
  console.log(`  ${'outside SQL (detector CPU, JSON)'.padEnd(40)} | ${fmt(outside).padStart(9)} | ${((100 * outside) / wall).toFixed(1).padStart(5)}% |          |`);
}

/** The detector alone over the same values (no database): the CPU floor of a scan. */
function detectorOnly(models: SeriesModel[], start: number, minutes: number, sample: number) {
  const n = Math.min(sample, models.length);
  let stateBytes = 0;
  let stringifyMs = 0;
  const t0 = performance.now();
  let stepMs = 0;
  for (let i = 0; i < n; i++) {
    const m = models[i]!;
    const rand = prng(i * 104729 + 3);
    const values = new Float64Array(minutes);
    for (let k = 0; k < minutes; k++) {
      values[k] = value(m, start + k * MINUTE, rand);
      rand(); // rollupLine's spread draw, so the values match the loaded ones
    }
    const s0 = performance.now();
    const state = createDetectorState({});
    for (let k = 0; k < minutes; k++) stepDetector(state, { timestamp: start + k * MINUTE, value: values[k]! });
    const s1 = performance.now();
    stepMs += s1 - s0;
    const text = JSON.stringify(state);
    stringifyMs += performance.now() - s1;
    stateBytes += text.length;
  }
  return { series: n, stepMs, stringifyMs, perSeriesMs: stepMs / n, pointsPerSecond: (n * minutes) / (stepMs / 1000), stateBytes: stateBytes / n, totalMs: performance.now() - t0 };
}

// ============================================================================ main
async function main() {
  const minutes = Math.round(HOURS * 60);
  console.log(`anomaly scanner benchmark: ${fmt(SERIES)} series x ${HOURS} h of 1m rollups (${fmt(SERIES * minutes)} rows), ${INCREMENTS} incremental steps; database ${dbName}`);
  const demo = await setup();

  // The last loaded bucket is `end - 1 min`; it is complete and settled once now >= end + 1 min.
  const end = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
  const start = end - minutes * MINUTE;
  const loaded = await load(demo.projectId, start, minutes);
  console.log(
    `load: ${fmt(loaded.rows)} rollup rows COPYed in ${loaded.copySeconds.toFixed(1)} s (${fmt(loaded.rows / loaded.copySeconds)} rows/s); ` +
      `${fmt(SERIES)} series inserted in ${loaded.seriesSeconds.toFixed(1)} s; vacuum analyze ${loaded.analyzeSeconds.toFixed(1)} s`,
  );

  const clock = fakeClock(new Date(end + MINUTE));
  const config = parseConfig({ OBSERVAI_MODE: 'local', DATABASE_URL: dbUrl.toString(), JWT_SECRET: demo.jwtSecret });
  const db = timedDb(rawDb!);
  const deps = createNodeDeps(config, { logger: silentLogger, clock, db });

  // ---- 3. initial scan
  console.log(`\ninitial scan (clock ${clock.now().toISOString()}, budget ${fmt(BUDGET_MS)} ms per run, batches of up to ${SCANNER.maxBatchSeries} series):`);
  const initial = await scanUntilDone(deps, 'initial scan', true);
  const [check] = await sql!`select count(*)::int as n, count(*) filter (where last_bucket = ${new Date(end - MINUTE)})::int as current,
                                    avg(pg_column_size(state))::int as state_bytes from private.anomaly_detector_states`;
  if (check!.n !== SERIES || check!.current !== SERIES) throw new Error(`after the initial scan ${check!.n} states, ${check!.current} up to date (want ${SERIES})`);
  const initialSeriesPerSecond = initial.series / (initial.wallMs / 1000);
  printBreakdown('initial scan', [initial]);

  // ---- 4. incremental steps
  const incremental: Pass[] = [];
  const copyMs: number[] = [];
  for (let step = 1; step <= INCREMENTS; step++) {
    const bucket = end - MINUTE + step * MINUTE;
    const t = performance.now();
    await addMinute(demo.projectId, loaded.ids, loaded.models, bucket, step);
    copyMs.push(performance.now() - t);
    clock.advance(MINUTE);
    const p = await scanUntilDone(deps, `incremental ${step}`, false);
    const [c] = await sql!`select count(*) filter (where last_bucket = ${new Date(bucket)})::int as current from private.anomaly_detector_states`;
    if (c!.current !== SERIES) throw new Error(`incremental ${step}: ${c!.current} of ${SERIES} series up to date`);
    if (p.points !== SERIES) throw new Error(`incremental ${step}: ${p.points} points scored, want ${SERIES}`);
    incremental.push(p);
    console.log(`incremental ${step}: ${fmt(p.wallMs)} ms for ${fmt(p.series)} series in ${p.runs.length} runs (${p.runs.map((r) => fmt(r)).join(' / ')} ms); COPY of the minute ${fmt(copyMs.at(-1)!)} ms`);
  }
  printBreakdown('incremental step', incremental);

  const [totals] = await sql!`select (select count(*) from public.anomaly_episodes)::int as episodes,
                                     (select count(*) from public.anomaly_episodes e join public.metric_series s on s.id = e.series_id
                                        where s.fingerprint = any(${loaded.ids.map((_, i) => i).filter(isAnomalous).map((i) => `abench-${i}`)}::text[]))::int as on_injected,
                                     (select count(*) from public.anomaly_incidents)::int as incidents,
                                     (select count(*) from public.anomaly_incidents where member_count > 1)::int as multi`;
  const injected = loaded.models.filter((m) => m.anomaly).length;
  const [sizes] = await sql!`select pg_total_relation_size('partitions.metric_rollups_1m')::bigint as rollups,
                                    pg_total_relation_size('private.anomaly_detector_states')::bigint as states`;

  const det = DETECTOR_ONLY ? detectorOnly(loaded.models, start, minutes, Math.min(SERIES, 500)) : null;

  const incMedian = median(incremental.map((p) => p.wallMs));
  const runsMedian = median(incremental.map((p) => p.runs.length));
  console.log('\n| figure | value |');
  console.log('| --- | ---: |');
  console.log(`| series x minutes loaded | ${fmt(SERIES)} x ${fmt(minutes)} = ${fmt(loaded.rows)} rows (1m partition ${fmt(Number(sizes!.rollups) / 2 ** 20)} MiB) |`);
  console.log(`| load (COPY) | ${loaded.copySeconds.toFixed(1)} s, ${fmt(loaded.rows / loaded.copySeconds)} rows/s |`);
  console.log(`| initial scan | ${(initial.wallMs / 1000).toFixed(1)} s in ${initial.runs.length} runs (median run ${fmt(median(initial.runs))} ms) |`);
  console.log(`| initial scan rate | ${fmt(initialSeriesPerSecond, 1)} series/s, ${fmt(initial.points / (initial.wallMs / 1000))} points/s |`);
  console.log(`| saved state per series | ${fmt(check!.state_bytes)} bytes (jsonb, stored) |`);
  console.log(`| incremental: all ${fmt(SERIES)} series up to date | median ${fmt(incMedian)} ms over ${INCREMENTS} steps (${incremental.map((p) => fmt(p.wallMs)).join(', ')}), ${runsMedian} runs each |`);
  console.log(`| incremental per run | median ${fmt(median(incremental.flatMap((p) => p.runs)))} ms (budget ${fmt(BUDGET_MS)} ms per run) |`);
  console.log(`| COPY of one minute for all series | median ${fmt(median(copyMs))} ms |`);
  console.log(`| episodes / on injected series (${injected}) / incidents (with >1 member) | ${initial.opened + incremental.reduce((a, p) => a + p.opened, 0)} opened: ${totals!.episodes} stored, ${totals!.on_injected} on injected / ${totals!.incidents} (${totals!.multi}) |`);
  if (det) {
    console.log(`| detector only, in process (${det.series} series x ${fmt(minutes)} points) | ${det.perSeriesMs.toFixed(2)} ms per series, ${fmt(det.pointsPerSecond)} points/s; JSON.stringify ${(det.stringifyMs / det.series).toFixed(3)} ms, ${fmt(det.stateBytes)} chars per state |`);
    console.log(`| detector CPU share of the initial scan (estimate) | ${((100 * det.perSeriesMs * initial.series) / initial.wallMs).toFixed(0)}% |`);
  }
  console.log('');
  console.log(`anomalies: ${fmt(initialSeriesPerSecond, 1)} series/s scanned, ${Math.round(incMedian)} ms per incremental run`);
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanup();
}
