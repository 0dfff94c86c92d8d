/**
 * `npm run record:series -- [--out DIR] [--name NAME] [--scale F] [--seed N] [--cadence S] [--cycle-min M] [--schedule v1|v2|v3] [--force]`: records a labelled
 * set of real metric series on this machine for the anomaly evaluation
 * (tests/fixtures/anomalies/recorded/, see its README.md).
 *
 * One session: a background product-like workload (requests that read and write a scratch Postgres
 * database and a scratch Redis, at a rate that swings slowly and randomly) runs the whole time,
 * a sampler reads ~30 system, process, Postgres, Redis and workload metrics once a second, and a
 * schedule injects real faults and workloads (CPU hog, memory leak, traffic surge, type-check
 * build, test run, Redis down, slow-query storm, bad deploy, lock storm, disk burst) at known
 * times. The injection start and end times are written as they happen; labels are derived from
 * them and from a fixed event-kind -> affected-metrics map (decided before recording, never from
 * scores).
 *
 * Everything it touches is its own and on 127.0.0.1: a scratch database (created, dropped at the
 * end) on the shared Postgres, a scratch redis-server on port 6390 (started, stopped at the end),
 * child processes it starts and ends by handle. It never stops the shared Postgres or Redis.
 *
 * Output: DIR/NAME.csv.gz (timestamp_ms plus one column per metric, empty = not sampled) and
 * DIR/NAME.events.json (the events with start/end ms and the metrics each is expected to move).
 * --name defaults to session-<UTC date and time>; an existing session is never overwritten
 * (`--force` to redo one on purpose). --scale stretches or shrinks the schedule (e.g. 0.1 for a quick smoke run, 1.5 for longer events);
 * --cadence is the sampling interval in seconds (default 1); --cycle-min gives the workload's rate a
 * sinusoidal "day" of that many minutes (busy half and quiet half, ±40%; default 0 = none);
 * --schedule v1 (session1's), v2 (the default: later start, two more kinds) or v3 (v2's events in an
 * order shuffled by --seed, so no event always follows the same one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { createRng } from '../tests/fixtures/anomalies/generate-eval-set.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const OUT = opt('out', 'tests/fixtures/anomalies/recorded');
const NAME = opt('name', `session-${new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-')}`);
const SCALE = Number(opt('scale', '1'));
const SEED = Number(opt('seed', '1'));
const CADENCE_MS = Math.round(Number(opt('cadence', '1')) * 1000);
const CYCLE_MS = Number(opt('cycle-min', '0')) * 60_000;
/** v1: session1's schedule; v2 (default): a longer quiet start, then v1's events, a traffic drop and the database refusing connections; v3: v2's events in an order shuffled by the seed. */
const SCHEDULE = opt('schedule', 'v2');
const PG_ADMIN = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SCRATCH_DB = `anomaly_rec_${process.pid}`;
const REDIS_PORT = 6390;

const rand = createRng(SEED);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[record ${new Date().toISOString()}] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Metric groups and which event kinds are expected to move them (fixed before recording).
const CPU = ['cpu_user_pct', 'cpu_idle_pct', 'load1', 'procs_running'];
const APP_LAT = ['app_latency_p50_ms', 'app_latency_p95_ms', 'app_latency_max_ms'];
export const AFFECTS: Record<string, string[]> = {
  cpu_hog: [...CPU],
  traffic_surge: ['app_requests_per_s', 'redis_ops_per_s', 'pg_xact_per_s', 'pg_tup_fetched_per_s', 'net_lo_kbps', 'ctxt_per_s'],
  build: [...CPU, 'mem_available_mb'],
  test_run: [...CPU],
  mem_leak: ['mem_available_mb'],
  redis_down: ['app_errors_per_s', 'redis_ops_per_s', 'redis_clients'],
  slow_query_storm: [...CPU, 'pg_cpu_pct', 'pg_active', 'pg_backends', ...APP_LAT],
  bad_deploy: [...APP_LAT, 'pg_active'],
  lock_storm: ['pg_waiting', ...APP_LAT, 'app_requests_per_s'],
  disk_burst: ['disk_write_kbps', 'disk_busy_pct', 'cpu_iowait_pct', 'mem_dirty_mb'],
  // Added before session2 was recorded:
  traffic_drop: ['app_requests_per_s', 'redis_ops_per_s', 'pg_xact_per_s', 'pg_tup_fetched_per_s', 'net_lo_kbps'],
  db_unavailable: ['app_errors_per_s', 'pg_backends', 'pg_xact_per_s', 'pg_tup_fetched_per_s'],
};

