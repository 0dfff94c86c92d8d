import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createApiKeyVerifier } from '../auth/api-keys.ts';
import { createJwtVerifier } from '../auth/jwt.ts';
import { createMemoryCache } from '../cache/memory.ts';
import { createRedisCache } from '../cache/redis.ts';
import { createUpstashCache } from '../cache/upstash.ts';
import type { Cache } from '../cache/types.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Deps } from '../core/deps.ts';
import { cryptoIds, randomToken } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { migrate } from '../db/migrate.ts';
import { createPgliteDb } from '../db/pglite.ts';
import { createPostgresDb } from '../db/postgres.ts';
import { createOutboundGuard } from '../net/outbound.ts';
import { createNodeSmtpSender } from './smtp.ts';
import type { Db } from '../db/types.ts';
import { loadBootstrap, loadMigrations } from './migrations.ts';

export function createDb(config: Config): Db {
  if (config.mode === 'embedded') {
    mkdirSync(config.dataDir, { recursive: true });
    return createPgliteDb(new PGlite(join(config.dataDir, 'pgdata')));
  }
  return createPostgresDb(config.databaseUrl!, { max: config.dbPoolMax, prepare: config.mode !== 'supabase' });
}

export function createCache(config: Config, clock: Clock): Cache {
  switch (config.redis.kind) {
    case 'upstash':
      return createUpstashCache(config.redis.url, config.redis.token);
    case 'tcp':
      return createRedisCache(config.redis.url);
    default:
      return createMemoryCache(clock);
  }
}

/**
 * The HS256 secret for local modes. Taken from JWT_SECRET when set; otherwise generated once and kept
 * in the data dir (mode 0600), so tokens printed at first start keep working across restarts.
 * Supabase mode never generates one: the platform owns its secret.
 */
export function resolveJwtSecret(config: Config): string | undefined {
  if (config.jwt.secret || config.mode === 'supabase') return config.jwt.secret;
  const file = join(config.dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const secret = randomToken(48);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** Applies the bootstrap (outside Supabase) and pending migrations. */
export async function migrateDb(db: Db, config: Pick<Config, 'mode'>): Promise<string[]> {
  return migrate(db, { bootstrap: config.mode === 'supabase' ? undefined : loadBootstrap(), migrations: loadMigrations() });
}

export interface NodeDeps extends Deps {
  jwtSecret: string | undefined;
  /** Waits for deferred work started so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Wires the Node modes (embedded and local services) from a parsed config. */
export function createNodeDeps(
  config: Config,
  opts: { logger: Logger; clock?: Clock; db?: Db; cache?: Cache; jwks?: { keys: object[] } },
): NodeDeps {
  const clock = opts.clock ?? systemClock;
  const db = opts.db ?? createDb(config);
  const cache = opts.cache ?? createCache(config, clock);
  const jwtSecret = resolveJwtSecret(config);
  const pending = new Set<Promise<unknown>>();
  const apiKeys = createApiKeyVerifier({ db, clock, logger: opts.logger, defer: (work) => deps.defer(work) });
  const deps: NodeDeps = {
    config,
    db,
    cache,
    clock,
    logger: opts.logger,
    ids: cryptoIds,
    jwtSecret,
    outbound: createOutboundGuard(config.outbound),
    smtp: createNodeSmtpSender({ policy: config.outbound, logger: opts.logger }),
    auth: {
      verifyJwt: createJwtVerifier({ secret: jwtSecret, jwksUrl: config.jwt.jwksUrl, jwks: opts.jwks, issuer: config.jwt.issuer, audience: config.jwt.audience, clock }),
      verifyApiKey: apiKeys.verify,
      confirmApiKey: apiKeys.confirm,
    },
    defer(work) {
      const p = work.catch((err) => opts.logger.warn({ err }, 'deferred work failed')).finally(() => pending.delete(p));
      pending.add(p);
    },
    async settle() {
      await Promise.allSettled([...pending]);
    },
    async close() {
      await Promise.allSettled([...pending]);
      await cache.close();
      await db.close();
    },
  };
  return deps;
}
