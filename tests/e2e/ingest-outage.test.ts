/**
 * Backpressure against a real Postgres outage: a TCP proxy in front of this file's database is cut
 * and restored. While it is down, ingest answers 503 with Retry-After at once (the circuit breaker
 * opens after a few failures); once it is back, ingest recovers, and every event that got a 2xx is
 * stored exactly once, nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayApp } from '../../src/app/app.ts';
import { createPostgresDb } from '../../src/db/postgres.ts';
import { createNodeDeps } from '../../src/node/deps.ts';
import { parseConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createMemoryCache } from '../../src/cache/memory.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createTestEnv, servicesMode, TEST_JWT_SECRET, type TestEnv } from '../helpers/env.ts';
import { tcpProxy } from '../helpers/tcp-proxy.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';


describe.skipIf(!servicesMode())('ingest during a Postgres outage', () => {
  let env: TestEnv;
  let t: Tenant;
  let proxy: ReturnType<typeof tcpProxy>;
  let app: ReturnType<typeof createGatewayApp>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    env = await createTestEnv();
    t = await createTenant(env);
    const url = new URL(env.databaseUrl!);
    proxy = tcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    await proxy.start();
    url.port = String(proxy.port);
    const config = parseConfig({ OBSERVAI_MODE: 'local', DATABASE_URL: url.toString(), JWT_SECRET: TEST_JWT_SECRET, DB_POOL_MAX: '4' });
    const db = createPostgresDb(url.toString(), { max: 4 });
    const deps = createNodeDeps(config, { logger: silentLogger, db, cache: createMemoryCache(systemClock) });
    app = createGatewayApp(deps);
    close = () => deps.close();
  });
  afterAll(async () => {
    await close?.();
    await env?.close();
  });

  let sent = 0;
  const send = async () => {
    const body = JSON.stringify({ metrics: [{ name: 'outage.metric', value: sent, timestamp: Date.now() - 1000 + sent, tags: { n: String(sent++) } }] });
    const res = await app.request('/functions/v1/ingest', { method: 'POST', headers: { 'x-api-key': t.keyA.secret, 'content-type': 'application/json' }, body });
    return { res };
  };

  it('503s fast while Postgres is unreachable, then recovers without losing acknowledged events', async () => {
    let acknowledged = 0;
    for (let i = 0; i < 3; i++) if ((await send()).res.status === 200) acknowledged += 1;
    expect(acknowledged).toBe(3);

    await proxy.cut();
    const during = [];
    for (let i = 0; i < 8; i++) during.push(await send());
    // Every request gets an answer (a hang would run into the test timeout), and it is a 503.
    for (const { res } of during) {
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await res.json()).error.code).toBe('UNAVAILABLE');
    }

    await proxy.start();
    let recovered = false;
    for (let i = 0; i < 40 && !recovered; i++) {
      const { res } = await send();
      if (res.status === 200) {
        acknowledged += 1;
        recovered = true;
      } else {
        expect(res.status).toBe(503);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    expect(recovered).toBe(true);
    for (let i = 0; i < 3; i++) if ((await send()).res.status === 200) acknowledged += 1;
    const [row] = await env.db.query<{ n: string }>(
      `select count(*) as n from public.metric_points p join public.metric_series s on s.id = p.series_id where s.name = 'outage.metric'`,
    );
    expect(Number(row!.n)).toBe(acknowledged);
  }, 60_000);
});
