/**
 * `npm run bench:alerts`: the alerting pipeline at size. Rule evaluation per run, the dispatcher's
 * delivery rate to local receivers, and the delay from a threshold crossed through ingest to the
 * notification at the receiver, with the scheduler's real cadence played on a fake clock.
 *
 * 1. Creates a fresh database on the local Postgres (DATABASE_URL's server, default
 *    postgres://postgres@127.0.0.1:5432/postgres) with the harness (migrations, demo tenant: project
 *    and ingest+read API key). The gateway app runs in this process (app.request, no socket) on its own
 *    pool, with a fake clock, OUTBOUND_ALLOW_PRIVATE for the receivers and a SECRET_ENCRYPTION_KEY;
 *    the jobs run through runJob() on another pool whose every statement is timed (as bench:anomalies);
 *    both pools have DB_POOL_MAX connections (default 10, the product's default).
 *    Recording receivers (RECEIVERS local HTTP servers, default 4, answering 200 at once) run in a
 *    child process (this file with `--receivers`), so their CPU is not counted in the dispatcher's wall
 *    time; they stamp each request's arrival and hand the records over IPC after every tick.
 * 2. Through the alerts API as the project owner: CONTACT_POINTS webhook contact points (default 20,
 *    cp00.., spread over the receivers) plus a `probeN` contact point per 10 probes (deliverDue sends at
 *    most 10 per contact point a pass: probes do not queue behind each other); a notification policy
 *    grouping by alertname and host, DEFAULT timers (group_wait 30s, group_interval 5m, repeat 4h),
 *    one child route per contact point (team="tNN", and probe="true" with the probe's host); RULES
 *    metric rules (default 500) in one PUT /rules.
 *    Data: SERIES gauge series (default 1,000) = 10 metrics (bench.cpu, bench.mem, ...) x SERIES/10
 *    hosts (h0000..), tags {host, shard}; a shard is 20 hosts of a metric (fewer when SERIES/10 < 20).
 *    Rule r watches metric r % 10, shard floor(r / 10) % shards, grouped by host (avg over 5m, the
 *    defaults), threshold `> 10 + level` (level floor(r / (10 x shards)) = 0..9), which every value
 *    (35-65) crosses: RULES x 20 = 10,000 firing instances. Every point goes through the real ingest
 *    path (POST /functions/v1/ingest with the API key): 6 points a minute per series, one request per
 *    10 s mark with every series' point. HISTORY minutes (default 5) are ingested first (then ANALYZE,
 *    what autovacuum would have done by then).
 *    Plus 2 x PROBES `bench.probe` series (default 20 each; hosts pa.., pb..) at 10, and one probe
 *    rule over them: max over PROBE_WINDOW (default 5m) `> 100`, grouped by host (max/max, so one
 *    point over the threshold fires it: the delay measured is the pipeline's, not a rule's
 *    arithmetic). It is rule RULES + 1.
 * 3. Runs: RUNS fake minutes (default 6), each at a minute boundary B: aggregate-metrics (runJob),
 *    then evaluate-alerts (runJob, timed) WHILE the minute's points are ingested (6 requests stamped
 *    B, B+10 s, ... B+50 s, sent one after the other during the evaluation, so evaluation shares the
 *    machine with ingest), then the dispatcher's run of that minute: dispatchTick() at the fake times
 *    runDispatch would tick (below). Run 0 is the first evaluation (it creates the instances) and is
 *    reported apart; evaluation p50/p95 are over the later runs. The first evaluation's instances
 *    make 10,000 groups whose group_wait ends together: the storm (past the dispatcher's storm cap, 30
 *    notifications a minute per contact point, a flush is folded into one summary per contact point
 *    and tick). More minutes follow (up to DRAIN_MINUTES, default 10) until none is pending.
 *    Dispatch rate: the storm's notifications / (fake time from the tick that created them to the last
 *    arrival at a receiver), i.e. as fast as receivers get them under the job's real cadence; also
 *    printed: the machine's rate with ticks back to back (notifications / wall time of the ticks that
 *    sent), and deliverDue's own part of those ticks.
 * 4. Threshold-to-notification, with the real timing model, simulated on the fake clock (next
 *    paragraph), once per order of the two minute jobs: A = aggregate-metrics then evaluate-alerts,
 *    B = evaluate-alerts then aggregate-metrics. In production both start at the same minute boundary
 *    (the Node scheduler and pg_cron align them) and race, so either order happens; B is the worse.
 *    In one minute M0, PROBES probe series cross the threshold, probe i at M0 + (i + 0.5) x 60 s /
 *    PROBES (offsets spread over the minute): one point of 500 ingested at that fake time, and 500 in
 *    every later point. The delay of probe i is (fake time its firing notification reached the
 *    receiver) - (its crossing point's time); printed per order (p50, p95, max) and per probe with the
 *    steps (fired, group created, notification created). The final line takes the worse order's p95.
 *
 * How the cadence is simulated (step 4): the scheduler's activities, each started at its own time and
 * run concurrently with whatever else runs then, as in production (one Node process, 2 cores,
 * Postgres). The clock is live in this phase: real time plus an offset, so time flows at the real
 * rate while something runs; when nothing runs, the offset jumps to the next activity (idle gaps
 * cost no wall time). Activities:
 *  - minute jobs at every boundary (aligned to the minute, as the Node scheduler and pg_cron run
 *    them): aggregate-metrics and evaluate-alerts, one after the other in the order under test,
 *    through runJob with its default budget (48 s); the next run at the first boundary after they end;
 *  - the dispatcher job from every boundary B, ticking as runDispatch does: a tick, the next one 5 s
 *    after the previous one started (at once when a tick took longer), until a tick ends within 5 s of
 *    B + 48 s (the budget): ticks at :00, :05, ... :45 and none from :45 to the next minute; each
 *    tick is a real dispatchTick() (every project's grouping, then the delivery passes; called
 *    without runDispatch's in-flight set, so a tick ends when its sends have answered, which the
 *    receivers here do at once); its next run at the first boundary after its last tick ends;
 *  - ingest: the bulk request at every 10 s mark, and each probe's crossing point at its own time.
 * So at a boundary the tick at :00 runs alongside the minute jobs and usually misses what they fire;
 * the tick at :05 (or the first after the evaluation committed) creates the group. A receiver's
 * arrival time is its own clock mapped onto the live fake clock. The table of each probe's steps and
 * the schedule of the minutes played are printed.
 * Step 3's ticks are placed in fake time as runDispatch would (from B) but run after the minute's jobs
 * in wall time, one at a time: their figures are the dispatcher's own, without the jobs alongside.
 *
 * Where the time goes: every statement of the jobs (aggregate, evaluate, dispatch) goes through a
 * timing wrapper of their Db, grouped by statement kind, plus begin/commit; "outside SQL" is the rest
 * of the wall time (for dispatch the HTTP sends are timed apart: wall time with a request in flight).
 * Printed for the steady evaluation runs, the first one, and the dispatcher's tick kinds (storm
 * flush, delivering, idle). Also the alert tables' sizes and dead rows after the runs.
 * Ends with exactly one line:
 *   alerts: evaluation p95 <ms> ms per run (<rules> rules, <instances> instances), dispatch <N>/s, threshold-to-notification p95 <s> s
 * Knobs: RULES (500), SERIES (1000, a multiple of 10), RUNS (6; p95 is nearest-rank, so below 21
 * runs it is the slowest of the later runs), HISTORY (5), PROBES (20 per order, 0 skips step 4),
 * PROBE_WINDOW (5m), CONTACT_POINTS (20), RECEIVERS (4), DRAIN_MINUTES (10), LATENCY_MINUTES (6,
 * the longest a latency order is played before giving up on its missing probes), DB_POOL_MAX (10).
 * KEEP_DB=1 keeps the database (its name is printed) for EXPLAIN ANALYZE afterwards.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dispatchTick } from '../src/alerts/dispatch-notifications.ts';
import { evaluateAlertsAfterRollups as evaluateAlerts } from '../src/app/jobs.ts';
import { createGatewayApp } from '../src/app/app.ts';
import { signJwt } from '../src/auth/jwt.ts';
import { type Clock, fakeClock } from '../src/core/clock.ts';
import { parseConfig } from '../src/core/config.ts';
import { createPostgresDb } from '../src/db/postgres.ts';
import type { Db, Queryable } from '../src/db/types.ts';
import { runJob } from '../src/jobs/run-job.ts';
import { aggregateMetrics } from '../src/metrics/aggregate-metrics.ts';
import type { OutboundGuard } from '../src/net/outbound.ts';
import { createNodeDeps } from '../src/node/deps.ts';
import { createNodeLogger } from '../src/node/logger.ts';
import { type BenchDatabase, createBenchDatabase, fmt, percentile } from './harness.ts';

const RULES = Number(process.env.RULES ?? 500);
const SERIES = Number(process.env.SERIES ?? 1000);
const RUNS = Number(process.env.RUNS ?? 6);
const HISTORY = Number(process.env.HISTORY ?? 5);
const PROBES = Number(process.env.PROBES ?? 20);
const CONTACT_POINTS = Number(process.env.CONTACT_POINTS ?? 20);
const RECEIVERS = Number(process.env.RECEIVERS ?? 4);
const DRAIN_MINUTES = Number(process.env.DRAIN_MINUTES ?? 10);
const LATENCY_MINUTES = Number(process.env.LATENCY_MINUTES ?? 6);
/** The probe rule's window (a rule's window ends with the current minute, see evaluate-rule.ts minuteWindow). */
const PROBE_WINDOW = process.env.PROBE_WINDOW ?? '5m';

