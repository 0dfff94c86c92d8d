/**
 * pg_cron for real (issue 17): a throwaway Postgres 15 cluster with Debian's pg_cron preloaded, as on
 * Supabase, gets the bootstrap and every migration through `supabase db push` (the production path).
 * Then:
 * - cron.job holds one schedule per job of src/app/jobs.ts, firing at the job's interval, each
 *   job with a cron-<job> function reached through private.invoke_job and the others run as SQL;
 * - pg_cron runs jobs when told to (their schedule switched to '@reboot' and the cluster restarted:
 *   Debian's pg_cron 1.4 has no seconds schedules, and a minute boundary is too long to wait for):
 *   the SQL job recreates the partitions dropped before, and each private.invoke_job POSTs to the
 *   functions URL from Vault with the service-role key, where a recording server hands the request
 *   to the product's own cron function, which runs the job;
 * - what 20261206000300_cron_fixes changed: a call without its Vault secrets fails (so pg_cron's
 *   history says so), a trailing slash on the URL is harmless, our pg_cron history is purged.
 * pg_net is not packaged for Debian: tests/fixtures/pg-net-standin is a stand-in with pg_net's
 * net.http_post signature that sends synchronously (plperlu), installed into this cluster only. What
 * that leaves unproven is pg_net's own delivery (its background worker, after commit).
 *
 * Runs in the services run only (DATABASE_URL set; it needs the Postgres binaries, not that server).
 * Outside CI it is skipped when pg_cron or plperl are not installed; in CI (CI=true) it fails instead.
 */
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../src/auth/jwt.ts';
import { createMemoryCache } from '../../src/cache/memory.ts';
import { systemClock } from '../../src/core/clock.ts';
import { parseConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createPostgresDb } from '../../src/db/postgres.ts';
import type { Hono } from 'hono';
import { createEdgeApp } from '../../src/app/app.ts';
import type { AppEnv } from '../../src/http/context.ts';
import { findFunction, FUNCTIONS } from '../../src/app/functions.ts';
import { JOBS } from '../../src/app/jobs.ts';
import { JOB_RUN_RETENTION_DAYS } from '../../src/retention/cleanup-retention.ts';
import { createNodeDeps, type NodeDeps } from '../../src/node/deps.ts';
import { loadBootstrap } from '../../src/node/migrations.ts';
import { servicesMode } from '../helpers/env.ts';

const run = promisify(execFile);

const PG_BIN = '/usr/lib/postgresql/15/bin';
const STANDIN_DIR = new URL('../fixtures/pg-net-standin/', import.meta.url).pathname;
const JWT_SECRET = 'pg-cron-test-secret-that-is-long-enough-for-hs256';

/** Where this Postgres keeps its share files and modules, as pg_config reports them. */
function pgDirs(): { share: string; pkglib: string } | undefined {
  if (!existsSync(join(PG_BIN, 'pg_config'))) return undefined;
  const [share, pkglib] = execFileSync(join(PG_BIN, 'pg_config'), ['--sharedir', '--pkglibdir'], { encoding: 'utf8' }).trim().split('\n');
  return { share: share!, pkglib: pkglib! };
}

/** The files this test needs from Debian's postgresql-15, postgresql-15-cron and postgresql-plperl-15. */
function missingBinaries(): string[] {
  const dirs = pgDirs();
  if (!dirs) return [join(PG_BIN, 'pg_config')];
  const needed = [
    ...['initdb', 'pg_ctl', 'postgres'].map((b) => join(PG_BIN, b)),
    join(dirs.pkglib, 'pg_cron.so'),
    join(dirs.share, 'extension', 'pg_cron.control'),
    join(dirs.pkglib, 'plperl.so'),
    join(dirs.share, 'extension', 'plperlu.control'),
  ];
  return needed.filter((f) => !existsSync(f));
}

const missing = servicesMode() ? missingBinaries() : [];
const skipReason = !servicesMode()
  ? 'runs once, in the services run (DATABASE_URL set)'
  : missing.length > 0 && process.env.CI !== 'true'
    ? `pg_cron binaries absent (${missing.join(', ')}): apt-get install postgresql-15-cron postgresql-plperl-15`
    : undefined;