// ---------------------------------------------------------------------------------------------
// /proc readers
type CpuTimes = { user: number; system: number; idle: number; iowait: number; total: number };
function readCpu(): { cpu: CpuTimes; ctxt: number; running: number } {
  const text = readFileSync('/proc/stat', 'utf8');
  let cpu: CpuTimes = { user: 0, system: 0, idle: 0, iowait: 0, total: 0 };
  let ctxt = 0;
  let running = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') {
      const n = f.slice(1).map(Number);
      const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
      cpu = { user: n[0]! + n[1]!, system: n[2]! + n[5]! + n[6]!, idle: n[3]!, iowait: n[4]!, total };
    } else if (f[0] === 'ctxt') ctxt = Number(f[1]);
    else if (f[0] === 'procs_running') running = Number(f[1]);
  }
  return { cpu, ctxt, running };
}
function readMem(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) / 1024;
  }
  return out;
}
function readDisk(): { readSectors: number; writeSectors: number; ioMs: number } {
  let readSectors = 0, writeSectors = 0, ioMs = 0;
  for (const line of readFileSync('/proc/diskstats', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const dev = f[2]!;
    if (!/^(sd[a-z]+|vd[a-z]+|nvme\d+n\d+|xvd[a-z]+)$/.test(dev)) continue; // whole disks only
    readSectors += Number(f[5]);
    writeSectors += Number(f[9]);
    ioMs = Math.max(ioMs, Number(f[12]));
  }
  return { readSectors, writeSectors, ioMs };
}
function readNetLo(): number {
  for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n')) {
    const m = /^\s*lo:\s*(.*)$/.exec(line);
    if (m) {
      const f = m[1]!.trim().split(/\s+/).map(Number);
      return f[0]! + f[8]!;
    }
  }
  return 0;
}
const CLK_TCK = 100;
/** CPU ticks per pid (so a process that exits does not make the group's total go backwards) and RSS per group. */
type ProcSample = { ticks: Map<number, number>; rssMb: number };
function readProcs(): Record<string, ProcSample> {
  const out: Record<string, ProcSample> = {
    postgres: { ticks: new Map(), rssMb: 0 },
    redis: { ticks: new Map(), rssMb: 0 },
  };
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const key = comm === 'postgres' ? 'postgres' : comm.startsWith('redis-server') ? 'redis' : null;
    if (!key) continue;
    const f = stat.slice(close + 2).split(' ');
    // fields after comm: state(0) ... utime(11) stime(12) ... rss(21)
    out[key]!.ticks.set(Number(pid), Number(f[11]) + Number(f[12]));
    out[key]!.rssMb += (Number(f[21]) * 4096) / 1048576;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scratch services
let redisChild: ChildProcess | null = null;
async function startScratchRedis(): Promise<void> {
  redisChild = spawn('redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await sleep(300);
}
async function stopScratchRedis(): Promise<void> {
  const c = redisChild;
  redisChild = null;
  if (c && c.exitCode === null) {
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
  }
}

const children = new Set<ChildProcess>();
function run(cmd: string, cmdArgs: string[], opts: { timeoutMs?: number } = {}): Promise<void> {
  return new Promise((resolve) => {
    const c = spawn(cmd, cmdArgs, { stdio: 'ignore', cwd: process.cwd() });
    children.add(c);
    const timer = opts.timeoutMs ? setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs) : null;
    c.once('exit', () => {
      if (timer) clearTimeout(timer);
      children.delete(c);
      resolve();
    });
  });
}

// ---------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  if (existsSync(join(OUT, `${NAME}.csv.gz`)) && !args.includes('--force')) {
    log(`${OUT}/${NAME}.csv.gz exists: pick another --name, or --force to record it again`);
    process.exit(2);
  }
  const admin = postgres(PG_ADMIN, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${SCRATCH_DB}`);
  const scratchUrl = PG_ADMIN.replace(/\/[^/]*$/, `/${SCRATCH_DB}`);
  const db = postgres(scratchUrl, { max: 6, onnotice: () => {} });
  // The monitor reads the scratch database's statistics from the admin database, so it keeps
  // sampling while the scratch database refuses connections (db_unavailable).
  const mon = postgres(PG_ADMIN, { max: 1, onnotice: () => {} });
  const storm = postgres(scratchUrl, { max: 10, onnotice: () => {} });
  await db.unsafe(`create table items (id int primary key, v int not null, payload text not null)`);
  await db.unsafe(`insert into items select g, g % 97, md5(g::text) from generate_series(1, 50000) g`);
  await db.unsafe(`create table hits (id bigserial primary key, item int not null, at timestamptz not null default now())`);
  await startScratchRedis();
  const redis = new Redis({ port: REDIS_PORT, host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false, retryStrategy: () => 200 });
  redis.on('error', () => {});
  const redisMon = new Redis({ port: REDIS_PORT, host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
  redisMon.on('error', () => {});

  // ---- workload ------------------------------------------------------------------------------
  const wl = { rate: 25, surge: 1, extraSleep: 0, requests: 0, errors: 0, lat: [] as number[], inflight: 0 };
  let stopping = false;
  let drift = 0;
  const workloadStart = Date.now();
  async function request(): Promise<void> {
    if (wl.inflight >= 60) {
      wl.errors++;
      return;
    }
    wl.inflight++;
    const t0 = performance.now();
    try {
      const id = 1 + Math.floor(rand() * 50000);
      const cached = await redis.get(`item:${id}`);
      if (cached === null) {
        const rows = wl.extraSleep > 0
          ? await db`select v, payload, pg_sleep(${wl.extraSleep}) from items where id = ${id}`
          : await db`select v, payload from items where id = ${id}`;
        await redis.set(`item:${id}`, JSON.stringify(rows[0] ?? null), 'EX', 30);
      }
      if (rand() < 0.2) await db`insert into hits (item) values (${id})`;
      wl.requests++;
      wl.lat.push(performance.now() - t0);
    } catch {
      wl.errors++;
    } finally {
      wl.inflight--;
    }
  }
  (async () => {
    while (!stopping) {
      drift = Math.max(-0.5, Math.min(0.5, drift + (rand() - 0.5) * 0.02));
      const cycle = CYCLE_MS > 0 ? 1 + 0.4 * Math.sin((2 * Math.PI * (Date.now() - workloadStart)) / CYCLE_MS) : 1;
      const rate = Math.max(0.5, wl.rate * (1 + drift) * cycle * wl.surge);
      void request();
      await sleep(-Math.log(1 - rand()) * (1000 / rate));
    }
  })();

  // ---- sampler -------------------------------------------------------------------------------
  const columns = [
    'cpu_user_pct', 'cpu_system_pct', 'cpu_iowait_pct', 'cpu_idle_pct', 'load1', 'procs_running', 'ctxt_per_s',
    'mem_available_mb', 'mem_dirty_mb', 'disk_read_kbps', 'disk_write_kbps', 'disk_busy_pct', 'net_lo_kbps',
    'pg_cpu_pct', 'pg_rss_mb', 'redis_cpu_pct', 'pg_xact_per_s', 'pg_tup_fetched_per_s', 'pg_backends', 'pg_active',
    'pg_waiting', 'redis_ops_per_s', 'redis_used_memory_mb', 'redis_clients', 'app_requests_per_s',
    'app_errors_per_s', 'app_latency_p50_ms', 'app_latency_p95_ms', 'app_latency_max_ms',
  ];
  const rows: string[] = [['timestamp_ms', ...columns].join(',')];
  let prev: { t: number; cpu: CpuTimes; ctxt: number; disk: ReturnType<typeof readDisk>; net: number; procs: ReturnType<typeof readProcs>; xact: number | null; fetched: number | null; redisCmds: number | null } | null = null;
  const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | null> =>
    Promise.race([p.catch(() => null), sleep(ms).then(() => null)]);
  async function sample(): Promise<void> {
    const t = Date.now();
    const { cpu, ctxt, running } = readCpu();
    const mem = readMem();
    const disk = readDisk();
    const net = readNetLo();
    const procs = readProcs();
    const [pgStats, redisInfo] = await Promise.all([
      withTimeout(mon.unsafe(`select (select xact_commit + xact_rollback from pg_stat_database where datname = $1)::float8 as xact,
          (select tup_fetched from pg_stat_database where datname = $1)::float8 as fetched,
          (select count(*) from pg_stat_activity where datname = $1)::float8 as backends,
          (select count(*) from pg_stat_activity where datname = $1 and state = 'active')::float8 as active,
          (select count(*) from pg_stat_activity where datname = $1 and wait_event_type = 'Lock')::float8 as waiting`, [SCRATCH_DB]), 800),
      withTimeout(redisMon.info(), 800),
    ]);
    const lat = wl.lat.sort((a, b) => a - b);
    const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! : NaN);
    const pg = pgStats?.[0] as { xact: number; fetched: number; backends: number; active: number; waiting: number } | undefined;
    const rinfo: Record<string, string> = {};
    if (typeof redisInfo === 'string') for (const l of redisInfo.split('\r\n')) { const i = l.indexOf(':'); if (i > 0) rinfo[l.slice(0, i)] = l.slice(i + 1); }
    const redisCmds = rinfo.total_commands_processed !== undefined ? Number(rinfo.total_commands_processed) : null;
    const v: Record<string, number> = {};
    if (prev) {
      const dt = (t - prev.t) / 1000;
      const dTotal = cpu.total - prev.cpu.total || 1;
      v.cpu_user_pct = (100 * (cpu.user - prev.cpu.user)) / dTotal;
      v.cpu_system_pct = (100 * (cpu.system - prev.cpu.system)) / dTotal;
      v.cpu_iowait_pct = (100 * (cpu.iowait - prev.cpu.iowait)) / dTotal;
      v.cpu_idle_pct = (100 * (cpu.idle - prev.cpu.idle)) / dTotal;
      v.load1 = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
      v.procs_running = running;
      v.ctxt_per_s = (ctxt - prev.ctxt) / dt;
      v.mem_available_mb = mem.MemAvailable ?? NaN;
      v.mem_dirty_mb = mem.Dirty ?? NaN;
      v.disk_read_kbps = ((disk.readSectors - prev.disk.readSectors) * 0.5) / dt;
      v.disk_write_kbps = ((disk.writeSectors - prev.disk.writeSectors) * 0.5) / dt;
      v.disk_busy_pct = Math.min(100, (disk.ioMs - prev.disk.ioMs) / (10 * dt));
      v.net_lo_kbps = (net - prev.net) / 1024 / dt;
      const cpuOf = (now: ProcSample, before: ProcSample) => {
        let d = 0;
        // Processes that exited since the last sample are not counted; new ones count from zero.
        for (const [pid, t] of now.ticks) d += Math.max(0, t - (before.ticks.get(pid) ?? 0));
        return (d / CLK_TCK / dt) * 100;
      };
      v.pg_cpu_pct = cpuOf(procs.postgres!, prev.procs.postgres!);
      v.pg_rss_mb = procs.postgres!.rssMb;
      v.redis_cpu_pct = cpuOf(procs.redis!, prev.procs.redis!);
      v.pg_xact_per_s = pg && prev.xact !== null ? (pg.xact - prev.xact) / dt : NaN;
      v.pg_tup_fetched_per_s = pg && prev.fetched !== null ? (pg.fetched - prev.fetched) / dt : NaN;
      v.pg_backends = pg ? pg.backends : NaN;
      v.pg_active = pg ? pg.active : NaN;
      v.pg_waiting = pg ? pg.waiting : NaN;
      v.redis_ops_per_s = redisCmds !== null && prev.redisCmds !== null && redisCmds >= prev.redisCmds ? (redisCmds - prev.redisCmds) / dt : redisCmds !== null ? 0 : NaN;
      v.redis_used_memory_mb = rinfo.used_memory !== undefined ? Number(rinfo.used_memory) / 1048576 : NaN;
      v.redis_clients = rinfo.connected_clients !== undefined ? Number(rinfo.connected_clients) : NaN;
      v.app_requests_per_s = wl.requests / dt;
      v.app_errors_per_s = wl.errors / dt;
      v.app_latency_p50_ms = q(0.5);
      v.app_latency_p95_ms = q(0.95);
      v.app_latency_max_ms = lat.length ? lat[lat.length - 1]! : NaN;
      rows.push([t, ...columns.map((c) => (Number.isFinite(v[c]) ? Number(v[c]!.toFixed(3)) : ''))].join(','));
    }
    wl.requests = 0;
    wl.errors = 0;
    wl.lat = [];
    prev = { t, cpu, ctxt, disk, net, procs, xact: pg ? pg.xact : (prev?.xact ?? null), fetched: pg ? pg.fetched : (prev?.fetched ?? null), redisCmds: redisCmds ?? prev?.redisCmds ?? null };
  }
  const samplerDone = (async () => {
    let next = Math.ceil(Date.now() / CADENCE_MS) * CADENCE_MS;
    while (!stopping) {
      await sleep(Math.max(0, next - Date.now()));
      await sample().catch((e) => log(`sample failed: ${String(e)}`));
      next += CADENCE_MS;
      while (next < Date.now()) next += CADENCE_MS; // a stalled sampler skips, leaving a gap
    }
  })();

  // ---- schedule ------------------------------------------------------------------------------
  type Ev = { kind: string; startMs: number; endMs: number; detail: string; affects: string[] };
  const events: Ev[] = [];
  async function event(kind: string, detail: string, body: () => Promise<void>): Promise<void> {
    const startMs = Date.now();
    log(`event ${kind} start (${detail})`);
    await body();
    const endMs = Date.now();
    events.push({ kind, startMs, endMs, detail, affects: AFFECTS[kind] ?? [] });
    log(`event ${kind} end after ${((endMs - startMs) / 1000).toFixed(0)} s`);
  }
  const s = (sec: number) => Math.round(sec * 1000 * SCALE);
  const jitter = () => s(-20 + rand() * 40);
  const t0 = Date.now();
  const at = async (sec: number) => {
    const when = t0 + s(sec) + jitter();
    await sleep(Math.max(0, when - Date.now()));
  };
  const startedAt = t0;
  // v2 starts its events 90 s later, so the first one is past the evaluation's 15% probation.
  const OFFSET = SCHEDULE === 'v1' ? 0 : 90;

  // The events, each a named injection; the schedule runs them in its slots.
  const injections: Array<[string, string, () => Promise<void>]> = [
    ['cpu_hog', 'node busy loop, one core, 60 s', () => run('node', ['-e', 'for(;;){}'], { timeoutMs: s(60) })],
    ['traffic_surge', 'workload rate x3 for 60 s', async () => { wl.surge = 3; await sleep(s(60)); wl.surge = 1; }],
    ['build', 'npx tsc --noEmit -p . (whole repo type-check)', () => run('npx', ['tsc', '--noEmit', '-p', '.'], { timeoutMs: s(240) })],
    ['mem_leak', 'node process growing 25 MB/s to 2 GB, then exits', () =>
      run('node', ['-e', `const a=[];const t=setInterval(()=>{a.push(Buffer.alloc(25*1048576,1));if(a.length>=80){clearInterval(t);setTimeout(()=>process.exit(0),5000)}},1000)`], { timeoutMs: s(100) })],
    ['redis_down', 'scratch redis-server (port 6390) killed for 60 s, restarted empty', async () => {
      await stopScratchRedis();
      await sleep(s(60));
      await startScratchRedis();
    }],
    ['slow_query_storm', '8 concurrent generate_series/pg_sleep queries for 60 s', async () => {
      const until = Date.now() + s(60);
      await Promise.all(Array.from({ length: 8 }, async (_, i) => {
        while (Date.now() < until) {
          await (i % 2 === 0
            ? storm.unsafe(`select count(*) from generate_series(1, 4000000) g where g % 7 = 3`)
            : storm.unsafe(`select pg_sleep(2), count(*) from items a join items b on a.v = b.v where a.id < 2000`)).catch(() => {});
        }
      }));
    }],
    ['bad_deploy', 'every uncached request gets pg_sleep(0.05) for 120 s', async () => {
      wl.extraSleep = 0.05;
      await sleep(s(120));
      wl.extraSleep = 0;
    }],
    ['disk_burst', 'dd 1.5 GB to a temp file with fsync, then removed', async () => {
      const f = `/tmp/anomaly-rec-${process.pid}.bin`;
      await run('dd', ['if=/dev/zero', `of=${f}`, 'bs=1M', `count=${Math.max(50, Math.round(1500 * SCALE))}`, 'conv=fsync'], { timeoutMs: s(120) });
      await run('rm', ['-f', f]);
    }],
    ['lock_storm', 'ACCESS EXCLUSIVE lock on items held 30 s', async () => {
      await storm.begin(async (tx) => {
        await tx.unsafe('lock table items in access exclusive mode');
        await tx.unsafe(`select pg_sleep(${s(30) / 1000})`);
      }).catch(() => {});
    }],
    ['test_run', 'npx vitest run tests/unit/anomalies', () => run('npx', ['vitest', 'run', 'tests/unit/anomalies'], { timeoutMs: s(180) })],
    ['cpu_hog', 'node busy loop, one core, 45 s', () => run('node', ['-e', 'for(;;){}'], { timeoutMs: s(45) })],
  ];
  if (SCHEDULE !== 'v1') {
    injections.push(
      ['traffic_drop', 'workload rate x0.2 for 90 s (an upstream outage)', async () => { wl.surge = 0.2; await sleep(s(90)); wl.surge = 1; }],
      ['db_unavailable', 'scratch database refuses connections and its sessions are ended, for 60 s', async () => {
        await admin.unsafe(`alter database ${SCRATCH_DB} allow_connections false`);
        await admin.unsafe(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${SCRATCH_DB}'`);
        await sleep(s(60));
        await admin.unsafe(`alter database ${SCRATCH_DB} allow_connections true`);
      }],
    );
  }
  // v3: the same events in an order shuffled by the seed (Fisher-Yates), so an event does not
  // always follow the same one (a second CPU event right after the first, etc.).
  if (SCHEDULE === 'v3') {
    const order = createRng(SEED ^ 0x5eed); // its own generator: the workload draws from `rand` meanwhile
    for (let i = injections.length - 1; i > 0; i--) {
      const j = Math.floor(order() * (i + 1));
      [injections[i], injections[j]] = [injections[j]!, injections[i]!];
    }
  }
  const slots = [330, 480, 630, 840, 1000, 1150, 1320, 1530, 1660, 1800, 1980, 2160, 2340];
  for (const [i, [kind, detail, body]] of injections.entries()) {
    await at(slots[i]! + OFFSET);
    await event(kind, detail, body);
  }
  await at(SCHEDULE === 'v1' ? 2160 : 2520 + OFFSET);

  stopping = true;
  await samplerDone;
  await sleep(500);
  for (const c of children) c.kill('SIGKILL');
  redis.disconnect();
  redisMon.disconnect();
  await stopScratchRedis();
  await Promise.all([db.end(), mon.end(), storm.end()]);
  await admin.unsafe(`drop database if exists ${SCRATCH_DB} with (force)`);
  await admin.end();

  writeFileSync(join(OUT, `${NAME}.csv.gz`), gzipSync(rows.join('\n') + '\n', { level: 9 }));
  writeFileSync(join(OUT, `${NAME}.events.json`), JSON.stringify({
    session: NAME, seed: SEED, scale: SCALE, startedAt, endedAt: Date.now(), cadenceMs: CADENCE_MS, cycleMs: CYCLE_MS,
    host: { cpus: (await import('node:os')).cpus().length, memMb: Math.round((await import('node:os')).totalmem() / 1048576) },
    events,
  }, null, 2) + '\n');
  log(`wrote ${rows.length - 1} rows, ${events.length} events to ${OUT}/${NAME}.*`);
}

main().catch(async (e) => {
  log(`failed: ${e instanceof Error ? e.stack : String(e)}`);
  for (const c of children) c.kill('SIGKILL');
  await stopScratchRedis();
  try {
    const admin = postgres(PG_ADMIN, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${SCRATCH_DB} with (force)`);
    await admin.end();
  } catch { /* ignore */ }
  process.exit(1);
});
