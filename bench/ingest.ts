/**
 * `npm run bench:ingest`: ingest throughput end to end, against its own ceiling.
 *
 * 1. Creates a fresh database on the local Postgres (DATABASE_URL's server, default
 *    postgres://postgres@127.0.0.1:5432/postgres) and starts the gateway on it with Redis (REDIS_URL,
 *    default redis://127.0.0.1:6379), as `npm start` would, in its own process.
 * 2. Per scenario (metrics, logs, mix = 70% metric points, 25% logs, 5% spans), a separate load
 *    process posts batches of BATCH (default 1,000) events with CONCURRENCY clients for SECONDS
 *    (default 20): the maximum rate; then again paced at half that rate, requests spread evenly, for
 *    the latency figure. SCENARIOS (default metrics,logs,mix) picks them, in order, repeats allowed.
 *    Each phase starts on a vacuumed database (see settle()).
 * 3. The raw ceiling: the same kind of rows COPYed straight into the same tables (same indexes) in
 *    the same database, rows/s, by COPY_STREAMS (default 2, this machine's cores) concurrent COPY
 *    statements: one COPY runs in one backend, so on the logs table (tsvector and GIN work in
 *    Postgres) a single stream was no ceiling at all for ingest's concurrent transactions.
 * Prints a table and one line per scenario:
 *   ingest <scenario>: <N> events/s, p95 <ms> ms, <R>% of raw COPY ceiling (<C> rows/s)
 * and, where /proc exists (Linux), the CPU each part used per event at the maximum rate: the gateway
 * (all its processes), Postgres (all its processes), Redis and the load generator. On this shared
 * machine throughput swings by a third from run to run; CPU per event moves far less, so it is the
 * figure to compare changes by.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { logEvent, metricEvent, type Scenario, spanEvent } from './workload.ts';
// QUOTAS=ab: quotas on and off in the same run (see startGateway below).

const SECONDS = Number(process.env.SECONDS ?? 20);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const BATCH = Number(process.env.BATCH ?? 1000);
const SCENARIOS = (process.env.SCENARIOS ?? 'metrics,logs,mix').split(',') as Scenario[];
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const port = 54400 + (process.pid % 500);

const dbName = `observai_bench_${Date.now()}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;
const dataDir = mkdtempSync(join(tmpdir(), 'observai-bench-'));
/** Deletes the product's Redis keys (`oai:*`, and `{oai:*}` for the bloom filters' hash-tagged keys). */
function clearRedis() {
  try {
    const script = "for _, p in ipairs({'oai:*', '{oai:*'}) do for _, k in ipairs(redis.call('keys', p)) do redis.call('del', k) end end";
    execFileSync('redis-cli', ['-u', redisUrl, 'eval', script, '0'], { stdio: 'ignore' });
  } catch {
    // no redis-cli: stale keys only cost extra dedup confirmations (and memory, until they expire)
  }
}
clearRedis();

const gatewayArgs = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
/**
 * QUOTAS=ab (docs/BILLING.md): a second gateway on the same database with BILLING_QUOTAS=false, the
 * demo organization on a plan that blocks at a limit never reached (so the first gateway checks its
 * quota counters on every request), and each scenario's maximum rate measured on both, alternating
 * off/on QUOTA_PAIRS times (default 3) in the same run. Prints one line per pair and the medians.
 */
