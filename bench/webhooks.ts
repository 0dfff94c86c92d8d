/**
 * `npm run bench:webhooks`: the webhooks delivery engine (issue 19) at size: the outbox written as
 * production writes it, the fan-out trigger, and the real deliver-webhooks job sending signed
 * requests to local receivers, some slow and some failing.
 *
 * 1. A fresh database on the local Postgres (DATABASE_URL's server, default
 *    postgres://postgres@127.0.0.1:5432/postgres) with the migrations (bench/harness.ts). ORGS
 *    organizations (default 10), ENDPOINTS projects (default 100) spread evenly over them, one
 *    endpoint per project subscribed to its project's `alert.*` and `incident.*` events, each with a
 *    generated whsec_ secret sealed under SECRET_ENCRYPTION_KEY bound to its id, as the API makes
 *    it. Receivers: a child process (this file with `--receivers`) listening on RECEIVERS loopback
 *    ports (default 4); endpoint i is `http://127.0.0.1:<port i % RECEIVERS>/<kind>/<i>`. Kinds: every
 *    10th endpoint (i % 10 = 4) is slow (answers 200 after 1-2 s, uniform), every 20th (i % 20 = 19)
 *    fails (answers 500 at once, so its messages retry: immediately, 5 s, 5 min, ...), the rest
 *    answer 200 at once. The receivers stamp each request's arrival (Date.now() when its body has
 *    been read) with its webhook-id and verify one request in SIGN_CHECK (default 50) with the
 *    `standardwebhooks` package; the records go to this process over IPC every 0.5 s.
 * 2. Events are written as the outbox is written in production by a statement trigger (alert
 *    transitions): one INSERT ... SELECT into public.webhook_events per batch, the payload built by
 *    private.webhook_payload (so {type, timestamp, data}, ~500 bytes of alert.firing / alert.resolved
 *    data shaped like private.alert_transitions_webhooks'), and the fan-out trigger makes one message
 *    per event for its project's endpoint. Projects are taken round robin, so every endpoint gets the
 *    same share.
 * 3. The job: runDeliverWebhooks (the job's own function) in this process with the system clock and
 *    a budget longer than the bench, on its own pool of DB_POOL_MAX connections (default 10, the
 *    product's default), every statement timed by kind and every request timed (as bench:alerts). It runs through phases 1 and 2 and is stopped after them (its claims then
 *    find nothing, so it ends when its sends in flight have answered).
 *    Phase 1, throughput: EVENTS events (default 100,000) inserted in batches of BATCH (default 500)
 *    as fast as they go while the job runs. Deliveries/s = 2xx answers at the receivers / wall time
 *    from the first insert to the last healthy endpoint's last delivery. Every healthy message must
 *    arrive exactly once (webhook-ids counted at the receivers).
 *    Phase 2, latency: RATE events/s (default 300) for LATENCY_SECONDS (default 20), a batch every
 *    100 ms, with the job still running (and phase 1's slow and failing backlog with it).
 *    Event-to-delivery = receiver arrival - the event's created_at (the inserting transaction's
 *    now()), p50/p95/max for the healthy endpoints, apart for the slow ones.
 *    Phase 3, the scheduler's cadence (SCHEDULED_SECONDS, default 75; 0 skips it): the same feed,
 *    while the registered job runs as the Node scheduler and pg_cron start it: runJob() (the
 *    job's default budget, 57 s) at a minute boundary, the next one at the first boundary after the run ends (minutes
 *    counted from the phase's start).
 * Where the time goes: statement kinds (summed over the engine's concurrent workers), begin+commit
 * (pool wait included), each endpoint kind's HTTP requests (summed), the claims' sizes and times, and
 * the cores used by this process, the receivers, this database's Postgres backends, Postgres's other
 * processes and the rest of the machine (from /proc: the machine is shared). Then the failing
 * endpoints' attempts, every message's status, and the tables' sizes, dead rows and HOT updates.
 * Ends with exactly one line:
 *   webhooks: <N> deliveries/s, event-to-delivery p95 <ms> ms
 * (phase 1's rate, phase 2's healthy p95).
 * Knobs: EVENTS (100000), ENDPOINTS (100, at least 20), ORGS (10), RECEIVERS (4), BATCH (500), RATE
 * (300), LATENCY_SECONDS (20), SCHEDULED_SECONDS (75), DB_POOL_MAX (10), DRAIN_SECONDS (600, the
 * longest wait for phase 1's healthy deliveries), SIGN_CHECK (50). To measure a change before making
 * it: DELIVER_WEBHOOKS_MODULE (the path of a changed copy of src/webhooks/deliver-webhooks.ts),
 * EXTRA_SQL (run after the migrations: an index, say), SCHEDULED_BUDGET_MS (phase 3's runs' budget
 * instead of runJob's default). Quick: `EVENTS=10000 ENDPOINTS=20 ORGS=2 SCHEDULED_SECONDS=0 npm run
 * -s bench:webhooks`. KEEP_DB=1 keeps the database. The database is dropped and the receivers'
 * process ended on success, failure and SIGINT/SIGTERM.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { systemClock } from '../src/core/clock.ts';
import { parseConfig } from '../src/core/config.ts';
import { createSecretBox } from '../src/core/secret-box.ts';
import { createPostgresDb } from '../src/db/postgres.ts';
import type { Db, Queryable } from '../src/db/types.ts';
import { runJob } from '../src/jobs/run-job.ts';
import type { OutboundGuard } from '../src/net/outbound.ts';
import { generateWebhookSecret } from '../src/net/standard-webhooks.ts';
import { createNodeDeps } from '../src/node/deps.ts';
import { createNodeLogger } from '../src/node/logger.ts';
import { type BenchDatabase, createBenchDatabase, fmt, percentile } from './harness.ts';

const EVENTS = Number(process.env.EVENTS ?? 100_000);
const ENDPOINTS = Number(process.env.ENDPOINTS ?? 100);
const ORGS = Number(process.env.ORGS ?? 10);
const RECEIVERS = Number(process.env.RECEIVERS ?? 4);
const BATCH = Number(process.env.BATCH ?? 500);
const RATE = Number(process.env.RATE ?? 300);
const LATENCY_SECONDS = Number(process.env.LATENCY_SECONDS ?? 20);
const SCHEDULED_SECONDS = Number(process.env.SCHEDULED_SECONDS ?? 75);
const POOL = Number(process.env.DB_POOL_MAX ?? 10);
const DRAIN_SECONDS = Number(process.env.DRAIN_SECONDS ?? 600);
const SIGN_CHECK = Number(process.env.SIGN_CHECK ?? 50);
/** Phase 3's runs: runJob's default budget unless set (to measure another budget for the job). */
const SCHEDULED_BUDGET_MS = process.env.SCHEDULED_BUDGET_MS ? Number(process.env.SCHEDULED_BUDGET_MS) : undefined;
/** SQL run after the migrations (to measure a migration change, an index say, before making it). */
const EXTRA_SQL = process.env.EXTRA_SQL ?? '';

