/**
 * `npm start` as a newcomer runs it: a fresh data dir (embedded) or a fresh database (services mode),
 * migrations applied, a demo tenant seeded once and written to <data dir>/demo.json, every function
 * served at /functions/v1/<name>, one JSON log line per request, and a clear error on bad config.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionsClient } from '@supabase/functions-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../src/auth/jwt.ts';
import { FUNCTIONS } from '../../src/app/functions.ts';
import { createDatabase, servicesMode } from '../helpers/env.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

interface Gateway {
  proc: ChildProcess;
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

async function startGateway(env: Record<string, string>): Promise<Gateway> {
  const port = await freePort();
  let output = '';
  const proc = spawn('node_modules/.bin/tsx', ['scripts/gateway.ts'], {
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', LOG_FORMAT: 'json', SCHEDULER_ENABLED: 'false', DEMO_DATA: 'false', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}/functions/v1`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`gateway exited ${proc.exitCode}: ${output}`);
    try {
      if ((await fetch(`${url}/orgs/health`)).ok) break;
    } catch {
      // starting
    }
    if (Date.now() > deadline) throw new Error(`gateway did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    proc,
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

describe('npm start (gateway)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'observai-e2e-'));
  let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
  let env: Record<string, string>;
  let gw: Gateway;

  beforeAll(async () => {
    database = servicesMode() ? await createDatabase() : undefined;
    env = { OBSERVAI_DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url, REDIS_URL: process.env.REDIS_URL ?? '' } : {}) };
    gw = await startGateway(env);
  }, 90_000);
  afterAll(async () => {
    if (gw?.proc.exitCode === null) await gw.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves health for every function: the status alone to anyone, the details to the service role', async () => {
    const secret = readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim();
    const service = { authorization: `Bearer ${await signJwt(secret, { role: 'service_role' }, { expiresInSeconds: 3600 })}` };
    for (const f of FUNCTIONS) {
      const res = await fetch(`${gw.url}/${f.name}/health`);
      expect(res.status, f.name).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      const detailed = await fetch(`${gw.url}/${f.name}/health`, { headers: service });
      expect(await detailed.json()).toMatchObject({ function: f.name, status: 'ok', mode: database ? 'local' : 'embedded', checks: { database: 'ok' } });
    }
  });

  it('seeds a demo tenant whose credentials work at once', async () => {
    const demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8'));
    expect(Object.keys(demo).sort()).toEqual(['anonKey', 'apiKey', 'expiresAt', 'organizationId', 'ownerEmail', 'ownerJwt', 'ownerPassword', 'projectId', 'serviceToken', 'url']);
    // The service token opens what only the service role may: the ingest stats.
    expect((await fetch(`${gw.url}/ingest/stats`, { headers: { authorization: `Bearer ${demo.serviceToken}` } })).status).toBe(200);
    expect((await fetch(`${gw.url}/ingest/stats`, { headers: { authorization: `Bearer ${demo.ownerJwt}` } })).status).toBe(403);
    expect(gw.output()).toContain(demo.apiKey);
    const orgs = await (await fetch(`${gw.url}/orgs`, { headers: { authorization: `Bearer ${demo.ownerJwt}` } })).json();
    expect(orgs.organizations).toEqual([expect.objectContaining({ id: demo.organizationId, role: 'owner' })]);
    const projects = await (await fetch(`${gw.url}/orgs/${demo.organizationId}/projects`, { headers: { authorization: `Bearer ${demo.ownerJwt}` } })).json();
    expect(projects.projects.map((p: { id: string }) => p.id)).toEqual([demo.projectId]);
    const keys = await (await fetch(`${gw.url}/api-keys`, { headers: { authorization: `Bearer ${demo.ownerJwt}` } })).json();
    expect(keys.apiKeys).toEqual([expect.objectContaining({ projectId: demo.projectId, scopes: ['ingest', 'read'], status: 'active' })]);
    // The key ingests at once.
    const ingest = await fetch(`${gw.url}/ingest`, {
      method: 'POST',
      headers: { 'x-api-key': demo.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ metrics: [{ name: 'demo.metric', value: 1, timestamp: Date.now() }] }),
    });
    expect(ingest.status).toBe(200);
    expect(await ingest.json()).toMatchObject({ accepted: 1 });
  });

  it('supabase-js functions.invoke reaches the functions with the user JWT, as against supabase start', async () => {
    // supabase.functions is a FunctionsClient; the full client needs a WebSocket (realtime) that
    // Node 20 lacks, and the functions path is what the dashboard uses here.
    const demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8'));
    const secret = readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim();
    const anonKey = await signJwt(secret, { role: 'anon' }, { expiresInSeconds: 3600 });
    const functions = new FunctionsClient(gw.url, { headers: { apikey: anonKey, Authorization: `Bearer ${anonKey}` } });
    const { data, error } = await functions.invoke('orgs', { method: 'GET', headers: { Authorization: `Bearer ${demo.ownerJwt}` } });
    expect(error).toBeNull();
    expect(data.organizations[0]).toMatchObject({ id: demo.organizationId, role: 'owner' });
    // With only the anon key, the function refuses.
    const anon = await functions.invoke('orgs', { method: 'GET' });
    expect(anon.error).not.toBeNull();
    expect((anon.error as { context?: Response }).context?.status).toBe(401);
  });

  it('writes one JSON log line per request', async () => {
    await fetch(`${gw.url}/orgs/health?probe=logline`);
    await new Promise((r) => setTimeout(r, 200));
    const lines = gw
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const mine = lines.filter((l) => l.msg === 'request' && l.path === '/functions/v1/orgs/health');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.at(-1)).toMatchObject({ method: 'GET', status: 200, requestId: expect.stringMatching(/^req_/) });
  });

  it('does not seed again on restart against the same data', async () => {
    const before = readFileSync(join(dataDir, 'demo.json'), 'utf8');
    await gw.stop();
    gw = await startGateway(env);
    expect(gw.output()).not.toContain('Demo tenant created');
    expect(readFileSync(join(dataDir, 'demo.json'), 'utf8')).toBe(before);
    const demo = JSON.parse(before);
    const orgs = await (await fetch(`${gw.url}/orgs`, { headers: { authorization: `Bearer ${demo.ownerJwt}` } })).json();
    expect(orgs.organizations).toHaveLength(1);
  }, 90_000);

  it('refuses to start on bad configuration, naming the variable', async () => {
    const proc = spawn('node_modules/.bin/tsx', ['scripts/gateway.ts'], { env: { ...process.env, PORT: 'not-a-port', OBSERVAI_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).toBe(78);
    expect(err).toContain('PORT');
  });
});