const QUOTAS_AB = process.env.QUOTAS === 'ab';
function startGateway(p: number, extra: Record<string, string>) {
  return spawn(process.execPath, [...gatewayArgs, '--import', 'tsx', 'scripts/gateway.ts'], {
    env: { ...process.env, DATABASE_URL: dbUrl.toString(), REDIS_URL: redisUrl, OBSERVAI_DATA_DIR: dataDir, PORT: String(p), LOG_LEVEL: 'warn', LOG_FORMAT: 'json', SCHEDULER_ENABLED: 'false', DEMO_DATA: 'false', DB_POOL_MAX: process.env.DB_POOL_MAX ?? '10', GATEWAY_WORKERS: process.env.GATEWAY_WORKERS ?? '2', ...extra },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
async function waitHealthy(url: string) {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // starting
    }
    if (i > 300) throw new Error('gateway did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
}
const gateway = startGateway(port, {});
const base = `http://127.0.0.1:${port}/functions/v1/ingest`;
await waitHealthy(base);
const offPort = port + 500;
const gatewayOff = QUOTAS_AB ? startGateway(offPort, { BILLING_QUOTAS: 'false', SEED_DEMO: 'false' }) : undefined;
const baseOff = `http://127.0.0.1:${offPort}/functions/v1/ingest`;
if (gatewayOff) await waitHealthy(baseOff);
const demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')) as { apiKey: string; projectId: string; organizationId: string };
// Lift the demo project's limits out of the way of a throughput test.
const COPY_STREAMS = Number(process.env.COPY_STREAMS ?? 2);
const sql = postgres(dbUrl.toString(), { max: Math.max(2, COPY_STREAMS), onnotice: () => {} });
await sql`insert into public.project_ingest_settings (project_id, organization_id, max_series, requests_per_minute, events_per_minute)
          values (${demo.projectId}, ${demo.organizationId}, 100000, 1000000, 1000000000)`;
if (QUOTAS_AB) {
  // Blocks at a limit no run reaches: every request moves and checks its quota counters.
  await sql`insert into public.billing_plans (id, name, organization_id, retention_days_limit, metrics_events_limit, metrics_policy, logs_events_limit, logs_policy, traces_events_limit, traces_policy)
            values ('bench-quotas', 'Bench', ${demo.organizationId}, 400, 1000000000000, 'block', 1000000000000, 'block', 1000000000000, 'block')`;
  await sql`update public.organizations set plan = 'bench-quotas' where id = ${demo.organizationId}`;
}

interface LoadResult {
  cpuMicros: number;
  events: number;
  eventsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  failures: number;
  statuses: Record<string, number>;
}

function load(scenario: Scenario, seconds: number, rate = 0, url = base): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('node_modules/.bin/tsx', ['bench/load.ts', url, demo.apiKey, scenario, String(seconds), String(CONCURRENCY), String(BATCH), String(rate)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`load exited ${code}`))));
  });
}

/**
 * CPU time (µs) used so far by the processes of each part, read from /proc, in all and in the kernel
 * (system time: on loopback a socket write also runs the receiver's TCP path); null without /proc.
 */
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);
type Cpu = { cpu: number; sys: number };
function partsCpu(): Record<'gateway' | 'postgres' | 'redis', Cpu> | null {
  try {
    const stat = (pid: string) => {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
        return { comm: f.slice(f.indexOf('(') + 1, f.lastIndexOf(')')), ppid: fields[1]!, cpu: (Number(fields[11]) + Number(fields[12])) * TICK_US, sys: Number(fields[12]) * TICK_US };
      } catch {
        return undefined; // exited meanwhile
      }
    };
    const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((pid) => ({ pid, ...stat(pid) }));
    const sum = (pred: (p: (typeof all)[number]) => boolean) =>
      all.filter(pred).reduce((a, p) => ({ cpu: a.cpu + (p.cpu ?? 0), sys: a.sys + (p.sys ?? 0) }), { cpu: 0, sys: 0 });
    const gw = String(gateway.pid);
    return { gateway: sum((p) => p.pid === gw || p.ppid === gw), postgres: sum((p) => p.comm === 'postgres'), redis: sum((p) => p.comm === 'redis-server') };
  } catch {
    return null;
  }
}

