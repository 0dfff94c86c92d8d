/**
 * What the benchmarks share: a fresh database on the local Postgres with the migrations and the demo
 * tenant, the gateway started on it in its own process (as `npm start` would), cleanup on exit or
 * signal, and the figures' arithmetic.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { systemClock } from '../src/core/clock.ts';
import { parseConfig } from '../src/core/config.ts';
import { createPostgresDb } from '../src/db/postgres.ts';
import type { Db } from '../src/db/types.ts';
import { migrateDb } from '../src/node/deps.ts';
import { createApiKey } from '../src/api-keys/create-api-key.ts';
import { type DemoSeed, seedDemo } from '../src/orgs/seed-demo.ts';

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const seconds = (since: number) => (performance.now() - since) / 1000;
/** The value at rank ceil(q * n) of an ascending array (nearest rank). */
export const percentile = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
export const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);

export const adminUrl = () => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const redisUrl = () => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface BenchDatabase {
  name: string;
  url: URL;
  /** The gateway's data directory (demo.json); removed on cleanup. */
  dataDir: string;
  db: Db;
  sql: postgres.Sql;
  demo: DemoSeed & { jwtSecret: string };
  /** Starts the gateway on this database (stopped by cleanup) and answers the function's base URL. */
  startGateway(fn: string, port: number, env?: Record<string, string>): Promise<string>;
  /** Stops the gateway and drops the database (unless KEEP_DB=1); safe to call more than once. */
  cleanup(): Promise<void>;
}

/**
 * A fresh database `<prefix>_<ms>` next to DATABASE_URL's, migrated with the project's runner and
 * seeded with the demo tenant (organization, project, ingest+read API key). SIGINT and SIGTERM clean
 * up before exiting. KEEP_DB=1 keeps the database and prints its URL, for EXPLAIN ANALYZE afterwards.
 */
export async function createBenchDatabase(prefix: string, opts: { reuse?: string } = {}): Promise<BenchDatabase> {
  const reuse = opts.reuse ?? process.env.REUSE_DB;
  const keep = process.env.KEEP_DB === '1' || reuse !== undefined;
  const name = reuse ?? `${prefix}_${Date.now()}`;
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const dataDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  let db: Db | undefined;
  let sql: postgres.Sql | undefined;
  let gateway: ChildProcess | undefined;
  let cleaning: Promise<void> | undefined;

  const cleanup = () =>
    (cleaning ??= (async () => {
      if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
        const exited = new Promise((r) => gateway!.once('exit', r));
        gateway.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
      }
      await db?.close().catch(() => {});
      await sql?.end({ timeout: 5 }).catch(() => {});
      if (keep) console.log(`kept database ${url.toString()}`);
      else await admin.unsafe(`drop database if exists ${name} with (force)`).catch((err) => console.error(`could not drop ${name}: ${err}`));
      await admin.end({ timeout: 5 }).catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    if (!reuse) await admin.unsafe(`create database ${name}`);
    const config = parseConfig({ OBSERVAI_MODE: 'local', DATABASE_URL: url.toString(), OBSERVAI_DATA_DIR: dataDir });
    db = createPostgresDb(url.toString(), { max: 4, applicationName: prefix });
    await migrateDb(db, config);
    const jwtSecret = randomBytes(36).toString('base64url'); // 48 characters
    const demo = reuse ? await reuseDemo(db) : await seedDemo({ db, clock: systemClock }, { jwtSecret });
    if (!demo) throw new Error('seedDemo returned null on a fresh database');
    sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
    const opened = { db, sql };
    return {
      name,
      url,
      dataDir,
      ...opened,
      demo: { ...demo, jwtSecret },
      async startGateway(fn, port, env = {}) {
        // GATEWAY_NODE_ARGS: extra node flags for the gateway (for example --cpu-prof), as bench:ingest.
        const nodeArgs = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
        gateway = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'scripts/gateway.ts'], {
          env: {
            ...process.env,
            DATABASE_URL: url.toString(),
            REDIS_URL: redisUrl(),
            OBSERVAI_DATA_DIR: dataDir,
            PORT: String(port),
            JWT_SECRET: jwtSecret,
            LOG_LEVEL: 'warn',
            LOG_FORMAT: 'json',
            SCHEDULER_ENABLED: 'false',
            SEED_DEMO: 'false',
            GATEWAY_WORKERS: process.env.GATEWAY_WORKERS ?? '1',
            ...env,
          },
          // Warnings and errors only (LOG_LEVEL=warn): a failing request shows its cause.
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        const base = `http://127.0.0.1:${port}/functions/v1/${fn}`;
        for (let i = 0; ; i++) {
          try {
            if ((await fetch(`${base}/health`)).ok) return base;
          } catch {
            // starting
          }
          if (gateway.exitCode !== null) throw new Error(`gateway exited with ${gateway.exitCode}`);
          if (i > 300) throw new Error('gateway did not start');
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * REUSE_DB=<name>: a database an earlier KEEP_DB=1 run left, with its demo tenant. Its API key's secret
 * is gone (only the hash is stored), so a new ingest+read key is created for the demo project.
 */
async function reuseDemo(db: Db): Promise<DemoSeed> {
  const [demo] = await db.query<{ id: string; organization_id: string }>(`select id, organization_id from public.projects where slug = 'demo' limit 1`);
  if (!demo) throw new Error('REUSE_DB: no demo project found; was the database made by a benchmark with KEEP_DB=1?');
  const { apiKey, secret } = await createApiKey({ db, clock: systemClock }, { role: 'service_role' }, { projectId: demo.id, name: 'bench key', scopes: ['ingest', 'read'] });
  return { organizationId: demo.organization_id, projectId: demo.id, apiKey: secret, ownerJwt: '', ownerEmail: '', ownerUserId: apiKey.createdBy ?? '', serviceToken: '', anonKey: '', expiresAt: '' };
}

/** Heap + indexes + toast of a partitioned table's partitions. */
export async function partitionBytes(sql: postgres.Sql, parent: string): Promise<number> {
  const [row] = await sql`select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as b
                          from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = ${parent}::regclass`;
  return Number(row!.b);
}