const S = 1000;
const MIN = 60 * S;
const TICK_MS = 5 * S; // dispatch-notifications.ts TICK_MS
const JOB_BUDGET_MS = Math.min(60 * S * 0.8, 50 * S); // runJob's default budget for a 60 s job
const METRICS = ['bench.cpu', 'bench.mem', 'bench.disk', 'bench.net', 'bench.load', 'bench.iops', 'bench.temp', 'bench.conn', 'bench.queue', 'bench.latency'];
const HOSTS = SERIES / METRICS.length;
const GROUP = Math.min(20, HOSTS);
const SHARDS = Math.floor(HOSTS / GROUP);
const PROBE_LOW = 10;
const PROBE_HIGH = 500;
const BATCH_POINTS = 5000;
/** Connections of each pool (the gateway's, the jobs'): DB_POOL_MAX, the product's default 10. */
const POOL = Number(process.env.DB_POOL_MAX ?? 10);

/** Arrival records from the receivers' process. */
interface Arrival {
  /** Epoch ms (performance.timeOrigin + performance.now() in the receivers' process). */
  at: number;
  path: string;
  type: string;
  alerts: number;
  /** A storm summary's count of folded notifications (0 otherwise), and alerts left out of the list. */
  folded: number;
  truncated: number;
  /** Hosts of the firing alerts (probe contact point only). */
  hosts?: string[];
}
const epochNow = () => performance.timeOrigin + performance.now();