/**
 * The job's module: DELIVER_WEBHOOKS_MODULE (a path) measures a changed copy of
 * src/webhooks/deliver-webhooks.ts before the change is made; by default the product's.
 */
const { deliverWebhooks, runDeliverWebhooks } = (await import(
  process.env.DELIVER_WEBHOOKS_MODULE ? pathToFileURL(process.env.DELIVER_WEBHOOKS_MODULE).href : '../src/webhooks/deliver-webhooks.ts'
)) as typeof import('../src/webhooks/deliver-webhooks.ts');

const S = 1000;
const MIN = 60 * S;
const FEED_TICK_MS = 100;

type Kind = 'ok' | 'slow' | 'fail';
const kindOf = (i: number): Kind => (i % 20 === 19 ? 'fail' : i % 10 === 4 ? 'slow' : 'ok');

// ============================================================================ receivers (child process)
/** What the receivers hand over: parallel arrays, one entry per request. */
interface Records {
  at: number[];
  ep: number[];
  /** The webhook-id without `msg_` (the event id's 32 hex digits). */
  id: string[];
  status: number[];
  /** Requests whose signature was checked, and those that failed the check. */
  verified: number;
  badSignatures: number;
}
const emptyRecords = (): Records => ({ at: [], ep: [], id: [], status: [], verified: 0, badSignatures: 0 });