const tsv = (v: unknown) => (v === null || v === undefined ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'));
const iso = (ms: number) => new Date(ms).toISOString();

/** COPY `rows` rows of the scenario's shape straight into the tables; returns rows/s. */
async function copyCeiling(scenario: Scenario, rows: number, phase: number): Promise<number> {
  const series = (await sql`select id from public.metric_series where project_id = ${demo.projectId} order by id limit 1000`).map((r) => r.id as string);
  const p = demo.projectId;
  // Event numbers no load process uses (they stay below 1e8), and new ones for each phase (a scenario
  // may be listed twice): the same rows twice would be the same events, which the unique indexes of
  // migration ..2600 refuse.
  const offset = 5e8 * (1 + phase);
  const counts = scenario === 'metrics' ? { m: rows, l: 0, s: 0 } : scenario === 'logs' ? { m: 0, l: rows, s: 0 } : { m: Math.round(rows * 0.7), l: Math.round(rows * 0.25), s: rows - Math.round(rows * 0.7) - Math.round(rows * 0.25) };
  const started = performance.now();
  /** Rows [0, n) in COPY_STREAMS concurrent COPY statements, each a contiguous share. */
  const copy = async (statement: string, n: number, line: (i: number) => string) => {
    if (n === 0) return;
    const chunk = 2000;
    const stream = async (from: number, to: number) => {
      const writable = await sql.unsafe(statement).writable();
      async function* gen() {
        for (let i = from; i < to; i += chunk) {
          let s = '';
          for (let j = i; j < Math.min(to, i + chunk); j++) s += line(j);
          yield s;
        }
      }
      await pipeline(Readable.from(gen()), writable);
    };
    const share = Math.ceil(n / COPY_STREAMS);
    await Promise.all(Array.from({ length: COPY_STREAMS }, (_, k) => stream(k * share, Math.min(n, (k + 1) * share))));
  };
  await copy('copy public.metric_points (project_id, series_id, time, value, event_key) from stdin', counts.m, (i) => {
    const e = metricEvent(offset + i);
    return `${p}\t${series[i % series.length]}\t${iso(e.timestamp)}\t${e.value}\t${offset + i}\n`;
  });
  await copy('copy public.logs (project_id, time, level, service, message, attributes, resource, trace_id, event_key) from stdin', counts.l, (i) => {
    const e = logEvent(offset + i);
    return `${p}\t${iso(e.timestamp)}\t${e.level}\t${e.service}\t${tsv(e.message)}\t${tsv(JSON.stringify(e.attributes))}\t{}\t${e.trace_id}\t${offset + i}\n`;
  });
  await copy(
    'copy public.spans (project_id, trace_id, span_id, name, service, start_time, end_time, duration_ms, kind, status, attributes, event_key) from stdin',
    counts.s,
    (i) => {
      const e = spanEvent(offset + i);
      return `${p}\t${e.trace_id}\t${e.span_id}\t${e.name}\t${e.service}\t${iso(e.start)}\t${iso(e.start + e.duration)}\t${e.duration}\t${e.kind}\t${e.status}\t${tsv(JSON.stringify(e.attributes))}\t${offset + i}\n`;
    },
  );
  return rows / ((performance.now() - started) / 1000);
}

if (QUOTAS_AB) {
  const pairs = Number(process.env.QUOTA_PAIRS ?? 3);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const scenario of SCENARIOS) {
    const off: LoadResult[] = [];
    const on: LoadResult[] = [];
    for (let i = 0; i < pairs; i++) {
      await settle();
      off.push(await load(scenario, SECONDS, 0, baseOff));
      await settle();
      on.push(await load(scenario, SECONDS, 0, base));
      const bad = (r: LoadResult) => (r.failures ? ` (non-2xx: ${JSON.stringify(r.statuses)})` : '');
      console.log(`quotas ${scenario} pair ${i + 1}: off ${off[i]!.eventsPerSecond.toFixed(0)} events/s p95 ${off[i]!.p95.toFixed(1)} ms${bad(off[i]!)} | on ${on[i]!.eventsPerSecond.toFixed(0)} events/s p95 ${on[i]!.p95.toFixed(1)} ms${bad(on[i]!)}`);
    }
    const m = (rs: LoadResult[], k: 'eventsPerSecond' | 'p95') => median(rs.map((r) => r[k]));
    console.log(
      `quotas ${scenario}: off ${m(off, 'eventsPerSecond').toFixed(0)} events/s (p95 ${m(off, 'p95').toFixed(1)} ms), on ${m(on, 'eventsPerSecond').toFixed(0)} events/s (p95 ${m(on, 'p95').toFixed(1)} ms), medians of ${pairs} alternating pairs`,
    );
  }
  gatewayOff!.kill('SIGTERM');
  gateway.kill('SIGTERM');
  await Promise.all([new Promise((r) => gateway.once('exit', r)), new Promise((r) => gatewayOff!.once('exit', r))]);
  await sql.end();
  await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
  clearRedis();
  process.exit(0);
}