// ============================================================================ receivers (child process)
async function receiversMain(n: number) {
  let buf: Arrival[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = epochNow();
        const rec: Arrival = { at, path: req.url ?? '', type: 'unparsable', alerts: 0, folded: 0, truncated: 0 };
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            type: string;
            data: { alerts: Array<{ status: string; labels: Record<string, string> }>; folded?: number; truncatedAlerts?: number };
          };
          rec.type = body.type;
          rec.alerts = body.data.alerts.length;
          rec.folded = body.data.folded ?? 0;
          rec.truncated = body.data.truncatedAlerts ?? 0;
          if (rec.path === '/probe') rec.hosts = body.data.alerts.filter((a) => a.status === 'firing').map((a) => a.labels.host!);
        } catch {
          // counted as unparsable
        }
        buf.push(rec);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.push((server.address() as AddressInfo).port);
  }
  process.on('message', (m: { type: string; id: number }) => {
    if (m.type !== 'sync') return;
    process.send!({ type: 'records', id: m.id, records: buf });
    buf = [];
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', ports });
}

interface Receivers {
  ports: number[];
  /** Every request recorded since the last sync (all answered requests: the sender awaited the answer). */
  sync(): Promise<Arrival[]>;
  stop(): void;
}

async function startReceivers(n: number): Promise<Receivers> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--receivers', String(n)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (r: Arrival[]) => void>();
  let nextId = 0;
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receivers exited with ${code}`)));
    child.on('message', (m: { type: string; id?: number; ports?: number[]; records?: Arrival[] }) => {
      if (m.type === 'ready') resolve(m.ports!);
      else if (m.type === 'records') {
        waiting.get(m.id!)?.(m.records!);
        waiting.delete(m.id!);
      }
    });
  });
  child.removeAllListeners('exit');
  return {
    ports,
    sync: () =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        child.send({ type: 'sync', id });
      }),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

// ============================================================================ statement timing
/** Statement kinds the jobs issue, by a distinctive fragment of their text (first match wins). */
const KINDS: [string, RegExp][] = [
  ['set role + claims (prelude)', /^\s*select set_config\('role'/],
  ['job_runs bookkeeping', /private\.job_runs/],
  ['aggregate: 1m from raw points', /from public\.metric_points p join public\.metric_series/],
  ['aggregate: histogram 1m', /metric_histogram/],
  ['aggregate: 5m/1h/1d from finer', /from public\.metric_rollups r, /],
  ['aggregate: metric totals', /rollup_metric_totals/],
  ['aggregate: horizon, usage, watermark', /ingest_usage|rollup_state|pg_current_snapshot|pg_stat_activity/],
  ['claim due rules', /with due as/],
  ['metric query: match series', /from public\.metric_series s\s+where s\.project_id/],
  ['metric query: read rollups', /join public\.metric_rollups r/],
  ['metric query: totals', /public\.metric_totals|public\.metric_group_totals/],
  ['load rule instances (for update)', /from public\.alert_instances where rule_id = \$1 for update/],
  ['resolve orphans', /with orphan as/],
  ['prune resolved', /delete from public\.alert_instances i/],
  ['write instances (upsert)', /insert into public\.alert_instances/],
  ['delete instances', /delete from public\.alert_instances where/],
  ['write transitions', /insert into public\.alert_transitions/],
  ['record evaluation', /update public\.alert_rules set last_eval_at/],
  ['projects to dispatch', /union select project_id from public\.alert_groups/],
  ['load project + policy', /left join public\.notification_policies/],
  ['load alerts', /from public\.alert_instances where project_id = \$1 and state in/],
  ['load silences', /from public\.alert_silences/],
  ['load groups (for update)', /from public\.alert_groups where project_id = \$1 for update/],
  ['load contact points', /from public\.contact_points where project_id/],
  ['update groups', /update public\.alert_groups g set/],
  ['insert groups', /insert into public\.alert_groups/],
  ['delete groups', /delete from public\.alert_groups/],
  ['insert notifications', /insert into public\.alert_notifications/],
  ['recent notifications (storm cap)', /count\(\*\)::int as n from public\.alert_notifications/],
  ['claim: drop superseded notifications', /Superseded by a later notification/],
  ['claim notifications: select', /^\s*select [\s\S]*from public\.alert_notifications[\s\S]*skip locked/],
  ['claim notifications: mark sending', /set status = 'sending'/],
  ['record attempts', /alert_notification_attempts/],
];
/** deliverDue's statements: the first of them in a tick starts its delivery part. */
const DELIVERY_KINDS = new Set(['claim: drop superseded notifications', 'claim notifications: select', 'claim notifications: mark sending', 'record attempts']);
interface Timing {
  ms: number;
  n: number;
}
/** Statement and transaction times of one part of an activity. */
interface Part {
  kinds: Map<string, Timing>;
  /** begin (call to callback start) + commit (callback end to resolve). */
  txBeginCommitMs: number;
  txCount: number;
  /** Wall time with at least one outbound request in flight, and the requests. */
  httpMs: number;
  httpN: number;
}
/**
 * What one measured activity (a job run, a tick) spent, by statement kind. A dispatcher tick has two
 * parts: grouping (sequential) and, from deliverDue's first claim on, delivery, whose statements run
 * in up to 16 workers at once (their times add up to more than the wall time).
 */
interface Meter {
  main: Part;
  deliver: Part;
  /** performance.now() when deliverDue's first claim started (the tick's delivery part begins). */
  claimAt: number | null;
}
const newPart = (): Part => ({ kinds: new Map(), txBeginCommitMs: 0, txCount: 0, httpMs: 0, httpN: 0 });
const newMeter = (): Meter => ({ main: newPart(), deliver: newPart(), claimAt: null });
let meter = newMeter();
const partAt = (m: Meter, t: number) => (m.claimAt !== null && t >= m.claimAt ? m.deliver : m.main);
/** Called after every statement of the jobs (the probe rule's evaluation commit is found this way). */
let onStatement: ((text: string, params: readonly unknown[] | undefined) => void) | null = null;

function record(text: string, ms: number, started: number) {
  const kind = KINDS.find(([, re]) => re.test(text))?.[0] ?? 'other';
  if (DELIVERY_KINDS.has(kind) && meter.claimAt === null) meter.claimAt = started;
  const part = partAt(meter, started);
  const t = part.kinds.get(kind) ?? { ms: 0, n: 0 };
  t.ms += ms;
  t.n += 1;
  part.kinds.set(kind, t);
}
function timedQueryable(q: Queryable): Queryable {
  return {
    async query<T>(text: string, params?: readonly unknown[]) {
      const t = performance.now();
      try {
        return await q.query<T>(text, params);
      } finally {
        record(text, performance.now() - t, t);
        onStatement?.(text, params);
      }
    },
    exec: (script: string) => q.exec(script),
  };
}
function timedDb(db: Db): Db {
  return {
    kind: db.kind,
    ...timedQueryable(db),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      const t = performance.now();
      let entered = t;
      let left = t;
      const m = meter;
      try {
        return await db.transaction(async (tx) => {
          entered = performance.now();
          try {
            return await fn(timedQueryable(tx));
          } finally {
            left = performance.now();
          }
        });
      } finally {
        const part = partAt(m, t);
        part.txBeginCommitMs += entered - t + (performance.now() - left);
        part.txCount += 1;
      }
    },
    withAdvisoryLock: (key, fn) => db.withAdvisoryLock(key, fn),
    close: () => db.close(),
  };
}
/** The outbound guard with its requests' wall time measured (the union of the in-flight intervals). */
function timedOutbound(g: OutboundGuard): OutboundGuard {
  let inFlight = 0;
  let since = 0;
  return {
    checkUrl: (url) => g.checkUrl(url),
    agents: (opts) => g.agents(opts),
    async fetch(url, init) {
      const part = partAt(meter, performance.now());
      if (inFlight++ === 0) since = performance.now();
      part.httpN += 1;
      try {
        return await g.fetch(url, init);
      } finally {
        if (--inFlight === 0) part.httpMs += performance.now() - since;
      }
    },
  };
}

/**
 * Mean of the parts, by statement kind. Sequential parts end with "outside SQL" (the wall time left:
 * JavaScript, JSON, hashing); concurrent ones (delivery) give summed times and no remainder.
 */
function printBreakdown(title: string, parts: Part[], walls: number[], concurrent = false) {
  const n = parts.length;
  if (n === 0) return;
  const wall = walls.reduce((a, b) => a + b, 0) / n;
  const kinds = new Map<string, Timing>();
  let bc = 0;
  let txN = 0;
  let http = 0;
  let httpN = 0;
  for (const m of parts) {
    for (const [k, v] of m.kinds) {
      const t = kinds.get(k) ?? { ms: 0, n: 0 };
      t.ms += v.ms / n;
      t.n += v.n / n;
      kinds.set(k, t);
    }
    bc += m.txBeginCommitMs / n;
    txN += m.txCount / n;
    http += m.httpMs / n;
    httpN += m.httpN / n;
  }
  console.log(`\n${title}: ${concurrent ? 'time summed over the concurrent workers' : 'where the wall time goes'} (${n > 1 ? `mean of ${n}, ` : ''}${fmt(wall)} ms wall each)`);
  console.log(`  ${'part'.padEnd(40)} | ${'ms'.padStart(8)} | ${(concurrent ? '/wall' : 'share').padStart(6)} | ${'calls'.padStart(8)} | ms/call`);
  const row = (k: string, ms: number, calls: number | null) =>
    console.log(`  ${k.padEnd(40)} | ${fmt(ms).padStart(8)} | ${((100 * ms) / wall).toFixed(1).padStart(5)}% | ${(calls === null ? '' : fmt(calls)).padStart(8)} | ${calls ? (ms / calls).toFixed(2) : ''}`);
  let sqlMs = 0;
  for (const [k, v] of [...kinds].sort((a, b) => b[1].ms - a[1].ms)) {
    sqlMs += v.ms;
    row(k, v.ms, v.n);
  }
  row('begin + commit (WAL flush, pool wait)', bc, txN);
  if (httpN > 0) row(concurrent ? 'HTTP sends (wall, >= 1 in flight)' : 'HTTP sends (wall, >= 1 in flight)', http, httpN);
  if (!concurrent) row(httpN > 0 ? 'outside SQL and HTTP (CPU: JS, JSON)' : 'outside SQL (CPU: JS, JSON, hashing)', wall - sqlMs - bc - http, null);
}

// ============================================================================ data
/** A series' value at time t: 35..65, deterministic in series and time (every rule's threshold is 10..19). */
function bulkValue(metric: number, host: number, t: number): number {
  const base = 40 + ((Math.imul(metric * 1000 + host + 1, 2654435761) >>> 0) % 1000) / 100; // 40..50
  return Math.round((base + 10 * Math.sin(t / 600_000 + host) + 5 * Math.sin(t / 37_000 + metric)) * 100) / 100;
}
const hostName = (i: number) => `h${String(i).padStart(4, '0')}`;
const probeHost = (order: 'A' | 'B', i: number) => `p${order.toLowerCase()}${String(i).padStart(2, '0')}`;
const team = (i: number) => `t${String(i).padStart(2, '0')}`;
const cpName = (i: number) => `cp${String(i).padStart(2, '0')}`;

interface Point {
  name: string;
  value: number;
  timestamp: string;
  tags: Record<string, string>;
}
/** When each probe host crossed (fake ms); its points from then on are PROBE_HIGH. */
const crossedAt = new Map<string, number>();
const probeHosts = PROBES > 0 ? [...Array.from({ length: PROBES }, (_, i) => probeHost('A', i)), ...Array.from({ length: PROBES }, (_, i) => probeHost('B', i))] : [];
const probeValue = (host: string, t: number) => ((crossedAt.get(host) ?? Infinity) <= t ? PROBE_HIGH : PROBE_LOW);

/** Every series' point at time t (one 10 s mark): SERIES bulk points and the probes'. */
function markPoints(t: number): Point[] {
  const ts = new Date(t).toISOString();
  const out: Point[] = [];
  for (let m = 0; m < METRICS.length; m++) {
    for (let h = 0; h < HOSTS; h++) out.push({ name: METRICS[m]!, value: bulkValue(m, h, t), timestamp: ts, tags: { host: hostName(h), shard: `s${Math.floor(h / GROUP)}` } });
  }
  for (const host of probeHosts) out.push({ name: 'bench.probe', value: probeValue(host, t), timestamp: ts, tags: { host } });
  return out;
}

function ruleSpecs() {
  const rules: unknown[] = [];
  for (let r = 0; r < RULES; r++) {
    const metric = METRICS[r % METRICS.length]!;
    const shard = `s${Math.floor(r / METRICS.length) % SHARDS}`;
    const level = Math.floor(r / (METRICS.length * SHARDS));
    rules.push({
      key: `bench-${r}`,
      name: `${metric} ${shard} L${level}`,
      kind: 'metric',
      labels: { team: team(r % CONTACT_POINTS) },
      annotations: { summary: '{{ $labels.host }} at {{ $value }}' },
      query: { metric, filters: [{ key: 'shard', op: '=', value: shard }], groupBy: ['host'], window: '5m', aggregation: 'avg', reducer: 'avg' },
      condition: { op: '>', critical: 10 + level },
    });
  }
  if (PROBES > 0) {
    rules.push({
      key: 'probe',
      name: 'ProbeHigh',
      kind: 'metric',
      labels: { probe: 'true' },
      annotations: { summary: '{{ $labels.host }} at {{ $value }}' },
      query: { metric: 'bench.probe', groupBy: ['host'], window: PROBE_WINDOW, aggregation: 'max', reducer: 'max' },
      condition: { op: '>', critical: 100 },
    });
  }
  return rules;
}

// ============================================================================ clock
/**
 * The jobs' and the gateway's clock: a fake clock set by the bench (setup and runs), or, in the latency
 * phase, live: real time plus an offset the schedule moves forward over idle gaps.
 */
let live: (() => number) | null = null;
const liveClock = (now: (() => number) | null) => {
  if (now === null && live) fake.set(new Date(live()));
  live = now;
};
let fake = fakeClock();
function benchClock(start: number): Clock & { set(d: Date): void } {
  fake = fakeClock(new Date(start));
  return {
    now: () => (live ? new Date(live()) : fake.now()),
    sleep: (ms, signal) => fake.sleep(ms, signal),
    set: (d) => {
      if (live) throw new Error('the clock is live: it cannot be set');
      fake.set(d);
    },
  };
}

// ============================================================================ main
let bench: BenchDatabase | undefined;
let receivers: Receivers | undefined;

async function main() {
  if (!(SERIES >= METRICS.length && SERIES % METRICS.length === 0)) throw new Error(`SERIES must be a multiple of ${METRICS.length}`);
  if (!(RULES >= 1 && RULES + (PROBES > 0 ? 1 : 0) <= 1000)) throw new Error('RULES between 1 and 999 (a project holds at most 1,000 rules, the probe rule included)');
  if (!(RUNS >= 2 && HISTORY >= 1 && CONTACT_POINTS >= 1 && CONTACT_POINTS <= 150 && RECEIVERS >= 1 && PROBES >= 0 && PROBES <= 100)) throw new Error('RUNS >= 2; HISTORY, CONTACT_POINTS (<= 150), RECEIVERS >= 1; PROBES 0..100');
  const levels = Math.ceil(RULES / (METRICS.length * SHARDS));
  if (levels > 10) console.warn(`note: ${levels} threshold levels per (metric, shard): more than 10 rules share each; thresholds go up to ${10 + levels - 1}`);
  const expectedInstances = RULES * GROUP;
  const benchStarted = performance.now();
  console.log(
    `alerting benchmark: ${fmt(RULES)} rules over ${fmt(SERIES)} series (${METRICS.length} metrics x ${HOSTS} hosts, ${SHARDS} shard(s) of ${GROUP} hosts), ` +
      `${fmt(expectedInstances)} instances expected; ${RUNS} runs; ${PROBES} probes per order; ${CONTACT_POINTS} contact points on ${RECEIVERS} receivers`,
  );

  receivers = await startReceivers(RECEIVERS);
  bench = await createBenchDatabase('observai_albench');
  const { demo, sql } = bench;
  console.log(`database ${bench.name}`);
  await sql`select private.ensure_telemetry_partitions(current_date - 2, current_date + 2)`;
  await sql`insert into public.project_ingest_settings (project_id, organization_id, max_series) values (${demo.projectId}, ${demo.organizationId}, ${SERIES * 2 + 1000})`;

  // The fake clock starts HISTORY minutes before the current real minute (timestamps stay near today's partitions).
  const T0 = Math.floor(Date.now() / MIN) * MIN - HISTORY * MIN;
  const clock = benchClock(T0);
  const config = parseConfig({
    OBSERVAI_MODE: 'local',
    DATABASE_URL: bench.url.toString(),
    OBSERVAI_DATA_DIR: bench.dataDir,
    JWT_SECRET: demo.jwtSecret,
    DB_POOL_MAX: String(POOL),
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    OUTBOUND_ALLOW_PRIVATE: receivers.ports.map((p) => `127.0.0.1:${p}`).join(','),
    SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  });
  const logger = createNodeLogger(config);
  // The gateway (ingest and the alerts API) and the jobs each on a pool of DB_POOL_MAX, the jobs' statements timed.
  const gatewayDb = createPostgresDb(bench.url.toString(), { max: POOL, applicationName: 'observai-albench-gateway' });
  const gatewayDeps = createNodeDeps(config, { logger, clock, db: gatewayDb });
  const app = createGatewayApp(gatewayDeps);
  const jobsDb = createPostgresDb(bench.url.toString(), { max: POOL, applicationName: 'observai-albench-jobs' });
  const baseJobDeps = createNodeDeps(config, { logger, clock, db: timedDb(jobsDb) });
  const jobDeps = { ...baseJobDeps, outbound: timedOutbound(baseJobDeps.outbound) };

  try {
    const ownerJwt = await signJwt(demo.jwtSecret, { sub: demo.ownerUserId, role: 'authenticated', aud: 'authenticated', email: demo.ownerEmail }, { now: clock.now(), expiresInSeconds: 86_400 });
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await app.request(`/functions/v1/alerts${path}`, {
        method,
        headers: { authorization: `Bearer ${ownerJwt}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} /alerts${path} answered ${res.status}: ${text.slice(0, 1000)}`);
      return text ? (JSON.parse(text) as Record<string, unknown>) : null;
    };
    let ingestedPoints = 0;
    const ingest = async (points: Point[]) => {
      for (let i = 0; i < points.length; i += BATCH_POINTS) {
        const res = await app.request('/functions/v1/ingest', {
          method: 'POST',
          headers: { 'x-api-key': demo.apiKey, 'content-type': 'application/json' },
          body: JSON.stringify({ metrics: points.slice(i, i + BATCH_POINTS) }),
        });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${text.slice(0, 1000)}`);
        const r = JSON.parse(text) as { accepted: number; rejected: number };
        if (r.rejected > 0) throw new Error(`ingest rejected ${r.rejected} points: ${text.slice(0, 1000)}`);
        ingestedPoints += r.accepted;
      }
    };

    // ---- 2. contact points, policy, rules (through the API)
    let t = performance.now();
    for (let i = 0; i < CONTACT_POINTS; i++) {
      await api('POST', '/contact-points', { projectId: demo.projectId, name: cpName(i), kind: 'webhook', settings: { url: `http://127.0.0.1:${receivers.ports[i % RECEIVERS]}/${cpName(i)}` } });
    }
    // Probe hosts pa00..pa09 and pb00..pb09 go to probe0, the next ten to probe1, ...: at most 10 to a contact point,
    // deliverDue's per-contact-point cap per pass, so no probe's notification waits a tick behind the others.
    const probeCps = Math.ceil(PROBES / 10);
    for (let j = 0; j < probeCps; j++) {
      await api('POST', '/contact-points', { projectId: demo.projectId, name: `probe${j}`, kind: 'webhook', settings: { url: `http://127.0.0.1:${receivers.ports[0]}/probe` } });
    }
    await api('PUT', '/policy', {
      projectId: demo.projectId,
      policy: {
        route: {
          receiver: cpName(0),
          group_by: ['alertname', 'host'],
          routes: [
            ...Array.from({ length: probeCps }, (_, j) => ({ receiver: `probe${j}`, matchers: ['probe="true"', `host=~"p[ab]${j}[0-9]"`] })),
            ...Array.from({ length: CONTACT_POINTS }, (_, i) => ({ receiver: cpName(i), matchers: [`team="${team(i)}"`] })),
          ],
        },
      },
    });
    const applied = (await api('PUT', '/rules', { projectId: demo.projectId, rules: ruleSpecs() })) as { created: string[] };
    console.log(`setup: ${CONTACT_POINTS + probeCps} contact points, policy, ${applied.created.length} rules through the API in ${fmt(performance.now() - t)} ms`);
    const [probeRow] = await sql<{ id: string }[]>`select id from public.alert_rules where key = 'probe'`;
    const probeRuleId = probeRow?.id ?? null;

    // ---- history
    t = performance.now();
    for (let m = 0; m < HISTORY; m++) {
      for (let j = 0; j < 6; j++) {
        const at = T0 + m * MIN + j * 10 * S;
        clock.set(new Date(at));
        await ingest(markPoints(at));
      }
    }
    const historyMs = performance.now() - t;
    await gatewayDeps.settle();
    await sql`analyze`;
    const pointsPerMark = SERIES + probeHosts.length;
    console.log(`history: ${fmt(ingestedPoints)} points (${HISTORY} min x 6 marks x ${fmt(pointsPerMark)} series) through ingest in ${fmt(historyMs)} ms (${fmt(ingestedPoints / (historyMs / 1000))} points/s); analyze`);

    // ---- 3. runs
    interface Tick {
      start: number;
      wallMs: number;
      deliverMs: number;
      created: number;
      sent: number;
      failed: number;
      retried: number;
      meter: Meter;
      arrivals: Array<Arrival & { fake: number }>;
    }
    const tickAt = async (s: number): Promise<Tick> => {
      clock.set(new Date(s));
      meter = newMeter();
      const e0 = epochNow();
      const p0 = performance.now();
      const r = await dispatchTick(jobDeps);
      const end = performance.now();
      const m = meter;
      const records = await receivers!.sync();
      return {
        start: s,
        wallMs: end - p0,
        deliverMs: m.claimAt === null ? 0 : end - m.claimAt,
        created: r.created,
        sent: r.sent,
        failed: r.failed,
        retried: r.retried,
        meter: m,
        arrivals: records.map((x) => ({ ...x, fake: s + (x.at - e0) })),
      };
    };
    const timedJob = async (job: typeof aggregateMetrics) => {
      meter = newMeter();
      const p0 = performance.now();
      const run = await runJob(jobDeps, job);
      const wall = performance.now() - p0;
      if (run.outcome !== 'ok') throw new Error(`${job.name} ${run.outcome}: ${run.error ?? JSON.stringify(run.summary)}`);
      return { wall, meter, summary: run.summary as Record<string, number> };
    };

    interface Run {
      k: number;
      aggMs: number;
      evalMs: number;
      evalMeter: Meter;
      evalSummary: Record<string, number>;
      ingestMs: number;
      ticks: Tick[];
    }
    const runs: Run[] = [];
    const B0 = T0 + HISTORY * MIN;
    const pending = async () => Number((await sql<{ n: string }[]>`select count(*) as n from public.alert_notifications where status in ('pending', 'sending')`)[0]!.n);
    console.log(`\nruns (a fake minute each: aggregate, evaluate while the minute's points are ingested, the dispatcher's ticks of the minute):`);
    for (let k = 0; ; k++) {
      const B = B0 + k * MIN;
      clock.set(new Date(B));
      const agg = await timedJob(aggregateMetrics);
      const before = ingestedPoints;
      let ingestMs = 0;
      const ingesting = (async () => {
        const p0 = performance.now();
        for (let j = 0; j < 6; j++) await ingest(markPoints(B + j * 10 * S));
        ingestMs = performance.now() - p0;
      })();
      ingesting.catch(() => {});
      const ev = await timedJob(evaluateAlerts);
      await ingesting;
      const ticks: Tick[] = [];
      // runDispatch's cadence: a tick, the next 5 s after it started (at once if it took longer), until the budget.
      for (let s = B; ; ) {
        const tk = await tickAt(s);
        ticks.push(tk);
        if (s + tk.wallMs + TICK_MS >= B + JOB_BUDGET_MS) break;
        s += Math.max(TICK_MS, tk.wallMs);
      }
      runs.push({ k, aggMs: agg.wall, evalMs: ev.wall, evalMeter: ev.meter, evalSummary: ev.summary, ingestMs, ticks });
      const walls = ticks.map((x) => x.wallMs).sort((a, b) => a - b);
      const left = await pending();
      console.log(
        `  run ${k}${k === 0 ? ' (first)' : ''}: aggregate ${fmt(agg.wall)} ms; evaluate ${fmt(ev.wall)} ms (${ev.summary.rules} rules, ${fmt(ev.summary.transitions ?? 0)} transitions, ${ev.summary.failed} failed); ` +
          `ingest alongside ${fmt(ingestedPoints - before)} points in ${fmt(ingestMs)} ms; ${ticks.length} ticks: wall p50 ${fmt(percentile(walls, 0.5))} ms, max ${fmt(walls.at(-1)!)} ms, ` +
          `${fmt(ticks.reduce((a, x) => a + x.created, 0))} notifications created, ${fmt(ticks.reduce((a, x) => a + x.sent, 0))} sent, ${fmt(left)} pending`,
      );
      if ((ev.summary.failed ?? 0) > 0) throw new Error(`run ${k}: ${ev.summary.failed} rules failed to evaluate`);
      if (k + 1 >= RUNS && (left === 0 || k + 1 >= RUNS + DRAIN_MINUTES)) break;
    }
    await gatewayDeps.settle();

    const [state] = await sql<{ firing: number; pending: number; groups: number; notifications: number; statuses: string }[]>`
      select (select count(*) from public.alert_instances where state = 'firing' and (rule_id is distinct from ${probeRuleId}::uuid))::int as firing,
             (select count(*) from public.alert_instances where state = 'pending')::int as pending,
             (select count(*) from public.alert_groups)::int as groups,
             (select count(*) from public.alert_notifications)::int as notifications,
             (select string_agg(status || ' ' || n, ', ' order by status) from (select status, count(*) as n from public.alert_notifications group by status) s) as statuses`;
    const instances = state!.firing;
    if (instances !== expectedInstances) console.warn(`warning: ${instances} firing instances, expected ${expectedInstances}`);

    // Evaluation figures: the runs after the first.
    const steady = runs.slice(1);
    const evalSorted = steady.map((r) => r.evalMs).sort((a, b) => a - b);
    const evalP50 = percentile(evalSorted, 0.5);
    const evalP95 = percentile(evalSorted, 0.95);

    // Dispatch figures: the storm (the first evaluation's groups, flushed together after group_wait).
    const allTicks = runs.flatMap((r) => r.ticks);
    const stormArrivals = allTicks.flatMap((x) => x.arrivals).filter((a) => a.path !== '/probe');
    const firstCreating = allTicks.find((x) => x.created > 0);
    const lastArrival = stormArrivals.reduce((a, x) => Math.max(a, x.fake), -Infinity);
    const stormSeconds = firstCreating && stormArrivals.length ? (lastArrival - firstCreating.start) / 1000 : NaN;
    const cadenceRate = stormArrivals.length / stormSeconds;
    const sending = allTicks.filter((x) => x.sent > 0);
    const sentTotal = sending.reduce((a, x) => a + x.sent, 0);
    const backToBack = sentTotal / (sending.reduce((a, x) => a + x.wallMs, 0) / 1000);
    const deliverOnly = sentTotal / (sending.reduce((a, x) => a + x.deliverMs, 0) / 1000);
    const unparsable = stormArrivals.filter((a) => a.type !== 'alert.firing').length;
    const summaries = stormArrivals.filter((a) => a.folded > 0);
    const alertsTold = stormArrivals.reduce((a, x) => a + x.alerts + x.truncated, 0);

    console.log(`\nafter the runs: ${fmt(instances)} firing instances (+ ${state!.pending} pending), ${fmt(state!.groups)} groups, ${fmt(state!.notifications)} notifications (${state!.statuses ?? 'none'})`);
    console.log(
      `evaluation: first run ${fmt(runs[0]!.evalMs)} ms (creates the instances: ${fmt(runs[0]!.evalSummary.transitions ?? 0)} transitions); ` +
        `the ${steady.length} later runs ${evalSorted.map((x) => fmt(x)).join(', ')} ms: p50 ${fmt(evalP50)} ms, p95 ${fmt(evalP95)} ms ` +
        `(${fmt((evalP50 / (RULES + (PROBES > 0 ? 1 : 0))) * 1000)} µs per rule, ${fmt((evalP50 / instances) * 1000)} µs per instance at p50)`,
    );
    console.log(
      `dispatch: the storm's ${fmt(stormArrivals.length)} notifications (${summaries.length} of them storm summaries for ${fmt(summaries.reduce((a, x) => a + x.folded, 0))} folded ones; ` +
        `${fmt(alertsTold)} alerts listed or counted in them; ${unparsable} not alert.firing) reached the receivers ` +
        `${stormSeconds.toFixed(1)} s (fake) after the tick that created them: ${fmt(cadenceRate, 1)}/s under the job's cadence ` +
        `(at most ${fmt(Math.max(0, ...sending.map((x) => x.sent)))} sent in one tick; ticks every 5 s from :00 to :45 of each minute)`,
    );
    console.log(
      `  machine: ${fmt(backToBack, 1)}/s with the ${sending.length} sending ticks back to back (${fmt(sending.reduce((a, x) => a + x.wallMs, 0))} ms of ticks); ` +
        `their delivery part (deliverDue's passes) alone ${Number.isFinite(deliverOnly) ? `${fmt(deliverOnly, 1)}/s` : 'n/a (its first statement was not recognised)'}`,
    );
    const storm = allTicks.filter((x) => x.created > 0);
    const delivering = allTicks.filter((x) => x.created === 0 && x.sent > 0);
    const idle = allTicks.filter((x) => x.created === 0 && x.sent === 0 && x.start > B0 + MIN);
    const tickLine = (label: string, xs: Tick[]) => {
      if (!xs.length) return;
      const w = xs.map((x) => x.wallMs).sort((a, b) => a - b);
      console.log(`  ${label}: ${xs.length} ticks, wall p50 ${fmt(percentile(w, 0.5))} ms, p95 ${fmt(percentile(w, 0.95))} ms`);
    };
    tickLine('ticks that created the storm', storm);
    tickLine('ticks delivering the backlog', delivering);
    tickLine(`idle ticks (nothing to create or send, ${fmt(state!.groups)} groups)`, idle);

    printBreakdown(`evaluation, the ${steady.length} later runs`, steady.map((r) => r.evalMeter.main), steady.map((r) => r.evalMs));
    printBreakdown('evaluation, first run (creates the instances)', [runs[0]!.evalMeter.main], [runs[0]!.evalMs]);
    const ticksBreakdown = (label: string, xs: Tick[]) => {
      printBreakdown(`${label}, grouping (every project's alerts routed and grouped, groups written)`, xs.map((x) => x.meter.main), xs.map((x) => x.wallMs - x.deliverMs));
      if (xs.some((x) => x.deliverMs > 0)) printBreakdown(`${label}, delivery (deliverDue's passes)`, xs.map((x) => x.meter.deliver), xs.map((x) => x.deliverMs), true);
    };
    ticksBreakdown('dispatch tick that created the storm', storm);
    ticksBreakdown('dispatch tick delivering a backlog', delivering);
    ticksBreakdown('idle dispatch tick', idle);

    const sizes = await sql<{ relname: string; bytes: string; live: string; dead: string; autovacuum: Date | null }[]>`
      select c.relname, pg_total_relation_size(c.oid)::bigint as bytes, s.n_live_tup as live, s.n_dead_tup as dead, s.last_autovacuum as autovacuum
      from pg_class c join pg_stat_user_tables s on s.relid = c.oid
      where c.relname in ('alert_instances', 'alert_groups', 'alert_notifications', 'alert_transitions', 'alert_rules') order by c.relname`;
    console.log(`\nalert tables after the runs: ${sizes.map((r) => `${r.relname} ${fmt(Number(r.bytes) / 2 ** 20, 1)} MiB (${fmt(Number(r.live))} live, ${fmt(Number(r.dead))} dead rows${r.autovacuum ? ', autovacuumed' : ''})`).join('; ')}`);

    // ---- 4. threshold-to-notification
    interface ProbeResult {
      order: 'A' | 'B';
      host: string;
      offsetS: number;
      crossed: number;
      committed: number | null;
      arrived: number | null;
    }
    const latency: Record<'A' | 'B', ProbeResult[]> = { A: [], B: [] };
    const detail: string[] = [];
    if (PROBES > 0 && probeRuleId) {
      // The schedule: activities start at their fake time, concurrently with whatever runs; time flows
      // with the real clock while something runs and jumps to the next activity when nothing does.
      interface Act {
        at: number;
        prio: number;
        seq: number;
        label: string;
        run: () => Promise<void>;
      }
      const queue: Act[] = [];
      let seq = 0;
      const add = (at: number, prio: number, label: string, run: () => Promise<void>) => queue.push({ at, prio, seq: seq++, label, run });
      const inflight = new Set<Promise<void>>();
      let failure: unknown = null;
      const nowMs = () => clock.now().getTime();
      const trace: string[] = [];
      let traceFrom = 0;
      const note = (what: string) => trace.push(`${((nowMs() - traceFrom) / 1000).toFixed(1).padStart(6)} ${what}`);
      /** Plays the schedule until `done()` (or the fake time `limit`); nothing is left running when it returns. */
      let pausedAt: number | null = null;
      const play = async (done: () => boolean, limit: number) => {
        // Time stands still between two plays (the bench's own queries and printing).
        if (pausedAt !== null) offset = pausedAt - epochNow();
        try {
          await playing(done, limit);
        } finally {
          pausedAt = nowMs();
        }
      };
      const playing = async (done: () => boolean, limit: number) => {
        for (;;) {
          if (failure) throw failure;
          if ((done() || nowMs() >= limit) && inflight.size === 0) return;
          queue.sort((x, y) => x.at - y.at || x.prio - y.prio || x.seq - y.seq);
          const next = queue[0];
          const now = nowMs();
          if (next && next.at <= now && !(done() || now >= limit)) {
            queue.shift();
            const p: Promise<void> = next.run().catch((err) => void (failure ??= err)).finally(() => inflight.delete(p));
            inflight.add(p);
            continue;
          }
          if (inflight.size === 0) {
            if (!next) return;
            jump(next.at - now); // idle: on to the next activity
            continue;
          }
          const wait = next && !(done() || now >= limit) ? Math.max(1, next.at - now) : 60_000;
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([...inflight, new Promise<void>((r) => (timer = setTimeout(r, wait)))]);
          clearTimeout(timer);
        }
      };
      let order: 'A' | 'B' = 'A';
      const probes = new Map<string, ProbeResult>();
      let probeCommit: number | null = null;
      onStatement = (text, params) => {
        if (params?.[0] === probeRuleId && /update public\.alert_rules set last_eval_at/.test(text)) probeCommit = nowMs();
      };
      const jobsWall: number[] = [];
      const tickWall: number[] = [];
      /** The minute jobs at boundary B, in the order under test; the next run at the first boundary after they end. */
      const minuteJobs = (B: number) =>
        add(B, 0, 'minute jobs', async () => {
          const t0 = nowMs();
          probeCommit = null;
          const names: string[] = [];
          for (const job of order === 'A' ? [aggregateMetrics, evaluateAlerts] : [evaluateAlerts, aggregateMetrics]) {
            const j0 = nowMs();
            const run = await runJob(jobDeps, job);
            if (run.outcome !== 'ok') throw new Error(`${job.name} ${run.outcome}: ${run.error ?? JSON.stringify(run.summary)}`);
            names.push(`${job.name} ${((nowMs() - j0) / 1000).toFixed(1)} s`);
          }
          if (probeCommit !== null) {
            // The probes this run fired: committed when the run wrote the probe rule.
            const firing = await sql<{ host: string }[]>`select labels->>'host' as host from public.alert_instances where rule_id = ${probeRuleId} and state = 'firing'`;
            for (const { host } of firing) {
              const p = probes.get(host);
              if (p && p.committed === null) p.committed = probeCommit;
            }
          }
          jobsWall.push(nowMs() - t0);
          note(`minute jobs from ${((t0 - traceFrom) / 1000).toFixed(1)}: ${names.join(', ')}`);
          minuteJobs(Math.max(B + MIN, Math.floor(nowMs() / MIN) * MIN + MIN));
        });
      /** The dispatcher job's run from boundary B, ticking as runDispatch does; its next run at the first boundary after it ends. */
      const dispatcherRun = (B: number) => {
        const deadline = B + JOB_BUDGET_MS;
        const tick = (at: number) =>
          add(at, 2, 'tick', async () => {
            const start = nowMs();
            const r = await dispatchTick(jobDeps);
            const end = nowMs();
            tickWall.push(end - start);
            const records = await receivers!.sync();
            const got: string[] = [];
            for (const a of records) {
              if (a.path !== '/probe' || a.type !== 'alert.firing') continue;
              for (const h of a.hosts ?? []) {
                const p = probes.get(h);
                if (p && p.arrived === null) {
                  p.arrived = a.at + (clock.now().getTime() - epochNow()); // the receivers' epoch time on the fake clock
                  got.push(h);
                }
              }
            }
            if (r.created > 0 || r.sent > 0 || got.length > 0) note(`tick from ${((start - traceFrom) / 1000).toFixed(1)}: ${r.created} created, ${r.sent} sent${got.length ? ` (probes ${got.join(' ')})` : ''}`);
            if (end + TICK_MS >= deadline) dispatcherRun(Math.floor(end / MIN) * MIN + MIN);
            else tick(start + Math.max(TICK_MS, end - start));
          });
        tick(B);
      };
      const ingestMark = (at: number) =>
        add(at, 1, 'ingest', async () => {
          ingestMark(at + 10 * S);
          await ingest(markPoints(at));
        });
      // Live time from the first boundary after the runs.
      meter = newMeter(); // statements of concurrent activities: not broken down in this phase
      let offset = B0 + runs.length * MIN - epochNow();
      const jump = (ms: number) => (offset += ms);
      liveClock(() => epochNow() + offset);
      traceFrom = nowMs();
      minuteJobs(traceFrom);
      dispatcherRun(traceFrom);
      ingestMark(traceFrom);
      for (const o of ['A', 'B'] as const) {
        // The crossings are in the first whole minute from now; that minute's boundary jobs run in this order too.
        const M0 = Math.floor(nowMs() / MIN) * MIN + MIN;
        order = o;
        for (let i = 0; i < PROBES; i++) {
          const host = probeHost(o, i);
          const offsetS = ((i + 0.5) * 60) / PROBES;
          const x = M0 + Math.round(offsetS * 1000);
          const p: ProbeResult = { order: o, host, offsetS, crossed: x, committed: null, arrived: null };
          probes.set(host, p);
          latency[o].push(p);
          add(x, 1, 'probe', async () => {
            crossedAt.set(host, x);
            await ingest([{ name: 'bench.probe', value: PROBE_HIGH, timestamp: new Date(x).toISOString(), tags: { host } }]);
          });
        }
        const wallStarted = performance.now();
        const traceStart = trace.length;
        await play(() => latency[o].every((p) => p.arrived !== null), M0 + LATENCY_MINUTES * MIN);
        const got = latency[o].filter((p) => p.arrived !== null);
        const delays = got.map((p) => (p.arrived! - p.crossed) / 1000).sort((a, b) => a - b);
        console.log(
          `\nthreshold-to-notification, order ${o} (${o === 'A' ? 'aggregate-metrics, then evaluate-alerts' : 'evaluate-alerts, then aggregate-metrics'} at each minute): ` +
            `${got.length} of ${PROBES} probes notified within ${LATENCY_MINUTES} min; delay p50 ${delays.length ? percentile(delays, 0.5).toFixed(1) : '-'} s, ` +
            `p95 ${delays.length ? percentile(delays, 0.95).toFixed(1) : '-'} s, max ${delays.length ? delays.at(-1)!.toFixed(1) : '-'} s ` +
            `(played ${((nowMs() - M0) / 1000).toFixed(0)} fake s in ${((performance.now() - wallStarted) / 1000).toFixed(0)} s)`,
        );
        // The steps of each probe, from the database: the evaluation that fired it, the tick that made its group, the flush.
        const steps = await sql<{ host: string; fired_at: Date | null; first_seen_at: Date | null; created_at: Date | null }[]>`
          select i.labels->>'host' as host, i.fired_at, g.first_seen_at, n.created_at
          from public.alert_instances i
          left join public.alert_groups g on g.receiver like 'probe%' and g.group_labels->>'host' = i.labels->>'host'
          left join public.alert_notifications n on n.group_key = g.group_key and n.seq = 1
          where i.rule_id = ${probeRuleId} and i.labels->>'host' like ${`p${o.toLowerCase()}%`}`;
        const byHost = new Map(steps.map((r) => [r.host, r]));
        const rel = (d: Date | number | null | undefined) => (d === null || d === undefined ? '-' : `${((new Date(d).getTime() - M0) / 1000).toFixed(1)}`);
        detail.push(`order ${o}: seconds from the start of the crossing minute (M0). "fired": the clock of the evaluation run that fired it; "committed": when that run wrote the probe rule`);
        detail.push(`  probe | crossed | fired | committed | group created | notification | arrived | delay s`);
        for (const p of latency[o]) {
          const r = byHost.get(p.host);
          detail.push(
            `  ${p.host.padEnd(5)} | ${rel(p.crossed).padStart(7)} | ${rel(r?.fired_at).padStart(5)} | ${rel(p.committed).padStart(9)} | ${rel(r?.first_seen_at).padStart(13)} | ` +
              `${rel(r?.created_at).padStart(12)} | ${rel(p.arrived).padStart(7)} | ${p.arrived === null ? '-' : ((p.arrived - p.crossed) / 1000).toFixed(1)}`,
          );
        }
        detail.push(`  the schedule, in fake seconds from the phase's first boundary (M0 is at ${((M0 - traceFrom) / 1000).toFixed(0)} s); ticks only when they created or sent:`);
        for (const line of trace.slice(traceStart)) detail.push(`   ${line}`);
      }
      onStatement = null;
      liveClock(null);
      console.log(`\nprobe steps:\n${detail.join('\n')}`);
      const jw = [...jobsWall].sort((a, b) => a - b);
      const tw = [...tickWall].sort((a, b) => a - b);
      console.log(
        `during the latency phase: minute jobs ${fmt(percentile(jw, 0.5))} ms p50, ${fmt(jw.at(-1)!)} ms max (${jw.length} runs); ` +
          `dispatcher ticks ${fmt(percentile(tw, 0.5))} ms p50, ${fmt(tw.at(-1)!)} ms max (${tw.length} ticks)`,
      );
    }

    const p95Of = (o: 'A' | 'B') => {
      const d = latency[o].map((p) => (p.arrived === null ? Infinity : (p.arrived - p.crossed) / 1000)).sort((a, b) => a - b);
      return d.length ? percentile(d, 0.95) : NaN;
    };
    const worstLatency = Math.max(p95Of('A'), p95Of('B'));
    console.log(`\n(whole run ${((performance.now() - benchStarted) / 1000).toFixed(0)} s; ${fmt(ingestedPoints)} points ingested)`);
    console.log('');
    console.log(
      `alerts: evaluation p95 ${Math.round(evalP95)} ms per run (${RULES} rules, ${instances} instances), dispatch ${Math.round(cadenceRate)}/s, ` +
        `threshold-to-notification p95 ${Number.isFinite(worstLatency) ? worstLatency.toFixed(0) : PROBES > 0 ? 'n/a (a probe was never notified)' : 'n/a (PROBES=0)'} s`,
    );
  } finally {
    await gatewayDeps.settle().catch(() => {});
    await gatewayDeps.cache.close().catch(() => {});
    await gatewayDb.close().catch(() => {});
    await jobsDb.close().catch(() => {});
    await baseJobDeps.cache.close().catch(() => {});
  }
}

if (process.argv[2] === '--receivers') {
  await receiversMain(Number(process.argv[3] ?? 1));
} else {
  let exitCode = 0;
  try {
    await main();
  } catch (err) {
    exitCode = 1;
    console.error(err);
  } finally {
    receivers?.stop();
    await bench?.cleanup();
  }
  process.exit(exitCode);
}
