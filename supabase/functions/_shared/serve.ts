/**
 * Deno-only wiring: environment -> config -> deps -> the function's Hono app. Everything else lives
 * in src/, shared with the Node gateway.
 */
import { createApiKeyVerifier } from '../../../src/auth/api-keys.ts';
import { createJwtVerifier } from '../../../src/auth/jwt.ts';
import { createMemoryCache } from '../../../src/cache/memory.ts';
import { createUpstashCache } from '../../../src/cache/upstash.ts';
import { systemClock } from '../../../src/core/clock.ts';
import { ConfigError, parseConfig } from '../../../src/core/config.ts';
import type { Deps } from '../../../src/core/deps.ts';
import { cryptoIds } from '../../../src/core/ids.ts';
import { createEdgeApp } from '../../../src/app/app.ts';
import { findFunction } from '../../../src/app/functions.ts';
import { createPostgresDb } from '../../../src/db/postgres.ts';
import { createOutboundGuard } from '../../../src/net/outbound.ts';
import { createEdgeLogger } from './logger.ts';

declare const EdgeRuntime: { waitUntil(p: Promise<unknown>): void } | undefined;

export function serveFunction(name: string): void {
  let config;
  try {
    config = parseConfig(Deno.env.toObject());
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.message);
    throw err;
  }
  if (!config.databaseUrl) throw new Error('edge functions need SUPABASE_DB_URL (or DATABASE_URL with OBSERVAI_MODE=local)');
  const logger = createEdgeLogger(config.log.level, { service: 'observai', function: name });
  const db = createPostgresDb(config.databaseUrl, { max: 3, prepare: false, applicationName: `observai-edge-${name}` });
  const cache =
    config.redis.kind === 'upstash' ? createUpstashCache(config.redis.url, config.redis.token) : createMemoryCache(systemClock, { maxEntries: 10_000 });
  const apiKeys = createApiKeyVerifier({ db, clock: systemClock, logger, defer: (work) => deps.defer(work) });
  const deps: Deps = {
    config,
    db,
    cache,
    logger,
    clock: systemClock,
    ids: cryptoIds,
    // node:http agents with the guarded lookup work under Deno too (docs/adr/0005-ssrf-guard.md).
    outbound: createOutboundGuard(config.outbound),
    auth: {
      verifyJwt: createJwtVerifier({ secret: config.jwt.secret, jwksUrl: config.jwt.jwksUrl, issuer: config.jwt.issuer, audience: config.jwt.audience, clock: systemClock }),
      verifyApiKey: apiKeys.verify,
      confirmApiKey: apiKeys.confirm,
    },
    defer(work) {
      const guarded = work.catch((err) => logger.warn({ err }, 'deferred work failed'));
      if (typeof EdgeRuntime !== 'undefined') EdgeRuntime.waitUntil(guarded);
    },
  };
  const app = createEdgeApp(findFunction(name), deps);
  Deno.serve({ port: config.port, hostname: config.host, onListen: ({ port }) => logger.info({ port }, 'listening') }, app.fetch);
}