async function receiversMain(n: number) {
  let buf = emptyRecords();
  let verifiers: Webhook[] = [];
  let seen = 0;
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = Date.now();
        const [, kind, ep] = (req.url ?? '').split('/');
        const epIndex = Number(ep);
        const wid = String(req.headers['webhook-id'] ?? '');
        const status = kind === 'fail' ? 500 : 200;
        if (SIGN_CHECK > 0 && seen++ % SIGN_CHECK === 0 && verifiers[epIndex]) {
          buf.verified += 1;
          try {
            verifiers[epIndex]!.verify(Buffer.concat(chunks).toString('utf8'), {
              'webhook-id': wid,
              'webhook-timestamp': String(req.headers['webhook-timestamp']),
              'webhook-signature': String(req.headers['webhook-signature']),
            });
          } catch {
            buf.badSignatures += 1;
          }
        }
        buf.at.push(at);
        buf.ep.push(epIndex);
        buf.id.push(wid.replace(/^msg_/, ''));
        buf.status.push(status);
        const answer = () => {
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end(status === 200 ? 'ok' : 'error');
        };
        if (kind === 'slow') setTimeout(answer, 1000 + Math.random() * 1000);
        else answer();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.push((server.address() as AddressInfo).port);
  }
  process.on('message', (m: { type: string; id?: number; secrets?: string[] }) => {
    if (m.type === 'secrets') {
      verifiers = m.secrets!.map((s) => new Webhook(s));
      process.send!({ type: 'secrets-ok' });
    } else if (m.type === 'sync') {
      process.send!({ type: 'records', id: m.id, records: buf });
      buf = emptyRecords();
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', ports });
}

interface Receivers {
  ports: number[];
  pid: number | undefined;
  setSecrets(secrets: string[]): Promise<void>;
  /** Every request recorded since the last sync. */
  sync(): Promise<Records>;
  stop(): void;
}

async function startReceivers(n: number): Promise<Receivers> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--receivers', String(n)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (r: Records) => void>();
  let secretsOk: (() => void) | null = null;
  let nextId = 0;
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receivers exited with ${code}`)));
    child.on('message', (m: { type: string; id?: number; ports?: number[]; records?: Records }) => {
      if (m.type === 'ready') resolve(m.ports!);
      else if (m.type === 'secrets-ok') secretsOk?.();
      else if (m.type === 'records') {
        waiting.get(m.id!)?.(m.records!);
        waiting.delete(m.id!);
      }
    });
  });
  child.removeAllListeners('exit');
  child.on('error', () => {}); // a send after the child died; sync() answers empty records then
  return {
    ports,
    pid: child.pid,
    setSecrets: (secrets) =>
      new Promise((resolve) => {
        secretsOk = resolve;
        child.send({ type: 'secrets', secrets });
      }),
    sync: () =>
      new Promise((resolve) => {
        // Gone (SIGINT reaches the whole process group): nothing more to hand over.
        if (!child.connected) return resolve(emptyRecords());
        const id = nextId++;
        waiting.set(id, resolve);
        child.send({ type: 'sync', id }, (err) => {
          if (err) {
            waiting.delete(id);
            resolve(emptyRecords());
          }
        });
      }),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

// ============================================================================ statement timing
const KINDS: [string, RegExp][] = [
  ['set role + claims (prelude)', /^\s*select set_config\('role'/],
  ['claim: select due (for update skip locked)', /for update of m skip locked/],
  ['claim: mark sending (+ endpoint, payload)', /set status = 'sending'/],
  ['record: messages + attempts', /insert into public\.webhook_attempts/],
  ['record: endpoint health', /update public\.webhook_endpoints/],
  ['record: fail a disabled endpoint\'s queue', /Not sent: the endpoint was disabled/],
  ['nothing to deliver?', /select not \(exists/],
  ['job_runs bookkeeping', /private\.job_runs/],
];
interface Timing {
  ms: number;
  n: number;
  rows: number;
}
interface Meter {
  kinds: Map<string, Timing>;
  txBeginCommitMs: number;
  txCount: number;
  /** Requests by endpoint kind: summed time to the answer's headers. */
  http: Map<string, Timing>;
  /** Claim transactions: wall ms and messages claimed. */
  claims: Array<{ ms: number; n: number }>;
}
const newMeter = (): Meter => ({ kinds: new Map(), txBeginCommitMs: 0, txCount: 0, http: new Map(), claims: [] });
let meter = newMeter();
const kindOfSql = (text: string) => KINDS.find(([, re]) => re.test(text))?.[0] ?? 'other';

/** The job's Db: every statement timed; once `stopped()`, its claims find nothing (the run then ends). */
function benchDb(db: Db, stopped: () => boolean): Db {
  const wrap = (q: Queryable, inClaim?: { n: number | null }): Queryable => ({
    async query<T>(text: string, params?: readonly unknown[]) {
      const kind = kindOfSql(text);
      if (stopped()) {
        if (kind.startsWith('claim: select')) return [] as T[];
        if (kind === 'nothing to deliver?') return [{ idle: true }] as T[];
      }
      const t = performance.now();
      let rows: T[] = [];
      try {
        rows = await q.query<T>(text, params);
        return rows;
      } finally {
        const m = meter.kinds.get(kind) ?? { ms: 0, n: 0, rows: 0 };
        m.ms += performance.now() - t;
        m.n += 1;
        m.rows += rows.length;
        meter.kinds.set(kind, m);
        if (inClaim && kind.startsWith('claim: select')) inClaim.n = 0;
        if (inClaim && kind.startsWith('claim: mark')) inClaim.n = rows.length;
      }
    },
    exec: (script: string) => q.exec(script),
  });
  return {
    kind: db.kind,
    ...wrap(db),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      const t = performance.now();
      let entered = t;
      let left = t;
      const claim = { n: null as number | null };
      const m = meter;
      try {
        return await db.transaction(async (tx) => {
          entered = performance.now();
          try {
            return await fn(wrap(tx, claim));
          } finally {
            left = performance.now();
          }
        });
      } finally {
        m.txBeginCommitMs += entered - t + (performance.now() - left);
        m.txCount += 1;
        if (claim.n !== null) m.claims.push({ ms: performance.now() - t, n: claim.n });
      }
    },
    withAdvisoryLock: (key, fn) => db.withAdvisoryLock(key, fn),
    close: () => db.close(),
  };
}

/** The outbound guard with each request's time summed by the endpoint's kind (read off the URL's path). */
function timedOutbound(g: OutboundGuard): OutboundGuard {
  return {
    checkUrl: (url) => g.checkUrl(url),
    agents: (opts) => g.agents(opts),
    async fetch(url, init) {
      const m = meter;
      const kind = new URL(String(url)).pathname.split('/')[1] ?? '?';
      const t = performance.now();
      try {
        return await g.fetch(url, init);
      } finally {
        const h = m.http.get(kind) ?? { ms: 0, n: 0, rows: 0 };
        h.ms += performance.now() - t;
        h.n += 1;
        m.http.set(kind, h);
      }
    },
  };
}

/** Busy and total jiffies of the whole machine. */
function machineCpu(): { busy: number; total: number } {
  const [line] = readFileSync('/proc/stat', 'utf8').split('\n');
  const v = line!.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}
/** CPU jiffies (user + system) of this process, the receivers', and Postgres's processes (this database's backends apart). */
function processCpu(): { self: number; receivers: number; postgres: Map<number, { ticks: number; mine: boolean }> } {
  const ticks = (pid: number | string) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ticks: Number(f[11]) + Number(f[12]) };
    } catch {
      return null;
    }
  };
  const postgresTicks = new Map<number, { ticks: number; mine: boolean }>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const t = ticks(pid);
    if (!t || !t.comm.startsWith('postgres')) continue;
    let title = '';
    try {
      title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // gone
    }
    postgresTicks.set(Number(pid), { ticks: t.ticks, mine: bench !== undefined && title.includes(` ${bench.name} `) });
  }
  return { self: ticks(process.pid)?.ticks ?? 0, receivers: receivers?.pid ? (ticks(receivers.pid)?.ticks ?? 0) : 0, postgres: postgresTicks };
}
interface CpuMark {
  wall: number;
  machine: { busy: number; total: number };
  procs: ReturnType<typeof processCpu>;
}
const cpuMark = (): CpuMark => ({ wall: performance.now(), machine: machineCpu(), procs: processCpu() });
/**
 * Cores used since the mark: this process, the receivers, this database's Postgres backends, Postgres's
 * other processes (WAL writer, checkpointer, autovacuum, other databases' backends), the rest of the machine.
 */
function cpuSince(m: CpuMark): string {
  const wallS = (performance.now() - m.wall) / 1000;
  const hz = 100; // USER_HZ
  const mc = machineCpu();
  const p = processCpu();
  const cores = (jiffies: number) => jiffies / hz / wallS;
  let mine = 0;
  let other = 0;
  for (const [pid, t] of p.postgres) {
    const d = t.ticks - (m.procs.postgres.get(pid)?.ticks ?? 0);
    if (t.mine) mine += d;
    else other += d;
  }
  const busyCores = ((mc.busy - m.machine.busy) / Math.max(1, mc.total - m.machine.total)) * ncpu();
  const self = cores(p.self - m.procs.self);
  const rec = cores(p.receivers - m.procs.receivers);
  const pgMine = cores(mine);
  const pgOther = cores(other);
  return (
    `${busyCores.toFixed(2)} of ${ncpu()} cores busy: this process (the job, the inserts) ${self.toFixed(2)}, the receivers ${rec.toFixed(2)}, ` +
    `this database's Postgres backends ${pgMine.toFixed(2)}, Postgres's other processes ${pgOther.toFixed(2)}, ` +
    `the rest of the machine ${Math.max(0, busyCores - self - rec - pgMine - pgOther).toFixed(2)}`
  );
}
const ncpu = () => readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).length;

function printMeter(title: string, m: Meter, wallMs: number) {
  console.log(`\n${title}: the job's time summed over its concurrent workers (${fmt(wallMs)} ms wall)`);
  console.log(`  ${'part'.padEnd(44)} | ${'ms'.padStart(9)} | ${'/wall'.padStart(6)} | ${'calls'.padStart(7)} | ${'ms/call'.padStart(7)} | rows`);
  const row = (k: string, ms: number, calls: number | null, rows: number | null = null) =>
    console.log(
      `  ${k.padEnd(44)} | ${fmt(ms).padStart(9)} | ${((100 * ms) / wallMs).toFixed(1).padStart(5)}% | ${(calls === null ? '' : fmt(calls)).padStart(7)} | ${(calls ? (ms / calls).toFixed(2) : '').padStart(7)} | ${rows === null ? '' : fmt(rows)}`,
    );
  for (const [k, v] of [...m.kinds].sort((a, b) => b[1].ms - a[1].ms)) row(k, v.ms, v.n, v.rows);
  row('begin + commit (WAL flush, pool wait)', m.txBeginCommitMs, m.txCount);
  for (const [k, v] of [...m.http].sort()) row(`HTTP requests to ${k === 'ok' ? 'healthy' : k === 'slow' ? 'slow' : 'failing'} endpoints`, v.ms, v.n);
  const claims = m.claims.filter((c) => c.n > 0);
  if (claims.length > 0) {
    const ms = claims.map((c) => c.ms).sort((a, b) => a - b);
    const ns = claims.map((c) => c.n).sort((a, b) => a - b);
    console.log(
      `  claims that took something: ${fmt(claims.length)} (of ${fmt(m.claims.length)}), transaction p50 ${fmt(percentile(ms, 0.5))} ms, p95 ${fmt(percentile(ms, 0.95))} ms, max ${fmt(ms.at(-1)!)} ms; ` +
        `messages per claim p50 ${fmt(percentile(ns, 0.5))}, max ${fmt(ns.at(-1)!)}`,
    );
  }
}

// ============================================================================ data
const METRICS = ['cpu', 'mem', 'disk', 'net', 'load', 'iops', 'temp', 'conn', 'queue', 'latency'];
/** An alert transition's data as private.alert_transitions_webhooks builds it (~500 bytes). */
function eventData(k: number, endpoint: number) {
  const metric = METRICS[k % METRICS.length]!;
  const host = `host-${String(k % 997).padStart(4, '0')}.${['eu-west-1', 'us-east-1', 'ap-south-1'][k % 3]}.internal`;
  const firing = k % 4 !== 3;
  const fingerprint = (Math.imul(k + 1, 2654435761) >>> 0).toString(16).padStart(8, '0') + (endpoint * 7919).toString(16).padStart(8, '0');
  return {
    type: firing ? 'alert.firing' : 'alert.resolved',
    data: {
      id: String(1_000_000 + k),
      ruleId: `00000000-0000-4000-8000-${String(endpoint).padStart(12, '0')}`,
      fingerprint,
      labels: { alertname: `High${metric[0]!.toUpperCase()}${metric.slice(1)}`, host, service: `svc-${k % 40}`, env: 'production', team: `team-${endpoint % 12}`, severity: 'critical' },
      status: firing ? 'firing' : 'resolved',
      previousStatus: firing ? 'pending' : 'firing',
      severity: 'critical',
      value: Math.round(9000 + (k % 1000)) / 100,
      threshold: 90,
      reason: `avg(system.${metric}.utilization) over 5m = ${(90 + (k % 1000) / 100).toFixed(2)} > 90 for ${host}`,
      at: new Date().toISOString(),
    },
    link: `/functions/v1/alerts/history?fingerprint=${fingerprint}`,
  };
}

// ============================================================================ main
let bench: BenchDatabase | undefined;
let receivers: Receivers | undefined;
let closeJobs: (() => Promise<void>) | undefined;

interface Ep {
  i: number;
  id: string;
  orgId: string;
  projectId: string;
  kind: Kind;
}

async function main() {
  if (!(ENDPOINTS >= 20 && ORGS >= 1 && ORGS <= ENDPOINTS && EVENTS >= ENDPOINTS && BATCH >= 1 && RATE >= 10 && RECEIVERS >= 1)) {
    throw new Error('ENDPOINTS >= 20 (so at least one is failing), 1 <= ORGS <= ENDPOINTS, EVENTS >= ENDPOINTS, BATCH >= 1, RATE >= 10, RECEIVERS >= 1');
  }
  const started = performance.now();
  const kinds = Array.from({ length: ENDPOINTS }, (_, i) => kindOf(i));
  const count = (k: Kind) => kinds.filter((x) => x === k).length;
  console.log(
    `webhooks benchmark: ${ENDPOINTS} endpoints (${count('ok')} healthy, ${count('slow')} slow 1-2 s, ${count('fail')} answering 500) in ${ENDPOINTS} projects of ${ORGS} organizations, ` +
      `on ${RECEIVERS} receivers; phase 1 ${fmt(EVENTS)} events in batches of ${BATCH}; phase 2 ${RATE} events/s for ${LATENCY_SECONDS} s; ` +
      `phase 3 ${SCHEDULED_SECONDS > 0 ? `${SCHEDULED_SECONDS} s under the scheduler's cadence` : 'skipped'}; job pool ${POOL}` +
      (process.env.DELIVER_WEBHOOKS_MODULE ? `; the job from ${process.env.DELIVER_WEBHOOKS_MODULE}` : ''),
  );

  receivers = await startReceivers(RECEIVERS);
  bench = await createBenchDatabase('observai_whbench');
  const { sql } = bench;
  console.log(`database ${bench.name}`);
  if (EXTRA_SQL) {
    await sql.unsafe(EXTRA_SQL);
    console.log(`EXTRA_SQL: ${EXTRA_SQL}`);
  }
  const KEY = randomBytes(32).toString('base64');
  const config = parseConfig({
    OBSERVAI_MODE: 'local',
    DATABASE_URL: bench.url.toString(),
    OBSERVAI_DATA_DIR: bench.dataDir,
    DB_POOL_MAX: String(POOL),
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    OUTBOUND_ALLOW_PRIVATE: receivers.ports.map((p) => `127.0.0.1:${p}`).join(','),
    SECRET_ENCRYPTION_KEY: KEY,
  });
  const logger = createNodeLogger(config);
  const jobsDb = createPostgresDb(bench.url.toString(), { max: POOL, applicationName: 'observai-whbench-jobs' });
  const base = createNodeDeps(config, { logger, clock: systemClock, db: jobsDb });
  const outbound = timedOutbound(base.outbound);
  const silence = () => ((logger as unknown as { level: string }).level = 'silent');
  // The harness drops the database on SIGINT/SIGTERM; the job's errors after that are noise.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, silence);
  closeJobs = async () => {
    silence();
    await Promise.race([Promise.allSettled([base.cache.close(), jobsDb.close()]), new Promise((r) => setTimeout(r, 3000))]);
  };

  // ---- setup: organizations, projects, endpoints with sealed secrets
  let t = performance.now();
  const box = await createSecretBox(KEY);
  const orgIds: string[] = [];
  for (let o = 0; o < ORGS; o++) {
    const [org] = await sql<{ id: string }[]>`insert into public.organizations (name, slug) values (${`Bench ${o}`}, ${`whbench-${o}`}) returning id`;
    orgIds.push(org!.id);
  }
  const eps: Ep[] = [];
  const secrets: string[] = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    const orgId = orgIds[i % ORGS]!;
    const [p] = await sql<{ id: string }[]>`insert into public.projects (organization_id, name, slug) values (${orgId}, ${`Project ${i}`}, ${`p-${i}`}) returning id`;
    const id = randomUUID();
    const secret = generateWebhookSecret();
    secrets.push(secret);
    const sealed = await box.seal(secret, id);
    const kind = kinds[i]!;
    const url = `http://127.0.0.1:${receivers.ports[i % RECEIVERS]}/${kind}/${i}`;
    await sql`insert into public.webhook_endpoints (id, organization_id, project_id, url, event_types, secret_ciphertext, description)
              values (${id}, ${orgId}, ${p!.id}, ${url}, ${['alert.*', 'incident.*']}, ${sealed}, ${`bench endpoint ${i} (${kind})`})`;
    eps.push({ i, id, orgId, projectId: p!.id, kind });
  }
  await receivers.setSecrets(secrets);
  await sql`analyze`;
  console.log(`setup: ${ORGS} organizations, ${ENDPOINTS} projects and endpoints in ${fmt(performance.now() - t)} ms`);

  // ---- event writing (the outbox) and the receivers' records
  /** Event id (hex, no dashes) -> created_at (epoch ms), phase, endpoint index. */
  const events = new Map<string, { created: number; phase: number; ep: number }>();
  let nextProject = 0;
  let k = 0;
  const insertEvents = async (n: number, phase: number) => {
    const rows = [];
    for (let j = 0; j < n; j++) {
      const ep = eps[nextProject]!;
      nextProject = (nextProject + 1) % eps.length;
      const e = eventData(k++, ep.i);
      rows.push({ org: ep.orgId, project: ep.projectId, type: e.type, data: e.data, link: e.link });
    }
    const out = await sql<{ id: string; at: number; project_id: string }[]>`
      insert into public.webhook_events (organization_id, project_id, type, payload)
      select x.org, x.project, x.type, private.webhook_payload(x.type, x.data, x.link)
      from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as x(org uuid, project uuid, type text, data jsonb, link text)
      returning id, (extract(epoch from created_at) * 1000)::float8 as at, project_id`;
    for (const r of out) events.set(r.id.replaceAll('-', ''), { created: r.at, phase, ep: byProject.get(r.project_id)!.i });
  };
  const byProject = new Map(eps.map((e) => [e.projectId, e]));

  interface Arrival {
    at: number;
    ep: number;
    id: string;
    status: number;
  }
  const arrivals: Arrival[] = [];
  let verified = 0;
  let badSignatures = 0;
  const pull = async () => {
    const r = await receivers!.sync();
    for (let j = 0; j < r.at.length; j++) arrivals.push({ at: r.at[j]!, ep: r.ep[j]!, id: r.id[j]!, status: r.status[j]! });
    verified += r.verified;
    badSignatures += r.badSignatures;
  };
  let pulling = true;
  const puller = (async () => {
    while (pulling) {
      await pull();
      await new Promise((r) => setTimeout(r, 500));
    }
  })();

  // ---- the job: one long run of runDeliverWebhooks through phases 1 and 2
  let stopContinuous = false;
  const continuousDeps = { ...base, db: benchDb(jobsDb, () => stopContinuous), outbound };
  const continuous = runDeliverWebhooks(continuousDeps, { now: new Date(), budgetMs: 3600 * S });
  continuous.catch(() => {});

  // ---- phase 1: throughput
  console.log(`\nphase 1: ${fmt(EVENTS)} events inserted as fast as they go, the job running`);
  meter = newMeter();
  const cpu1 = cpuMark();
  const p1Start = Date.now();
  const p1StartPerf = performance.now();
  t = performance.now();
  for (let done = 0; done < EVENTS; done += BATCH) await insertEvents(Math.min(BATCH, EVENTS - done), 1);
  const insertMs = performance.now() - t;
  const [sz] = await sql<{ b: number }[]>`select avg(octet_length(payload::text))::float8 as b from (select payload from public.webhook_events limit 1000) x`;
  const avgPayload = sz!.b;
  console.log(
    `  inserted ${fmt(EVENTS)} events (+ fan-out to ${fmt(EVENTS)} messages) in ${fmt(insertMs)} ms: ${fmt(EVENTS / (insertMs / 1000))} events/s, ` +
      `${fmt(insertMs / Math.ceil(EVENTS / BATCH), 1)} ms per batch of ${BATCH}; payload ${fmt(avgPayload)} bytes on average`,
  );
  const healthy1 = new Set<string>();
  for (const [id, e] of events) if (e.phase === 1 && kinds[e.ep] === 'ok') healthy1.add(id);
  const seenHealthy = new Set<string>();
  let lastProgress = performance.now();
  let scanned = 0;
  for (;;) {
    await pull();
    for (; scanned < arrivals.length; scanned++) {
      const a = arrivals[scanned]!;
      if (healthy1.has(a.id)) seenHealthy.add(a.id);
    }
    if (seenHealthy.size >= healthy1.size) break;
    if (performance.now() - lastProgress > 10 * S) {
      lastProgress = performance.now();
      console.log(`  ... ${fmt((performance.now() - p1StartPerf) / 1000, 0)} s: ${fmt(seenHealthy.size)} of ${fmt(healthy1.size)} healthy messages delivered`);
    }
    if (performance.now() - p1StartPerf > DRAIN_SECONDS * S) {
      console.log(`  gave up after ${DRAIN_SECONDS} s: ${fmt(healthy1.size - seenHealthy.size)} healthy messages not delivered`);
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const p1Meter = meter;
  const p1Cpu = cpuSince(cpu1);
  const p1Arrivals = arrivals.filter((a) => events.get(a.id)?.phase === 1);
  const lastHealthy = Math.max(...p1Arrivals.filter((a) => kinds[a.ep] === 'ok').map((a) => a.at));
  const p1Wall = lastHealthy - p1Start;
  const inWindow = p1Arrivals.filter((a) => a.at <= lastHealthy);
  const ok1 = inWindow.filter((a) => a.status === 200);
  const rate = ok1.length / (p1Wall / 1000);
  const healthyRate = ok1.filter((a) => kinds[a.ep] === 'ok').length / (p1Wall / 1000);
  const dupes = (as: Arrival[], ids: Set<string>) => {
    const c = new Map<string, number>();
    for (const a of as) if (ids.has(a.id)) c.set(a.id, (c.get(a.id) ?? 0) + 1);
    let dup = 0;
    for (const v of c.values()) if (v > 1) dup += v - 1;
    return { unique: c.size, dup };
  };
  const d1 = dupes(p1Arrivals, healthy1);
  const backlog1 = p1Arrivals.filter((a) => kinds[a.ep] === 'ok').map((a) => a.at - events.get(a.id)!.created).sort((a, b) => a - b);
  console.log(
    `  ${fmt(ok1.length)} deliveries (2xx) from the first insert to the last healthy delivery, ${fmt(p1Wall)} ms: ${fmt(rate)} deliveries/s ` +
      `(healthy endpoints ${fmt(healthyRate)}/s; slow ones ${fmt(ok1.length - ok1.filter((a) => kinds[a.ep] === 'ok').length)} in all; ` +
      `${fmt(inWindow.filter((a) => a.status !== 200).length)} failed attempts at the failing ones)`,
  );
  console.log(
    `  healthy messages: ${fmt(healthy1.size)} expected, ${fmt(d1.unique)} delivered, ${fmt(healthy1.size - d1.unique)} missing, ${fmt(d1.dup)} duplicates; ` +
      `event-to-delivery during the flood (the backlog's wait): p50 ${fmt(percentile(backlog1, 0.5))} ms, p95 ${fmt(percentile(backlog1, 0.95))} ms, max ${fmt(backlog1.at(-1)!)} ms`,
  );
  console.log(`  CPU over phase 1: ${p1Cpu}`);
  printMeter('phase 1', p1Meter, p1Wall);

  // ---- phase 2: latency under a steady feed
  const feed = async (seconds: number, phase: number) => {
    const perTick = Math.max(1, Math.round((RATE * FEED_TICK_MS) / 1000));
    const t0 = performance.now();
    let lateTicks = 0;
    for (let tick = 0; tick < (seconds * 1000) / FEED_TICK_MS; tick++) {
      const due = t0 + tick * FEED_TICK_MS;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -FEED_TICK_MS) lateTicks += 1;
      await insertEvents(perTick, phase);
    }
    return { lateTicks, sent: Math.round((seconds * 1000) / FEED_TICK_MS) * perTick, ms: performance.now() - t0 };
  };
  const latencyReport = async (phase: number, label: string, waitMs: number) => {
    const ids = new Map<string, { created: number; ep: number }>();
    for (const [id, e] of events) if (e.phase === phase) ids.set(id, e);
    const healthyIds = new Set([...ids].filter(([, e]) => kinds[e.ep] === 'ok').map(([id]) => id));
    const until = performance.now() + waitMs;
    let got = new Set<string>();
    for (;;) {
      await pull();
      got = new Set(arrivals.filter((a) => healthyIds.has(a.id)).map((a) => a.id));
      if (got.size >= healthyIds.size || performance.now() > until) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const mine = arrivals.filter((a) => ids.has(a.id));
    const firstArrival = new Map<string, Arrival>();
    for (const a of mine) if (!firstArrival.has(a.id)) firstArrival.set(a.id, a);
    const lat = (k2: Kind) =>
      [...firstArrival.values()]
        .filter((a) => kinds[a.ep] === k2)
        .map((a) => a.at - ids.get(a.id)!.created)
        .sort((a, b) => a - b);
    const h = lat('ok');
    const sl = lat('slow');
    const slowTotal = [...ids.values()].filter((e) => kinds[e.ep] === 'slow').length;
    const d = dupes(mine, healthyIds);
    const stat = (xs: number[]) => (xs.length ? `p50 ${fmt(percentile(xs, 0.5))} ms, p95 ${fmt(percentile(xs, 0.95))} ms, max ${fmt(xs.at(-1)!)} ms` : 'none arrived');
    console.log(`  ${label} healthy endpoints: ${fmt(h.length)} of ${fmt(healthyIds.size)} delivered (${fmt(d.dup)} duplicates); event-to-delivery ${stat(h)}`);
    console.log(`  ${label} slow endpoints: ${fmt(sl.length)} of ${fmt(slowTotal)} delivered by now; of those ${stat(sl)}`);
    // Per second of the feed: the healthy p95 of the events created in that second (shows gaps).
    const bySecond = new Map<number, number[]>();
    const t0 = Math.min(...[...ids.values()].map((e) => e.created));
    for (const a of firstArrival.values()) {
      if (kinds[a.ep] !== 'ok') continue;
      const e = ids.get(a.id)!;
      const s = Math.floor((e.created - t0) / 1000);
      (bySecond.get(s) ?? bySecond.set(s, []).get(s)!).push(a.at - e.created);
    }
    const perSecond = [...bySecond].sort((a, b) => a[0] - b[0]).map(([, xs]) => percentile(xs.sort((a, b) => a - b), 0.95));
    console.log(`  ${label} healthy p95 per second of the feed (ms): ${perSecond.map((x) => fmt(x)).join(' ')}`);
    return { p95: h.length ? percentile(h, 0.95) : NaN, p50: h.length ? percentile(h, 0.5) : NaN, max: h.at(-1) ?? NaN, delivered: h.length, expected: healthyIds.size, dup: d.dup };
  };

  console.log(`\nphase 2: ${RATE} events/s for ${LATENCY_SECONDS} s (a batch every ${FEED_TICK_MS} ms), the job running`);
  meter = newMeter();
  const cpu2 = cpuMark();
  const p2Start = performance.now();
  const f2 = await feed(LATENCY_SECONDS, 2);
  const p2FeedCpu = cpuSince(cpu2);
  console.log(`  fed ${fmt(f2.sent)} events in ${fmt(f2.ms)} ms (${f2.lateTicks} batches more than ${FEED_TICK_MS} ms late); CPU while feeding: ${p2FeedCpu}`);
  const l2 = await latencyReport(2, 'phase 2', 30 * S);
  printMeter('phase 2', meter, performance.now() - p2Start);

  // The continuous run ends: its claims find nothing from now on, it returns once its sends answered.
  stopContinuous = true;
  // Not awaited: phase 3 starts at once (two runners are safe: claims skip what the other leased).

  // ---- phase 3: the scheduler's cadence
  let l3: Awaited<ReturnType<typeof latencyReport>> | null = null;
  if (SCHEDULED_SECONDS > 0) {
    console.log(`\nphase 3: ${RATE} events/s for ${SCHEDULED_SECONDS} s while deliver-webhooks runs as the scheduler runs it (runJob, ${SCHEDULED_BUDGET_MS === undefined ? 'its default' : `a ${fmt(SCHEDULED_BUDGET_MS)} ms`} budget, at minute boundaries from now)`);
    meter = newMeter();
    let stopScheduled = false;
    const scheduledDeps = { ...base, db: benchDb(jobsDb, () => stopScheduled), outbound };
    const B0 = performance.now();
    const runsLog: string[] = [];
    let scheduling = true;
    const scheduler = (async () => {
      for (let b = B0; scheduling; ) {
        const wait = b - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (!scheduling) break;
        const s0 = performance.now();
        const run = await runJob(scheduledDeps, deliverWebhooks, SCHEDULED_BUDGET_MS === undefined ? {} : { budgetMs: SCHEDULED_BUDGET_MS });
        const s1 = performance.now();
        runsLog.push(`run from ${((s0 - B0) / 1000).toFixed(1)} s to ${((s1 - B0) / 1000).toFixed(1)} s (${run.outcome}, ${JSON.stringify(run.summary)})`);
        b = B0 + Math.ceil((s1 - B0 + 1) / MIN) * MIN;
      }
    })();
    scheduler.catch(() => {});
    const f3 = await feed(SCHEDULED_SECONDS, 3);
    console.log(`  fed ${fmt(f3.sent)} events in ${fmt(f3.ms)} ms (${f3.lateTicks} batches late)`);
    l3 = await latencyReport(3, 'phase 3', 75 * S);
    scheduling = false;
    stopScheduled = true;
    for (const line of runsLog) console.log(`  ${line}`);
    await Promise.race([scheduler, new Promise((r) => setTimeout(r, 100))]);
  }
  stopContinuous = true;

  // ---- the failing endpoints, the slow ones' backlog, the tables
  await pull();
  const [ft] = await sql<{ messages: number; attempts: number; a1: number; a2: number; a3: number; due5min: number; failing_since: number; disabled: number }[]>`
    select (select count(*) from public.webhook_messages m join public.webhook_endpoints e on e.id = m.endpoint_id where e.url like '%/fail/%')::int as messages,
           (select count(*) from public.webhook_attempts a join public.webhook_endpoints e on e.id = a.endpoint_id where e.url like '%/fail/%')::int as attempts,
           (select count(*) from public.webhook_messages m join public.webhook_endpoints e on e.id = m.endpoint_id where e.url like '%/fail/%' and m.attempts = 1)::int as a1,
           (select count(*) from public.webhook_messages m join public.webhook_endpoints e on e.id = m.endpoint_id where e.url like '%/fail/%' and m.attempts = 2)::int as a2,
           (select count(*) from public.webhook_messages m join public.webhook_endpoints e on e.id = m.endpoint_id where e.url like '%/fail/%' and m.attempts >= 3)::int as a3,
           (select count(*) from public.webhook_messages m join public.webhook_endpoints e on e.id = m.endpoint_id
             where e.url like '%/fail/%' and m.status = 'pending' and m.next_attempt_at > now() + interval '3 minutes')::int as due5min,
           (select count(*) from public.webhook_endpoints where url like '%/fail/%' and failing_since is not null)::int as failing_since,
           (select count(*) from public.webhook_endpoints where disabled_at is not null)::int as disabled`;
  const failReq = arrivals.filter((a) => kinds[a.ep] === 'fail').length;
  console.log(
    `\nfailing endpoints (${count('fail')}): ${fmt(ft!.messages)} messages, ${fmt(ft!.attempts)} attempts recorded (${fmt(failReq)} requests at the receivers); ` +
      `messages at attempt 1: ${fmt(ft!.a1)}, 2: ${fmt(ft!.a2)}, 3+: ${fmt(ft!.a3)}; ${fmt(ft!.due5min)} waiting for the 5-min retry; ` +
      `${ft!.failing_since} endpoints marked failing_since, ${ft!.disabled} disabled`,
  );
  const status = await sql<{ kind: string; status: string; n: number }[]>`
    select split_part(e.url, '/', 4) as kind, m.status, count(*)::int as n from public.webhook_messages m join public.webhook_endpoints e on e.id = m.endpoint_id
    group by 1, 2 order by 1, 2`;
  console.log(`messages by endpoint kind and status: ${status.map((r) => `${r.kind}/${r.status} ${fmt(r.n)}`).join(', ')}`);
  // Healthy: every message delivered exactly once (DB and receivers).
  const healthyAll = new Set([...events].filter(([, e]) => kinds[e.ep] === 'ok').map(([id]) => id));
  const dAll = dupes(arrivals, healthyAll);
  const [hdb] = await sql<{ delivered: number; multi: number }[]>`
    select count(*) filter (where m.status = 'delivered')::int as delivered, count(*) filter (where m.attempts > 1)::int as multi
    from public.webhook_messages m join public.webhook_endpoints e on e.id = m.endpoint_id where e.url like '%/ok/%'`;
  console.log(
    `healthy endpoints over the whole run: ${fmt(healthyAll.size)} messages, ${fmt(dAll.unique)} arrived, ${fmt(healthyAll.size - dAll.unique)} lost, ${fmt(dAll.dup)} duplicates at the receivers; ` +
      `in the database ${fmt(hdb!.delivered)} delivered, ${fmt(hdb!.multi)} with more than one attempt`,
  );
  console.log(`signatures verified at the receivers with standardwebhooks: ${fmt(verified)}, ${fmt(badSignatures)} failed`);
  const sizes = await sql<{ t: string; size: string; live: number; dead: number; upd: number; hot: number }[]>`
    select c.relname as t, pg_size_pretty(pg_total_relation_size(c.oid)) as size, s.n_live_tup::int as live, s.n_dead_tup::int as dead,
           s.n_tup_upd::int as upd, s.n_tup_hot_upd::int as hot
    from pg_class c join pg_stat_user_tables s on s.relid = c.oid where c.relname like 'webhook_%' order by c.relname`;
  console.log(`tables: ${sizes.map((r) => `${r.t} ${r.size} (${fmt(r.live)} live, ${fmt(r.dead)} dead, ${fmt(r.upd)} updates of which ${fmt(r.hot)} HOT)`).join('; ')}`);

  pulling = false;
  await puller.catch(() => {});
  console.log(`\n(whole run ${fmt((performance.now() - started) / 1000)} s)`);
  if (l3) console.log(`under the scheduler's cadence (phase 3): healthy event-to-delivery p50 ${fmt(l3.p50)} ms, p95 ${fmt(l3.p95)} ms, max ${fmt(l3.max)} ms`);
  console.log('');
  console.log(`webhooks: ${Math.round(rate)} deliveries/s, event-to-delivery p95 ${Number.isFinite(l2.p95) ? Math.round(l2.p95) : 'n/a'} ms`);
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
    await closeJobs?.().catch(() => {});
    await bench?.cleanup();
  }
  process.exit(exitCode);
}
