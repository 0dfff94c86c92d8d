/**
 * The Deno side for real: `deno check` on every edge entry point, and the api-keys and ingest
 * functions started under Deno (npm package `deno`, pinned) against this file's Postgres database,
 * called over HTTP.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, servicesMode, TEST_JWT_SECRET, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const run = promisify(execFile);
const DENO = 'node_modules/.bin/deno';

function entryPoints(): string[] {
  const dir = 'supabase/functions';
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (existsSync(`${dir}/${name}/index.ts`)) out.push(`${dir}/${name}/index.ts`);
  }
  for (const name of readdirSync(`${dir}/cron`)) out.push(`${dir}/cron/${name}/index.ts`);
  return out.sort();
}

describe('deno check', () => {
  it('type-checks every edge entry point', async () => {
    const files = entryPoints();
    expect(files).toHaveLength(19);
    const { stderr } = await run(DENO, ['check', ...files], { timeout: 120_000 });
    for (const f of files) expect(stderr).toContain(f);
  }, 150_000);
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startFunction(name: string, databaseUrl: string): Promise<{ url: string; proc: ChildProcess; output: () => string }> {
  const port = await freePort();
  let output = '';
  const proc = spawn(DENO, ['run', '--allow-net', '--allow-env', '--allow-read', `supabase/functions/${name}/index.ts`], {
    env: { ...process.env, OBSERVAI_MODE: 'local', DATABASE_URL: databaseUrl, REDIS_URL: '', JWT_SECRET: TEST_JWT_SECRET, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`deno ${name} exited: ${output}`);
    try {
      const res = await fetch(`${url}/functions/v1/${name}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`deno ${name} did not become healthy: ${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, proc, output: () => output };
}

describe.skipIf(!servicesMode())('edge functions under Deno against Postgres', () => {
  let env: TestEnv;
  let t: Tenant;
  let apiKeys: Awaited<ReturnType<typeof startFunction>>;
  let ingest: Awaited<ReturnType<typeof startFunction>>;

  beforeAll(async () => {
    env = await createTestEnv();
    t = await createTenant(env);
    [apiKeys, ingest] = await Promise.all([startFunction('api-keys', env.databaseUrl!), startFunction('ingest', env.databaseUrl!)]);
  }, 120_000);
  afterAll(async () => {
    apiKeys?.proc.kill();
    ingest?.proc.kill();
    await env?.close();
  });

  it('answers health on both URL shapes (details for the service role only)', async () => {
    const service = { authorization: `Bearer ${await env.serviceJwt()}` };
    for (const path of ['/functions/v1/api-keys/health', '/api-keys/health']) {
      const res = await fetch(`${apiKeys.url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      const detailed = await fetch(`${apiKeys.url}${path}`, { headers: service });
      expect(await detailed.json()).toMatchObject({ status: 'ok', function: 'api-keys', implemented: true, checks: { database: 'ok' } });
    }
    const res = await fetch(`${ingest.url}/functions/v1/ingest/health`, { headers: service });
    expect(await res.json()).toMatchObject({ status: 'ok', function: 'ingest', implemented: true });
  });

  it('creates, lists and revokes a key through the Deno api-keys function', async () => {
    const auth = { authorization: `Bearer ${t.people.owner.jwt}`, 'content-type': 'application/json' };
    const created = await fetch(`${apiKeys.url}/api-keys`, { method: 'POST', headers: auth, body: JSON.stringify({ projectId: t.projectA, name: 'from-deno', scopes: ['admin'] }) });
    expect(created.status).toBe(201);
    const body = await created.json();
    const [row] = await env.db.query<{ name: string }>('select name from public.api_keys where id = $1', [body.apiKey.id]);
    expect(row!.name).toBe('from-deno');
    const listed = await fetch(`${apiKeys.url}/api-keys`, { headers: { 'x-api-key': body.secret } });
    expect(listed.status).toBe(200);
    expect((await listed.json()).apiKeys.map((k: { id: string }) => k.id)).toContain(body.apiKey.id);
    const revoked = await fetch(`${apiKeys.url}/api-keys/${body.apiKey.id}/revoke`, { method: 'POST', headers: auth });
    expect(revoked.status).toBe(200);
    expect((await fetch(`${apiKeys.url}/api-keys`, { headers: { 'x-api-key': body.secret } })).status).toBe(401);
  });

  it('answers errors in the envelope: 401 without credentials, 400 on bad input, 404 across tenants', async () => {
    const none = await fetch(`${apiKeys.url}/api-keys`);
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe('UNAUTHENTICATED');
    const bad = await fetch(`${apiKeys.url}/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.people.owner.jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ projectId: t.projectA }),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.details[0].field).toBe('body.name');
    const foreign = await fetch(`${apiKeys.url}/api-keys/${t.other.keyId}`, { headers: { authorization: `Bearer ${t.people.owner.jwt}` } });
    expect(foreign.status).toBe(404);
  });

  it('the ingest function under Deno stores native and OTLP/JSON events', async () => {
    const ts = Date.now() - 1000;
    const res = await fetch(`${ingest.url}/ingest`, {
      method: 'POST',
      headers: { 'x-api-key': t.keyA.secret, 'content-type': 'application/json' },
      body: JSON.stringify({ metrics: [{ name: 'deno.metric', value: 2.5, timestamp: ts, tags: { runtime: 'deno' } }], logs: [{ timestamp: ts, message: 'hello from deno' }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 0 });
    const otlp = await fetch(`${ingest.url}/ingest/v1/logs`, {
      method: 'POST',
      headers: { 'x-api-key': t.keyA.secret, 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'edge-svc' } }] },
            scopeLogs: [{ logRecords: [{ timeUnixNano: String(ts * 1e6), severityNumber: 17, body: { stringValue: 'otlp via deno' } }] }],
          },
        ],
      }),
    });
    expect(otlp.status).toBe(200);
    expect(otlp.headers.get('content-type')).toContain('application/json');
    const rows = await env.db.query<{ message: string; service: string; level: string }>(
      `select message, service, level from public.logs where project_id = $1 and message in ('hello from deno', 'otlp via deno') order by message`,
      [t.projectA],
    );
    expect(rows).toEqual([
      { message: 'hello from deno', service: 'unknown_service', level: 'info' },
      { message: 'otlp via deno', service: 'edge-svc', level: 'error' },
    ]);
    const [point] = await env.db.query<{ value: number }>(
      `select p.value from public.metric_points p join public.metric_series s on s.id = p.series_id where s.name = 'deno.metric'`,
    );
    expect(point!.value).toBe(2.5);
  });
});
