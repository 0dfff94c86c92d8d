/**
 * A fresh, fully migrated database per test file, in the mode the suite runs in:
 * - embedded (default): in-memory PGlite and the memory cache, no server needed;
 * - services: DATABASE_URL (a new database is created next to it and dropped afterwards) and REDIS_URL.
 * Every suite builds its own tenants; nothing depends on seeded rows.
 */
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { signJwt } from '../../src/auth/jwt.ts';
import { createMemoryCache } from '../../src/cache/memory.ts';
import { createRedisCache } from '../../src/cache/redis.ts';
import { fakeClock, systemClock, type Clock } from '../../src/core/clock.ts';
import { parseConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { randomToken } from '../../src/core/ids.ts';
import { createPgliteDb } from '../../src/db/pglite.ts';
import { createPostgresDb } from '../../src/db/postgres.ts';
import type { Db } from '../../src/db/types.ts';
import { createGatewayApp, gatewayDocument } from '../../src/app/app.ts';
import { createNodeDeps, migrateDb, type NodeDeps } from '../../src/node/deps.ts';
import { createResponseChecker, type ResponseChecker } from './openapi-check.ts';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export const servicesMode = () => !!process.env.DATABASE_URL;

/** One per test process: the routes and their document are the same for every env. */
let responses: ResponseChecker | undefined;

/** Throws when an answer contradicts what the OpenAPI document declares for its route and status. */
export async function checkAgainstDocument(env: { app: ReturnType<typeof createGatewayApp>; deps: NodeDeps }, method: string, path: string, res: Response): Promise<void> {
  return (responses ??= createResponseChecker(env.app, gatewayDocument(env.deps))).check(method, path, res);
}

export interface TestEnv {
  mode: 'embedded' | 'local';
  deps: NodeDeps;
  db: Db;
  /** The admin connection string of this file's database (services mode only). */
  databaseUrl: string | undefined;
  clock: Clock;
  app: ReturnType<typeof createGatewayApp>;
  request(method: string, path: string, opts?: { token?: string; apiKey?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  createUser(email?: string): Promise<{ id: string; email: string; jwt: string }>;
  serviceJwt(): Promise<string>;
  close(): Promise<void>;
}

export async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL!;
  const name = `observai_test_${randomToken(10).toLowerCase()}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** `env`: more variables for this file's config, e.g. OUTBOUND_ALLOW_PRIVATE for its local servers. */
export async function createTestEnv(opts: { fakeTime?: string; env?: Record<string, string> } = {}): Promise<TestEnv> {
  const clock = opts.fakeTime ? fakeClock(opts.fakeTime) : systemClock;
  const local = servicesMode();
  const database = local ? await createDatabase() : undefined;
  const config = parseConfig({
    OBSERVAI_MODE: local ? 'local' : 'embedded',
    DATABASE_URL: database?.url,
    REDIS_URL: local ? process.env.REDIS_URL : undefined,
    JWT_SECRET: TEST_JWT_SECRET,
    OBSERVAI_DATA_DIR: '/nonexistent-test-data-dir',
    DB_POOL_MAX: '4',
    ...opts.env,
  });
  const db = local ? createPostgresDb(database!.url, { max: 4 }) : createPgliteDb(new PGlite());
  const cache = local && process.env.REDIS_URL ? createRedisCache(process.env.REDIS_URL) : createMemoryCache(clock);
  await migrateDb(db, config);
  const deps = createNodeDeps(config, { logger: silentLogger, clock, db, cache });
  const app = createGatewayApp(deps);
  return {
    mode: local ? 'local' : 'embedded',
    deps,
    db,
    databaseUrl: database?.url,
    clock,
    app,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      if (o.apiKey) headers['x-api-key'] = o.apiKey;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await app.request(path, { method, headers, body });
      // Every answer must match what the OpenAPI document declares for its route and status.
      await checkAgainstDocument({ app, deps }, method, path, res);
      return res;
    },
    async createUser(email) {
      const address = email ?? `user-${randomToken(8).toLowerCase()}@example.test`;
      const [row] = await db.query<{ id: string }>('insert into auth.users (email) values ($1) returning id', [address]);
      const jwt = await signJwt(TEST_JWT_SECRET, { sub: row!.id, role: 'authenticated', aud: 'authenticated', email: address }, { now: clock.now(), expiresInSeconds: 7200 });
      return { id: row!.id, email: address, jwt };
    },
    serviceJwt: () => signJwt(TEST_JWT_SECRET, { role: 'service_role' }, { now: clock.now() }),
    async close() {
      await deps.close();
      await database?.drop();
    },
  };
}