const summary: string[] = [];
const cpuLines: string[] = [];
console.log(`scenario  | events/s (max) | p50 ms | p95 ms | p99 ms | p95 ms @ half rate | COPY rows/s | % of ceiling`);
/**
 * Each measured phase starts on a vacuumed database, as pgbench starts its runs: VACUUM ANALYZE of
 * the tables the phases write (which also empties the GIN pending lists). Otherwise the autovacuum
 * the previous phase's millions of rows set off runs during the next phase (the logs p95 at half rate
 * measured 289 ms after the metrics scenario, 100-108 ms alone). No CHECKPOINT: the full-page images
 * every first write after one costs would load the phase that follows it instead.
 */
async function settle() {
  await sql.unsafe('vacuum analyze public.metric_points, public.metric_series, public.logs, public.spans, public.ingest_usage');
}

for (const [phase, scenario] of SCENARIOS.entries()) {
  await settle();
  const before = partsCpu();
  const max = await load(scenario, SECONDS);
  const after = partsCpu();
  await settle();
  const half = await load(scenario, SECONDS, max.eventsPerSecond / 2);
  await settle();
  const ceiling = await copyCeiling(scenario, scenario === 'metrics' ? 1_000_000 : 300_000, phase);
  const pct = (100 * max.eventsPerSecond) / ceiling;
  console.log(
    `${scenario.padEnd(9)} | ${max.eventsPerSecond.toFixed(0).padStart(14)} | ${max.p50.toFixed(1).padStart(6)} | ${max.p95.toFixed(1).padStart(6)} | ${max.p99.toFixed(1).padStart(6)} | ${half.p95.toFixed(1).padStart(18)} | ${ceiling.toFixed(0).padStart(11)} | ${pct.toFixed(0).padStart(5)}%` +
      (max.failures || half.failures ? `  (non-2xx: ${JSON.stringify(max.statuses)} / ${JSON.stringify(half.statuses)})` : ''),
  );
  if (before && after) {
    const per = (k: keyof typeof before) => ({ cpu: (after[k].cpu - before[k].cpu) / max.events, sys: (after[k].sys - before[k].sys) / max.events });
    const parts = { gateway: per('gateway'), postgres: per('postgres'), redis: per('redis') };
    const load = max.cpuMicros / max.events;
    const total = Object.values(parts).reduce((a, b) => a + b.cpu, load);
    cpuLines.push(
      `cpu ${scenario}: µs per event at the maximum rate (kernel part): ${Object.entries(parts).map(([k, v]) => `${k} ${v.cpu.toFixed(1)} (${v.sys.toFixed(1)})`).join(', ')}, load ${load.toFixed(1)}; total ${total.toFixed(1)}`,
    );
  }
  summary.push(`ingest ${scenario}: ${max.eventsPerSecond.toFixed(0)} events/s, p95 ${half.p95.toFixed(1)} ms, ${pct.toFixed(0)}% of raw COPY ceiling (${ceiling.toFixed(0)} rows/s)`);
}
console.log('');
for (const line of cpuLines) console.log(line);
for (const line of summary) console.log(line);

gateway.kill('SIGTERM');
await new Promise((r) => gateway.once('exit', r));
await sql.end();
await admin.unsafe(`drop database if exists ${dbName} with (force)`);
await admin.end();
rmSync(dataDir, { recursive: true, force: true });
clearRedis(); // the run's bloom filters hold megabytes for 25 hours otherwise
