/**
 * `npm run test:chaos`: ingest under faults, end to end, on the real gateway.
 *
 * A fresh database on the local Postgres (DATABASE_URL's server, default
 * postgres://postgres@127.0.0.1:5432/postgres) is migrated and given a tenant with an ingest key. TCP
 * proxies on 127.0.0.1 stand in front of Postgres and Redis (REDIS_URL, default redis://127.0.0.1:6379),
 * and the gateway (`scripts/gateway.ts`, local mode, GATEWAY_WORKERS=2) reaches both only through
 * them: cutting a proxy (its listener closed, its connections reset) is, to the gateway, the service
 * stopping, without stopping the machine's shared servers. CHAOS_CLIENTS clients (default 4) each send
 * a native JSON batch of metrics and logs every CHAOS_INTERVAL_MS (default 100), every event
 * identifiable (metric points by a client-chosen `id`, logs by their content), and behave as an SDK
 * should: a 429 or 503 is retried after its Retry-After, a lost connection after a moment, always the
 * same batch with the same events. The phases: steady CHAOS_STEADY_SECONDS (default 10); Postgres cut
 * for CHAOS_OUTAGE_SECONDS (default 30), restored; steady; Redis cut as long, restored; steady; one
 * gateway worker killed with SIGKILL while requests are in flight; steady once its replacement
 * is ready. Then the load stops and the stored rows are counted per event.
 *
 * Prints one line to stdout (details to stderr):
 *   chaos: <acknowledged> acknowledged, <stored> stored, <lost> lost, <duplicated> duplicated, recovery <s> s
 * acknowledged: events a 2xx answer accepted or called duplicates (not those it rejected); stored: rows
 * of the run's events; lost: acknowledged events with no row; duplicated: events with more than one
 * row; recovery: the longest time, over the three faults, from the restoration (or the kill) to the
 * first 2xx answer to a request sent after it.
 *
 * Exits 1 when an event is lost or duplicated, a 429 or 503 lacks a Retry-After of whole seconds, an
 * answer is a 5xx other than 503 (or another 4xx), a request gets no answer at all (a connection
 * dropped other than by the kill, or nothing within CHAOS_REQUEST_TIMEOUT_MS), a 2xx's counts do not add
 * up to its batch, a worker dies that was not killed, no replacement becomes ready, recovery takes
 * longer than 5 s, or the run passes its deadline (CHAOS_DEADLINE_SECONDS). Exits 2 when it cannot
 * set up. The database, the temp dir and the project's Redis keys are removed afterwards (KEEP_DB=1
 * keeps the database).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { systemClock } from '../src/core/clock.ts';
import { createPostgresDb } from '../src/db/postgres.ts';
import type { Db } from '../src/db/types.ts';
import { migrateDb } from '../src/node/deps.ts';
import { seedDemo } from '../src/orgs/seed-demo.ts';
import { type Proxy, tcpProxy } from '../tests/helpers/tcp-proxy.ts';

/** A whole-number setting from the environment, refused (exit 2) when it is not one or below `min`. */
function setting(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`chaos: ${name} must be a whole number >= ${min} (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return n;
}

const OUTAGE_S = setting('CHAOS_OUTAGE_SECONDS', 30, 1);
const STEADY_S = setting('CHAOS_STEADY_SECONDS', 10, 1);
const CLIENTS = setting('CHAOS_CLIENTS', 4, 1);
const INTERVAL_MS = setting('CHAOS_INTERVAL_MS', 100, 1);
const METRICS_PER_BATCH = setting('CHAOS_METRICS_PER_BATCH', 20, 0);
const LOGS_PER_BATCH = setting('CHAOS_LOGS_PER_BATCH', 5, 0);
const REQUEST_TIMEOUT_MS = setting('CHAOS_REQUEST_TIMEOUT_MS', 30_000, 1000);
// Start-up (migrations, two workers under tsx) took 3-11 s on a busy two-core machine; the margin
// covers a slower one, the replacement worker's start and the last retries.
const DEADLINE_S = setting('CHAOS_DEADLINE_SECONDS', 2 * OUTAGE_S + 5 * STEADY_S + 240, 10);
/** The promise: the gateway serves again within this long of a fault ending. */
const RECOVERY_LIMIT_S = 5;
/**
 * Connection errors of requests sent up to this long after the kill are the kill's: until the primary
 * sees the worker exit it may still hand it a connection, which it then closes.
 */
const KILL_GRACE_MS = 1000;
if (METRICS_PER_BATCH + LOGS_PER_BATCH === 0) {
  console.error('chaos: a batch needs at least one event (CHAOS_METRICS_PER_BATCH + CHAOS_LOGS_PER_BATCH)');
  process.exit(2);
}

const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
for (const [name, url] of [['DATABASE_URL', adminUrl], ['REDIS_URL', redisUrl]] as const) {
  // The run cuts connections and floods a database: only ever against this machine's own servers.
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) {
    console.error(`chaos: ${name} must point at this machine (127.0.0.1), not ${new URL(url).hostname}`);
    process.exit(2);
  }
}

const t0 = performance.now();
const since = (at: number) => (at - t0) / 1000;
const hardDeadline = t0 + DEADLINE_S * 1000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const log = (line: string) => console.error(`chaos: ${line}`);

// ---------------------------------------------------------------------------------------------
// Faults: a TCP proxy per dependency.


// ---------------------------------------------------------------------------------------------
// What the run observed.

type Outcome = '2xx' | '429' | '503' | 'other' | 'network' | 'timeout';
interface Phase {
  name: string;
  from: number;
  to?: number;
  counts: Record<Outcome, number>;
  other: Map<string, number>;
}
const phases: Phase[] = [];
let phase: Phase = newPhase('start');
function newPhase(name: string): Phase {
  if (phases.length) phases.at(-1)!.to = performance.now();
  const p: Phase = { name, from: performance.now(), counts: { '2xx': 0, '429': 0, '503': 0, other: 0, network: 0, timeout: 0 }, other: new Map() };
  phases.push(p);
  return p;
}

/** Everything that fails the run, by kind, with the first example. */
const violations = new Map<string, { count: number; example: string }>();
function violation(kind: string, example: string) {
  const v = violations.get(kind);
  if (v) v.count += 1;
  else violations.set(kind, { count: 1, example });
}

interface Fault {
  name: string;
  /** When the dependency was restored, or the worker killed (performance.now(), and Date.now() for the gateway's log times). */
  at?: number;
  epochAt?: number;
  /** When the first 2xx to a request sent at or after `at` arrived. */
  firstOk?: number;
}
const faults: Fault[] = [{ name: 'postgres' }, { name: 'redis' }, { name: 'worker kill' }];
const [pgFault, redisFault, killFault] = faults as [Fault, Fault, Fault];

/** Event identities a 2xx acknowledged (accepted or duplicate), and those sent but never acknowledged. */
const acknowledged = new Set<string>();
let rejectedIn2xx = 0;
/** Events 2xx answers called duplicates: retries of batches stored before (a commit whose answer was lost). */
let duplicatesIn2xx = 0;
let unfinished = 0;
let inFlight = 0;
let cutByKill = 0;
let stopLoad = false;

// ---------------------------------------------------------------------------------------------
// The clients.

interface Batch {
  body: string;
  /** Identities in the order of the request's lists. */
  metrics: string[];
  logs: string[];
}

const runId = randomBytes(4).toString('hex');

/**
 * `METRICS_PER_BATCH` points of one series per client (value = the event's number, identified by a
 * client-chosen `id`) and `LOGS_PER_BATCH` log lines (message = client:number, no `id`: identified by
 * their content), so both kinds of event identity meet the faults.
 */
function makeBatch(client: number, firstSeq: number): Batch {
  const timestamp = Date.now();
  const b: Batch = { body: '', metrics: [], logs: [] };
  const metrics = [];
  const logs = [];
  let seq = firstSeq;
  for (let i = 0; i < METRICS_PER_BATCH; i++, seq++) {
    metrics.push({ id: `${runId}-c${client}-${seq}`, name: 'chaos.metric', value: seq, timestamp, tags: { client: `c${client}` } });
    b.metrics.push(`c${client}:${seq}`);
  }
  for (let i = 0; i < LOGS_PER_BATCH; i++, seq++) {
    logs.push({ timestamp, level: 'info', service: 'chaos', message: `c${client}:${seq}`, attributes: { run: runId } });
    b.logs.push(`c${client}:${seq}`);
  }
  b.body = JSON.stringify({ metrics, logs });
  return b;
}

type Answer = { status: number; retryAfter: string | undefined; text: string } | { error: 'network' | 'timeout'; message: string };

function post(url: URL, apiKey: string, body: string, requestId: string): Promise<Answer> {
  return new Promise((resolve) => {
    // A new connection per request (no keep-alive): a kept-alive socket can be reused just as the
    // server closes it for idleness (its 5 s timeout against a client that waited Retry-After = 5),
    // a connection error that would be the client's race, not the gateway's fault.
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers: { 'x-api-key': apiKey, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], text }));
        res.on('error', (err) => resolve({ error: 'network', message: err.message }));
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => {
      resolve({ error: 'timeout', message: `no answer within ${REQUEST_TIMEOUT_MS} ms` });
      req.destroy();
    });
    req.on('error', (err) => resolve({ error: 'network', message: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim() }));
    req.end(body);
  });
}

/** Sends one batch until a 2xx acknowledges it (or the run's deadline passes). */
async function deliver(url: URL, apiKey: string, batch: Batch): Promise<void> {
  const size = batch.metrics.length + batch.logs.length;
  for (let attempt = 1; ; attempt++) {
    if (performance.now() > hardDeadline) {
      unfinished += size;
      return;
    }
    const sentAt = performance.now();
    inFlight += 1;
    // The request id names the batch and attempt in the gateway's log lines.
    const requestId = `chaos-${runId}-${batch.metrics[0] ?? batch.logs[0]}-${attempt}`.replace(':', '-');
    const answer = await post(url, apiKey, batch.body, requestId);
    inFlight -= 1;
    const at = performance.now();
    if ('error' in answer) {
      phase.counts[answer.error] += 1;
      const byKill = killFault.at !== undefined && sentAt <= killFault.at + KILL_GRACE_MS && at >= killFault.at;
      if (byKill && answer.error === 'network') cutByKill += 1;
      else {
        const when = phases.findLast((p) => p.from <= sentAt)?.name ?? 'start';
        const afterKill = killFault.at === undefined ? '' : `, ${((sentAt - killFault.at) / 1000).toFixed(2)} s after the kill`;
        violation(answer.error === 'timeout' ? 'no answer in time' : 'connection error', `request ${requestId} sent in phase "${when}"${afterKill}: ${answer.message}`);
      }
      await sleep(answer.error === 'network' ? 200 : 1000);
      continue;
    }
    const { status } = answer;
    if (status >= 200 && status < 300) {
      phase.counts['2xx'] += 1;
      acknowledge(batch, answer.text, size);
      for (const f of faults) if (f.at !== undefined && f.firstOk === undefined && sentAt >= f.at) f.firstOk = at;
      return;
    }
    if (status === 429 || status === 503) {
      phase.counts[status === 429 ? '429' : '503'] += 1;
      const ra = answer.retryAfter;
      const valid = ra !== undefined && /^\d+$/.test(ra) && Number(ra) >= 1;
      if (!valid) violation(`${status} without Retry-After`, `${phase.name}: Retry-After ${JSON.stringify(ra)}, ${answer.text.slice(0, 200)}`);
      await sleep(valid ? Number(ra) * 1000 : 1000);
      continue;
    }
    phase.counts.other += 1;
    phase.other.set(String(status), (phase.other.get(String(status)) ?? 0) + 1);
    violation(`status ${status}`, `${phase.name}: ${answer.text.slice(0, 300)}`);
    if (status >= 500) {
      // Whether it was stored is unknown: retry, as an SDK would; the dedup makes that safe.
      await sleep(1000);
      continue;
    }
    unfinished += size; // another 4xx: the SDK would drop the batch
    return;
  }
}

/** Records a 2xx: every event of the batch but those its `errors` name (by list and index). */
function acknowledge(batch: Batch, text: string, size: number) {
  let res: { accepted: number; rejected: number; duplicates: number; errors: Array<{ index: number; field: string }> };
  try {
    res = JSON.parse(text);
  } catch {
    violation('unreadable 2xx', text.slice(0, 200));
    return;
  }
  if (res.accepted + res.rejected + res.duplicates !== size) {
    violation('2xx counts do not add up to the batch', `${size} events: ${text.slice(0, 300)}`);
  }
  duplicatesIn2xx += res.duplicates;
  const rejected = new Set(res.errors.map((e) => e.field.split('.').slice(0, 2).join('.')));
  rejectedIn2xx += rejected.size;
  batch.metrics.forEach((id, i) => rejected.has(`metrics.${i}`) || acknowledged.add(`m:${id}`));
  batch.logs.forEach((id, i) => rejected.has(`logs.${i}`) || acknowledged.add(`l:${id}`));
}

async function client(n: number, url: URL, apiKey: string) {
  let seq = 0;
  // Clients offset within the interval, so requests arrive spread out rather than in bursts.
  let next = performance.now() + (INTERVAL_MS * n) / CLIENTS;
  while (!stopLoad && performance.now() < hardDeadline) {
    await sleep(next - performance.now());
    // After a long wait (Retry-After) the schedule starts again from now: no burst to catch up.
    next = Math.max(next + INTERVAL_MS, performance.now());
    const batch = makeBatch(n, seq);
    seq += METRICS_PER_BATCH + LOGS_PER_BATCH;
    await deliver(url, apiKey, batch);
  }
}

// ---------------------------------------------------------------------------------------------
// The gateway process and what it logs.

const gatewayLog = {
  /** Workers that said they are ready to take connections, since the start. */
  workersReady: 0,
  workerDeaths: 0,
  /** Warnings and errors by message. */
  messages: new Map<string, number>(),
  /** Last time (ms since epoch) of a degraded-Redis warning. */
  lastRedisWarning: 0,
  /** Lines that were not JSON (a stack trace, tsx's output), the latest few. */
  raw: [] as string[],
  serverStatuses: new Map<number, number>(),
};

function readGatewayOutput(stream: NodeJS.ReadableStream) {
  createInterface({ input: stream }).on('line', (line) => {
    let entry: { level?: number; msg?: string; time?: number; status?: number };
    try {
      entry = JSON.parse(line);
    } catch {
      gatewayLog.raw.push(line);
      if (gatewayLog.raw.length > 40) gatewayLog.raw.shift();
      return;
    }
    if (entry.msg === 'request' && typeof entry.status === 'number') {
      gatewayLog.serverStatuses.set(entry.status, (gatewayLog.serverStatuses.get(entry.status) ?? 0) + 1);
      return;
    }
    if (entry.msg === 'gateway worker ready') gatewayLog.workersReady += 1;
    if (entry.msg === 'gateway worker died; starting another') gatewayLog.workerDeaths += 1;
    if ((entry.level ?? 0) >= 40 && entry.msg) {
      gatewayLog.messages.set(entry.msg, (gatewayLog.messages.get(entry.msg) ?? 0) + 1);
      if (/rate limiter unavailable|dedup fast path unavailable/.test(entry.msg) && entry.time) gatewayLog.lastRedisWarning = entry.time;
    }
  });
}

/**
 * The gateway's workers: child processes of `pid` running scripts/gateway.ts, from /proc (tsx also
 * gives each process an esbuild child).
 */
function workersOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('scripts/gateway.ts')) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Set-up and clean-up.

const dbName = `observai_chaos_${Date.now()}_${runId}`;
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;
const dataDir = mkdtempSync(join(tmpdir(), 'observai-chaos-'));
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
let db: Db | undefined;
let gateway: ChildProcess | undefined;
let workerPids: number[] = [];
const proxies: Proxy[] = [];
let projectId: string | undefined;
let keyId: string | undefined;
let cleaning: Promise<void> | undefined;

async function stopGateway() {
  if (!gateway || gateway.exitCode !== null || gateway.signalCode !== null) return;
  const known = [...new Set([...workerPids, ...workersOf(gateway.pid!)])];
  const exited = new Promise((r) => gateway!.once('exit', r));
  gateway.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
  // The primary exits without waiting for its workers; they must be gone before rows are counted.
  for (let i = 0; i < 100 && known.some(alive); i++) await sleep(100);
  for (const pid of known.filter(alive)) process.kill(pid, 'SIGKILL');
}

/** Removes the run's Redis keys: its project's dedup filters and rate counters, its key's counters. */
async function clearRedis() {
  if (!projectId) return;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    for (const pattern of [`*${projectId}*`, ...(keyId ? [`oai:rl:k:${keyId}:*`] : [])]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } catch (err) {
    log(`could not remove the run's Redis keys (they expire within 25 hours): ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

const cleanup = () =>
  (cleaning ??= (async () => {
    await stopGateway().catch(() => {});
    for (const p of proxies) await p.cut().catch(() => {});
    await db?.close().catch(() => {});
    if (process.env.KEEP_DB === '1') log(`kept database ${dbUrl.toString()}`);
    else await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch((err) => log(`could not drop ${dbName}: ${err}`));
    await admin.end({ timeout: 5 }).catch(() => {});
    await clearRedis();
    rmSync(dataDir, { recursive: true, force: true });
  })());

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function setUp(): Promise<{ url: URL; apiKey: string; pgProxy: Proxy; redisProxy: Proxy }> {
  await admin.unsafe(`create database ${dbName}`);
  db = createPostgresDb(dbUrl.toString(), { max: 2, applicationName: 'chaos' });
  await migrateDb(db, { mode: 'local' });
  const jwtSecret = randomBytes(36).toString('base64url');
  const demo = await seedDemo({ db, clock: systemClock }, { jwtSecret });
  if (!demo) throw new Error('seedDemo found the new database seeded already');
  projectId = demo.projectId;
  const [key] = await db.query<{ id: string }>('select id from public.api_keys where project_id = $1', [demo.projectId]);
  keyId = key?.id;

  const pgTarget = new URL(adminUrl);
  const redisTarget = new URL(redisUrl);
  const pgProxy = tcpProxy({ host: pgTarget.hostname.replace(/^\[|\]$/g, ''), port: Number(pgTarget.port || 5432) });
  const redisProxy = tcpProxy({ host: redisTarget.hostname.replace(/^\[|\]$/g, ''), port: Number(redisTarget.port || 6379) });
  for (const p of [pgProxy, redisProxy]) {
    await p.start();
    proxies.push(p);
  }
  const viaPg = new URL(dbUrl);
  viaPg.hostname = '127.0.0.1';
  viaPg.port = String(pgProxy.port);
  const viaRedis = new URL(redisUrl);
  viaRedis.hostname = '127.0.0.1';
  viaRedis.port = String(redisProxy.port);

  const port = await freePort();
  // node itself (not the tsx binary) so that the process is the cluster's primary and the workers are its children.
  gateway = spawn(process.execPath, ['--import', 'tsx', 'scripts/gateway.ts'], {
    env: {
      ...process.env,
      OBSERVAI_MODE: 'local',
      DATABASE_URL: viaPg.toString(),
      REDIS_URL: viaRedis.toString(),
      SUPABASE_DB_URL: '',
      OBSERVAI_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      JWT_SECRET: jwtSecret,
      GATEWAY_WORKERS: '2',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  readGatewayOutput(gateway.stdout!);
  readGatewayOutput(gateway.stderr!);
  const url = new URL(`http://127.0.0.1:${port}/functions/v1/ingest`);
  const startBy = performance.now() + 120_000;
  while (gatewayLog.workersReady < 2) {
    if (gateway.exitCode !== null) throw new Error(`the gateway exited with ${gateway.exitCode}:\n${gatewayLog.raw.join('\n')}`);
    if (performance.now() > startBy) throw new Error(`the gateway did not start within 120 s:\n${gatewayLog.raw.join('\n')}`);
    await sleep(200);
  }
  workerPids = workersOf(gateway.pid!);
  if (workerPids.length !== 2) throw new Error(`expected 2 gateway workers, found ${workerPids.length}`);
  return { url, apiKey: demo.apiKey, pgProxy, redisProxy };
}

// ---------------------------------------------------------------------------------------------
// The run.

/** Lets the current phase run for `seconds`, or until the deadline. */
async function hold(seconds: number) {
  await sleep(Math.min(seconds * 1000, hardDeadline - performance.now()));
}

/** Waits (up to 2 s) until at least `n` requests are in flight, so that a fault lands mid-request. */
async function midRequest(n: number) {
  for (let i = 0; i < 2000 && inFlight < n; i++) await sleep(1);
}

async function outage(name: string, proxy: Proxy, fault: Fault) {
  await midRequest(1);
  phase = newPhase(`${name} down`);
  await proxy.cut();
  await hold(OUTAGE_S);
  await proxy.start();
  fault.at = performance.now();
  fault.epochAt = Date.now();
  phase = newPhase(`after ${name}`);
  await hold(STEADY_S);
}

async function killWorker(): Promise<{ pid: number; replacementAfter: number | undefined }> {
  const workers = workersOf(gateway!.pid!);
  const pid = workers[0];
  if (pid === undefined) throw new Error('no gateway worker to kill');
  await midRequest(Math.min(2, CLIENTS));
  const readyBefore = gatewayLog.workersReady;
  phase = newPhase('worker killed');
  process.kill(pid, 'SIGKILL');
  killFault.at = performance.now();
  let replacementAfter: number | undefined;
  while (performance.now() < Math.min(hardDeadline, killFault.at + 60_000)) {
    if (replacementAfter === undefined && gatewayLog.workersReady > readyBefore) replacementAfter = (performance.now() - killFault.at) / 1000;
    if (replacementAfter !== undefined && killFault.firstOk !== undefined) break;
    await sleep(20);
  }
  workerPids = workersOf(gateway!.pid!);
  return { pid, replacementAfter };
}

async function countStored(): Promise<Map<string, number>> {
  const stored = new Map<string, number>();
  const points = await db!.query<{ client: string; seq: string; n: number }>(
    `select s.tags->>'client' as client, p.value::bigint::text as seq, count(*)::int as n
       from public.metric_points p join public.metric_series s on s.id = p.series_id
      where p.project_id = $1 and s.project_id = $1 and s.name = 'chaos.metric'
      group by 1, 2`,
    [projectId],
  );
  for (const r of points) stored.set(`m:${r.client}:${r.seq}`, r.n);
  const logs = await db!.query<{ message: string; n: number }>(
    `select message, count(*)::int as n from public.logs where project_id = $1 and service = 'chaos' group by message`,
    [projectId],
  );
  for (const r of logs) stored.set(`l:${r.message}`, r.n);
  return stored;
}

async function main(): Promise<number> {
  let target: Awaited<ReturnType<typeof setUp>>;
  try {
    target = await setUp();
  } catch (err) {
    log(`could not set up: ${(err as Error).stack ?? err}`);
    return 2;
  }
  const { pgProxy, redisProxy } = target;
  log(`gateway up after ${since(performance.now()).toFixed(1)} s (workers ${workerPids.join(', ')}); ${CLIENTS} clients, a batch of ${METRICS_PER_BATCH} points + ${LOGS_PER_BATCH} logs every ${INTERVAL_MS} ms each; outages ${OUTAGE_S} s, steady ${STEADY_S} s`);

  phase = newPhase('steady');
  const load = Array.from({ length: CLIENTS }, (_, n) => client(n, target.url, target.apiKey));
  await hold(STEADY_S);
  await outage('postgres', pgProxy, pgFault);
  await outage('redis', redisProxy, redisFault);
  let kill: { pid: number; replacementAfter: number | undefined } | undefined;
  if (performance.now() < hardDeadline) {
    kill = await killWorker();
    phase = newPhase('after kill');
    await hold(STEADY_S);
  }
  stopLoad = true;
  phase = newPhase('draining');
  await Promise.all(load);
  phases.at(-1)!.to = performance.now();
  if (performance.now() > hardDeadline) violation('deadline', `the run passed its deadline of ${DEADLINE_S} s (CHAOS_DEADLINE_SECONDS)`);

  const deathsBeforeStop = gatewayLog.workerDeaths;
  await stopGateway();
  const stored = await countStored();

  // Accounting.
  let rows = 0;
  let lost = 0;
  let duplicated = 0;
  let unacknowledgedStored = 0;
  const examples: string[] = [];
  for (const [id, n] of stored) {
    rows += n;
    if (n > 1) {
      duplicated += 1;
      if (examples.length < 5) examples.push(`${id} stored ${n} times`);
    }
    if (!acknowledged.has(id)) unacknowledgedStored += 1;
  }
  for (const id of acknowledged) {
    if (!stored.has(id)) {
      lost += 1;
      if (examples.length < 10) examples.push(`${id} acknowledged, not stored`);
    }
  }

  // Details, to stderr.
  for (const p of phases) {
    const total = Object.values(p.counts).reduce((a, b) => a + b, 0);
    if (total === 0 && p.name === 'start') continue;
    const others = [...p.other].map(([s, n]) => `${s}:${n}`).join(' ');
    log(
      `${p.name.padEnd(14)} ${(((p.to ?? performance.now()) - p.from) / 1000).toFixed(1).padStart(5)} s: ${String(total).padStart(5)} answers, ` +
        `2xx ${p.counts['2xx']}, 429 ${p.counts['429']}, 503 ${p.counts['503']}, other ${p.counts.other}${others ? ` (${others})` : ''}, ` +
        `no connection ${p.counts.network}, no answer ${p.counts.timeout}`,
    );
  }
  const recoveries = faults.map((f) => ({ f, s: f.at === undefined ? undefined : f.firstOk === undefined ? undefined : (f.firstOk - f.at) / 1000 }));
  for (const { f, s } of recoveries) {
    if (f.at === undefined) log(`${f.name}: not reached before the deadline`);
    else log(`${f.name}: first 2xx ${s === undefined ? 'never' : `${s.toFixed(2)} s`} after ${f.name === 'worker kill' ? 'the kill' : 'restoration'}`);
  }
  if (kill) {
    log(`worker ${kill.pid} killed with ${cutByKill} request(s) in flight on it cut; its replacement was ready ${kill.replacementAfter === undefined ? 'never' : `${kill.replacementAfter.toFixed(1)} s after the kill`}`);
    if (kill.replacementAfter === undefined) violation('no replacement worker', 'the gateway did not start a worker in place of the killed one');
    if (cutByKill === 0) log('note: no request was cut by the kill (none was in flight on that worker)');
  }
  if (redisFault.epochAt !== undefined && gatewayLog.lastRedisWarning) {
    log(`redis: last degraded-operation warning ${((gatewayLog.lastRedisWarning - redisFault.epochAt) / 1000).toFixed(1)} s after restoration`);
  }
  const unexpectedDeaths = deathsBeforeStop - (kill ? 1 : 0);
  if (unexpectedDeaths > 0) violation('worker died', `${unexpectedDeaths} gateway worker(s) died that were not killed:\n${gatewayLog.raw.slice(-20).join('\n')}`);
  if (gatewayLog.messages.size) log(`gateway warnings and errors: ${[...gatewayLog.messages].map(([m, n]) => `${n}x ${JSON.stringify(m)}`).join(', ')}`);
  log(`server answered: ${[...gatewayLog.serverStatuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(' ')}`);
  log(
    `${acknowledged.size} events acknowledged (${duplicatesIn2xx} of them as duplicates of a stored copy), ${rejectedIn2xx} rejected inside a 2xx, ` +
      `${unfinished} never acknowledged (given up), ${unacknowledgedStored} stored without an acknowledgement`,
  );
  for (const e of examples) log(`  ${e}`);

  let recovery = 0;
  let recoveryText: string;
  const unrecovered = recoveries.filter(({ f, s }) => f.at !== undefined && s === undefined);
  if (unrecovered.length) {
    const longest = Math.max(...unrecovered.map(({ f }) => (performance.now() - f.at!) / 1000));
    recoveryText = `>${longest.toFixed(2)}`;
    violation('no recovery', `no 2xx after ${unrecovered.map(({ f }) => f.name).join(', ')}`);
  } else {
    recovery = Math.max(0, ...recoveries.map(({ s }) => s ?? 0));
    recoveryText = recovery.toFixed(2);
    if (recovery > RECOVERY_LIMIT_S) violation('slow recovery', `recovery took ${recoveryText} s (limit ${RECOVERY_LIMIT_S} s)`);
  }
  if (lost > 0) violation('lost', `${lost} acknowledged events not stored`);
  if (duplicated > 0) violation('duplicated', `${duplicated} events stored more than once`);
  for (const [kind, v] of violations) log(`FAIL ${kind} (${v.count}x): ${v.example}`);

  console.log(`chaos: ${acknowledged.size} acknowledged, ${rows} stored, ${lost} lost, ${duplicated} duplicated, recovery ${recoveryText} s`);
  return violations.size ? 1 : 0;
}

let code = 2;
try {
  code = await main();
} catch (err) {
  log(`run failed: ${(err as Error).stack ?? err}`);
  code = 2;
} finally {
  await cleanup();
}
process.exit(code);