// The default reporter shows a skipped file without its describe name: say why here.
if (skipReason) console.info(`pg-cron.test.ts skipped: ${skipReason}`);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A Postgres 15 cluster of its own in a temp dir, run as the postgres OS user when we are root
 * (initdb refuses root). The server binary runs from a copy inside a private install tree whose share
 * dir links every file of the real one and adds the pg_net stand-in: Postgres finds share and module
 * dirs relative to its binary, so `create extension pg_net` sees the stand-in here and nowhere else.
 */
class ThrowawayCluster {
  readonly root = mkdtempSync(join(tmpdir(), 'observai-pgcron-'));
  readonly data = join(this.root, 'data');
  readonly run = join(this.root, 'run');
  readonly log = join(this.run, 'postgres.log');
  private postgresBin = '';
  port = 0;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private async as(cmd: string, args: string[]): Promise<string> {
    const [file, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    try {
      const { stdout } = await run(file, argv, { timeout: 30_000 });
      return stdout;
    } catch (err) {
      const log = existsSync(this.log) ? execFileSync('tail', ['-n', '30', this.log], { encoding: 'utf8' }) : '';
      throw new Error(`${cmd} ${args.join(' ')} failed: ${(err as Error).message}\n${log}`);
    }
  }

  async create(): Promise<void> {
    const dirs = pgDirs()!;
    chmodSync(this.root, 0o755);
    const tree = join(this.root, 'install');
    const inTree = (abs: string) => join(tree, abs);
    this.postgresBin = inTree(join(PG_BIN, 'postgres'));
    mkdirSync(dirname(this.postgresBin), { recursive: true });
    copyFileSync(join(PG_BIN, 'postgres'), this.postgresBin);
    chmodSync(this.postgresBin, 0o755);
    mkdirSync(dirname(inTree(dirs.pkglib)), { recursive: true });
    symlinkSync(dirs.pkglib, inTree(dirs.pkglib));
    const ext = join(inTree(dirs.share), 'extension');
    mkdirSync(ext, { recursive: true });
    for (const f of readdirSync(dirs.share)) if (f !== 'extension') symlinkSync(join(dirs.share, f), join(inTree(dirs.share), f));
    for (const f of readdirSync(join(dirs.share, 'extension'))) symlinkSync(join(dirs.share, 'extension', f), join(ext, f));
    for (const f of readdirSync(STANDIN_DIR)) copyFileSync(join(STANDIN_DIR, f), join(ext, f));

    mkdirSync(this.data, { mode: 0o700 });
    mkdirSync(this.run);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      chownSync(this.data, uid, gid);
      chownSync(this.run, uid, gid);
    }
    await this.as(join(PG_BIN, 'initdb'), ['-D', this.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    this.port = await freePort();
    // As on Supabase: pg_cron preloaded, its jobs in the postgres database, UTC. Durability is off:
    // the cluster lives for one test.
    appendFileSync(
      join(this.data, 'postgresql.conf'),
      [
        "listen_addresses = '127.0.0.1'",
        `port = ${this.port}`,
        `unix_socket_directories = '${this.run}'`,
        "shared_preload_libraries = 'pg_cron'",
        "cron.database_name = 'postgres'",
        "cron.host = '127.0.0.1'",
        "timezone = 'UTC'",
        'fsync = off',
        'full_page_writes = off',
        'synchronous_commit = off',
      ].join('\n') + '\n',
    );
    await this.pgCtl('start');
  }

  pgCtl(action: 'start' | 'restart' | 'stop'): Promise<string> {
    const args = ['-D', this.data, '-p', this.postgresBin, '-l', this.log, '-w', '-t', '20'];
    return this.as(join(PG_BIN, 'pg_ctl'), action === 'start' ? [...args, 'start'] : [...args, '-m', 'fast', action]);
  }

  async destroy(): Promise<void> {
    if (existsSync(join(this.data, 'postmaster.pid'))) await this.pgCtl('stop').catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }
}

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** 60 -> every minute, 300 -> every 5 minutes, 3600 -> hourly: how often a cron expression fires. */
function periodSeconds(schedule: string): number {
  if (schedule === '* * * * *') return 60;
  const every = /^\*\/(\d+) \* \* \* \*$/.exec(schedule);
  if (every) return Number(every[1]) * 60;
  if (/^\d+ \* \* \* \*$/.test(schedule)) return 3600;
  if (/^\d+ \d+ \* \* \*$/.test(schedule)) return 86_400;
  throw new Error(`no period known for schedule ${schedule}`);
}

/** A test that restarts the cluster and waits for pg_cron's runs (at most 40 s) gets this long. */
const RESTART_TEST_MS = 60_000;

/** pg_cron's own jobs, with no counterpart in the Node scheduler: there is no cron history there. */
const PG_CRON_ONLY = ['observai-purge-cron-history'];

/** Jobs with a cron-<job> function (the table every mode serves) are reached through it; pg_cron runs the others as SQL. */
const hasCronFunction = (job: string) => FUNCTIONS.some((f) => f.name === `cron-${job}`);

describe.skipIf(skipReason !== undefined)(skipReason ? `pg_cron (skipped: ${skipReason})` : 'pg_cron', () => {
  let cluster: ThrowawayCluster;
  let sql: postgres.Sql;
  const notices: string[] = [];
  let server: Server;
  let functionsUrl: string;
  const recorded: Recorded[] = [];
  const functions = new Map<string, { deps: NodeDeps; app: Hono<AppEnv> }>();
  let serviceKey: string;
  /** Our jobs' schedules as the migrations left them, by job name (tests switch some to '@reboot'). */
  const scheduled = new Map<string, { schedule: string }>();

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`CI must install the pg_cron test's binaries (.ci/run): missing ${missing.join(', ')}`);
    cluster = new ThrowawayCluster();
    await cluster.create();
    sql = postgres(cluster.url, { max: 1, onnotice: (n) => notices.push(String(n.message)) });
    // What Supabase provides before migrations (roles, auth, the Vault stand-in), and the language the
    // pg_net stand-in is written in.
    await sql.unsafe(loadBootstrap());
    await sql.unsafe('create extension plperlu');
    const url = new URL(cluster.url);
    url.searchParams.set('sslmode', 'disable');
    const push = await run('node_modules/.bin/supabase', ['db', 'push', '--db-url', url.toString(), '--yes'], { timeout: 60_000 });
    expect(push.stdout + push.stderr).toContain('Finished supabase db push');
    for (const r of await sql<{ jobname: string; schedule: string }[]>`select jobname, schedule from cron.job where jobname like 'observai-%'`) {
      scheduled.set(r.jobname, { schedule: r.schedule });
    }

    // The functions URL: records each request, then answers it as Supabase would, with the product's
    // edge function of that name on this cluster, each with its own pool of 3 (supabase/functions/_shared/serve.ts).
    const config = parseConfig({ OBSERVAI_MODE: 'local', DATABASE_URL: cluster.url, JWT_SECRET, LOG_LEVEL: 'silent' });
    const functionApp = (name: string) => {
      if (!functions.has(name)) {
        const deps = createNodeDeps(config, { logger: silentLogger, clock: systemClock, db: createPostgresDb(cluster.url, { max: 3, prepare: false }), cache: createMemoryCache(systemClock) });
        functions.set(name, { deps, app: createEdgeApp(findFunction(name), deps) });
      }
      return functions.get(name)!.app;
    };
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        recorded.push({ method: req.method!, path: req.url!, headers: req.headers, body });
        const name = /^\/functions\/v1\/([\w-]+)/.exec(req.url!)?.[1];
        if (!name || !FUNCTIONS.some((f) => f.name === name)) {
          res.writeHead(404).end();
          return;
        }
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
        const answer = await functionApp(name).request(req.url!, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
        res.end(await answer.text());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    functionsUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/functions/v1`;
    // A key shaped as Supabase's service-role key: an HS256 JWT with role service_role, no subject.
    serviceKey = await signJwt(JWT_SECRET, { iss: 'supabase', role: 'service_role' }, { expiresInSeconds: 10 * 365 * 86_400 });
  }, 90_000);

  afterAll(async () => {
    await sql?.end();
    for (const f of functions.values()) await f.deps.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await cluster?.destroy();
  });

  /**
   * Has pg_cron run the named jobs once: their schedule becomes '@reboot' (every other job of ours gets
   * its own back) and the cluster restarts. Returns each one's finished run.
   */
  async function runOnRestart(jobnames: string[]): Promise<Map<string, { status: string; return_message: string }>> {
    for (const [jobname, { schedule }] of scheduled) {
      await sql`select cron.alter_job(jobid, schedule := ${jobnames.includes(jobname) ? '@reboot' : schedule}) from cron.job where jobname = ${jobname}`;
    }
    // A run a minute boundary started before the switch is not one of these.
    const [{ last } = { last: 0 }] = await sql<{ last: number }[]>`select coalesce(max(runid), 0)::int as last from cron.job_run_details`;
    await sql.end();
    await cluster.pgCtl('restart');
    sql = postgres(cluster.url, { max: 1, onnotice: (n) => notices.push(String(n.message)) });
    let runs: { jobname: string; status: string; return_message: string }[] = [];
    // Bounded: 40 s at most (a run takes well under a second here), then the caller's assertion fails.
    for (let i = 0; i < 400 && runs.length < jobnames.length; i += 1) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      runs = await sql`
        select j.jobname, d.status, d.return_message from cron.job_run_details d join cron.job j using (jobid)
        where d.runid > ${last} and j.jobname = any(${jobnames}) and d.status in ('succeeded', 'failed')`;
    }
    return new Map(runs.map((r) => [r.jobname, { status: r.status, return_message: r.return_message }]));
  }

  async function setSecrets(secrets: { url?: string; key?: string }): Promise<void> {
    await sql`delete from vault.secrets where name in ('observai_functions_url', 'observai_service_role_key')`;
    if (secrets.url !== undefined) await sql`select vault.create_secret(${secrets.url}, 'observai_functions_url')`;
    if (secrets.key !== undefined) await sql`select vault.create_secret(${secrets.key}, 'observai_service_role_key')`;
  }

  it('the migrations schedule every registered job at its interval, in the postgres database', async () => {
    const rows = await sql<{ jobname: string; schedule: string; command: string; database: string; username: string; active: boolean }[]>`
      select jobname, schedule, command, database, username, active from cron.job where jobname like 'observai-%' order by jobname`;
    const expected = [...Object.values(JOBS).map((j) => `observai-${j.name}`), ...PG_CRON_ONLY].sort();
    expect(rows.map((r) => r.jobname)).toEqual(expected);
    for (const row of rows) expect(row).toMatchObject({ database: 'postgres', username: 'postgres', active: true });
    for (const job of Object.values(JOBS)) {
      const row = rows.find((r) => r.jobname === `observai-${job.name}`)!;
      expect({ job: job.name, period: periodSeconds(row.schedule) }).toEqual({ job: job.name, period: job.intervalSeconds });
      if (hasCronFunction(job.name)) expect(row.command).toBe(`select private.invoke_job('${job.name}')`);
      else expect(row.command, `${job.name} has no cron function, so pg_cron must run it as SQL`).not.toContain('invoke_job');
    }
    const purge = rows.find((r) => r.jobname === 'observai-purge-cron-history')!;
    expect(periodSeconds(purge.schedule)).toBe(86_400);
  });

  it('a scheduled call without the Vault secrets fails, so cron.job_run_details says why, and sends nothing', async () => {
    await setSecrets({});
    const before = recorded.length;
    const runs = await runOnRestart(['observai-aggregate-metrics']);
    expect(runs.get('observai-aggregate-metrics')).toEqual({
      status: 'failed',
      return_message: expect.stringContaining('Vault secrets observai_functions_url, observai_service_role_key are not set; job aggregate-metrics not invoked'),
    });
    // One missing secret is named alone.
    await setSecrets({ url: functionsUrl });
    await expect(sql`select private.invoke_job('aggregate-metrics')`).rejects.toThrow('Vault secrets observai_service_role_key are not set');
    expect(recorded.length).toBe(before);
  }, RESTART_TEST_MS);

  it('pg_cron runs every job: the SQL one in the database, the others as a POST to cron-<job> with the service-role key', async () => {
    await setSecrets({ url: functionsUrl, key: serviceKey });
    // The effect of the SQL-only job: the partitions three days ahead, dropped here, come back.
    const ahead = await sql<{ name: string }[]>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where c.relnamespace = 'partitions'::regnamespace and c.relname like '%\_' || to_char(current_date + 3, 'YYYYMMDD')`;
    expect(ahead.length).toBeGreaterThan(0);
    for (const { name } of ahead) await sql`drop table ${sql(`partitions.${name}`)}`;
    await sql`delete from net._http_response`;
    await sql`delete from private.job_runs`;
    const requestsBefore = recorded.length;

    const jobs = Object.values(JOBS);
    const runs = await runOnRestart(jobs.map((j) => `observai-${j.name}`));
    expect(Object.fromEntries(runs)).toEqual(Object.fromEntries(jobs.map((j) => [`observai-${j.name}`, { status: 'succeeded', return_message: '1 row' }])));

    const [{ back } = { back: [] }] = await sql<{ back: string[] }[]>`
      select coalesce(array_agg(relname order by relname), '{}') as back from pg_class
      where relnamespace = 'partitions'::regnamespace and relname = any(${ahead.map((a) => a.name)})`;
    expect(back).toEqual(ahead.map((a) => a.name).sort());

    const viaFunction = jobs.filter((j) => hasCronFunction(j.name)).map((j) => j.name).sort();
    const requests = recorded.slice(requestsBefore).sort((a, b) => a.path.localeCompare(b.path));
    expect(requests.map((r) => ({ method: r.method, path: r.path, authorization: r.headers.authorization, type: r.headers['content-type'], body: r.body }))).toEqual(
      viaFunction.map((name) => ({ method: 'POST', path: `/functions/v1/cron-${name}`, authorization: `Bearer ${serviceKey}`, type: 'application/json', body: '{}' })),
    );
    // The functions accepted the key and ran each job; pg_net's response table has their answers.
    const responses = await sql<{ status_code: number; error_msg: string | null }[]>`select status_code, error_msg from net._http_response`;
    expect(responses).toEqual(viaFunction.map(() => ({ status_code: 200, error_msg: null })));
    const jobRuns = await sql<{ job: string; outcome: string }[]>`select job, outcome from private.job_runs order by job`;
    // evaluate-alerts runs aggregate-metrics first (src/app/jobs.ts), so that one may have more runs.
    expect([...new Set(jobRuns.map((r) => r.job))]).toEqual(viaFunction);
    for (const r of jobRuns) expect(['ok', 'skipped']).toContain(r.outcome);
  }, RESTART_TEST_MS);

  it('a functions URL stored with a trailing slash still reaches /functions/v1/cron-<job>', async () => {
    await setSecrets({ url: `${functionsUrl}/`, key: serviceKey });
    const before = recorded.length;
    await sql`select private.invoke_job('cleanup-retention')`;
    expect(recorded.slice(before).map((r) => r.path)).toEqual(['/functions/v1/cron-cleanup-retention']);
  });

  it(`pg_cron keeps our jobs' run history for ${JOB_RUN_RETENTION_DAYS} days, as job_runs, and leaves other jobs' history alone`, async () => {
    await sql`select cron.schedule('someone-elses-job', '0 0 1 1 *', 'select 1')`;
    const history = async (jobname: string, daysAgo: number) => {
      const [row] = await sql<{ runid: number }[]>`
        insert into cron.job_run_details (jobid, runid, database, username, command, status, return_message, start_time, end_time)
        select jobid, nextval('cron.runid_seq'), database, username, command, 'succeeded', '1 row',
               now() - make_interval(days => ${daysAgo}), now() - make_interval(days => ${daysAgo})
        from cron.job where jobname = ${jobname}
        returning runid::int`;
      return row!.runid;
    };
    const old = await history('observai-aggregate-metrics', JOB_RUN_RETENTION_DAYS + 1);
    const recent = await history('observai-aggregate-metrics', JOB_RUN_RETENTION_DAYS - 1);
    const foreign = await history('someone-elses-job', JOB_RUN_RETENTION_DAYS + 1);

    const runs = await runOnRestart(['observai-purge-cron-history']);
    expect(runs.get('observai-purge-cron-history')?.status).toBe('succeeded');
    const left = await sql<{ runid: number }[]>`select runid::int from cron.job_run_details where runid = any(${[old, recent, foreign]}) order by runid`;
    expect(left.map((r) => r.runid)).toEqual([recent, foreign]);
  }, RESTART_TEST_MS);
});
