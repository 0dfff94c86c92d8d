/**
 * `npm start` with its default DEMO_DATA: the gateway fills the demo project with the sample shop's
 * last 6 hours through its own ingest, then sends live; a user finds metrics (rates and percentiles
 * through the rollups), logs and a trace opened from a log line, all through the query API. A restart
 * sends only the gap; DEMO_DATA=false sends nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  lines: () => Array<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

async function startGateway(env: Record<string, string>): Promise<Gateway> {
  const port = await freePort();
  let output = '';
  const proc = spawn('node_modules/.bin/tsx', ['scripts/gateway.ts'], {
    // The sender's successful requests are logged at debug (src/http/middleware.ts): the tests count them.
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', LOG_FORMAT: 'json', LOG_LEVEL: 'debug', SCHEDULER_ENABLED: 'false', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}/functions/v1`;
  for (const deadline = Date.now() + 60_000; ; ) {
    if (proc.exitCode !== null) throw new Error(`gateway exited ${proc.exitCode}: ${output}`);
    try {
      if ((await fetch(`${url}/ingest/health`)).ok) break;
    } catch {
      // starting
    }
    if (Date.now() > deadline) throw new Error(`gateway did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    proc,
    url,
    lines: () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', (code) => resolve(code));
        proc.kill('SIGTERM');
      }),
  };
}

/** Polls until `find` returns something, or fails after `seconds`. */
async function eventually<T>(what: string, seconds: number, find: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (const deadline = Date.now() + seconds * 1000; ; ) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const backfillLine = (gw: Gateway) => gw.lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('demo data: backfilled'));

describe('demo data (npm start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'observai-demo-data-'));
  let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
  let env: Record<string, string>;
  let gw: Gateway;
  let demo: { apiKey: string; projectId: string; serviceToken: string };
  let backfilledAt: number;
  const get = async (path: string) => {
    const res = await fetch(`${gw.url}${path}`, { headers: { 'x-api-key': demo.apiKey } });
    expect(res.status, `${path}: ${res.status}`).toBe(200);
    return res.json();
  };

  beforeAll(async () => {
    database = servicesMode() ? await createDatabase() : undefined;
    env = { OBSERVAI_DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url, REDIS_URL: process.env.REDIS_URL ?? '' } : {}) };
    gw = await startGateway(env);
    demo = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8'));
    await eventually('the backfill', 120, () => backfillLine(gw));
    backfilledAt = Date.now();
  }, 200_000);
  afterAll(async () => {
    if (gw?.proc.exitCode === null) await gw.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('backfills a few tens of thousands of events through ingest', () => {
    const line = backfillLine(gw)!;
    expect(line.events).toBeGreaterThan(20_000);
    expect(line.events).toBeLessThan(50_000);
    const ingests = gw.lines().filter((l) => l.msg === 'request' && l.path === '/functions/v1/ingest');
    expect(ingests.length).toBeGreaterThan(5);
    expect(ingests.every((l) => l.status === 200)).toBe(true);
  });

  it('charts request rates and latency percentiles per service over the last 6 hours', async () => {
    // The rollups, as the scheduler would make them (it is off in this test).
    const run = await fetch(`${gw.url}/cron-aggregate-metrics`, { method: 'POST', headers: { authorization: `Bearer ${demo.serviceToken}`, 'content-type': 'application/json' }, body: '{}' });
    expect(run.status).toBe(200);
    const to = new Date(Math.floor(Date.now() / 300_000) * 300_000);
    const from = new Date(to.getTime() - 6 * 3_600_000);
    const res = await fetch(`${gw.url}/metrics/query`, {
      method: 'POST',
      headers: { 'x-api-key': demo.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        queries: [
          { id: 'rate', metric: 'http.server.requests', aggregation: 'rate', groupBy: ['service.name'], from, to, step: 300 },
          { id: 'p95', metric: 'http.server.request.duration', aggregation: 'p95', groupBy: ['service.name'], from, to, step: 300 },
          { id: 'p50', metric: 'http.server.request.duration', aggregation: 'p50', groupBy: ['service.name'], from, to, step: 300 },
          { id: 'cpu', metric: 'system.cpu.utilization', aggregation: 'avg', groupBy: ['host.name'], from, to, step: 300 },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: Array<{ id: string; series: Array<{ tags: Record<string, string>; points: Array<[number, number | null]> }> }> };
    const byId = Object.fromEntries(results.map((r) => [r.id, r.series]));
    const services = (id: string) => byId[id]!.map((s) => s.tags['service.name']).sort();
    expect(services('rate')).toEqual(['api', 'checkout', 'web']);
    expect(byId.cpu!.map((s) => s.tags['host.name']).sort()).toEqual(['api-1', 'api-2', 'checkout-1', 'db-1', 'web-1', 'web-2']);
    for (const id of ['rate', 'p95', 'p50', 'cpu']) {
      for (const s of byId[id]!) {
        // 72 steps of 5 minutes: all but the edges hold a value.
        const filled = s.points.filter(([, v]) => v !== null);
        expect(filled.length, `${id} ${JSON.stringify(s.tags)}`).toBeGreaterThanOrEqual(68);
        expect(filled.every(([, v]) => v! > 0)).toBe(true);
      }
    }
    const web = (id: string) => byId[id]!.find((s) => s.tags['service.name'] === 'web')!.points.filter(([, v]) => v !== null).map(([, v]) => v!);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(web('p95'))).toBeGreaterThan(mean(web('p50')));
    // Rates per second of a shop doing a few hundred requests a minute.
    expect(mean(web('rate'))).toBeGreaterThan(0.5);
    expect(mean(web('rate'))).toBeLessThan(20);
  });

  it('finds error logs and opens the trace of a log line, nested across services', async () => {
    const from = new Date(Date.now() - 6 * 3_600_000).toISOString();
    const { logs } = await get(`/logs/search?minLevel=warn&from=${from}&limit=200`);
    expect(logs.length).toBeGreaterThan(20);
    expect(new Set(logs.map((l: { level: string }) => l.level))).toEqual(new Set(['warn', 'error']));
    const access = await get(`/logs/search?service=web&has=user.id&from=${from}&limit=50`);
    const line = access.logs.find((l: { traceId: string | null }) => l.traceId);
    expect(line.attributes).toMatchObject({ 'http.route': expect.any(String), 'http.response.status_code': expect.any(Number), 'user.id': expect.stringMatching(/^u_/) });
    const { trace, spans } = await get(`/logs/traces/${line.traceId}`);
    expect(trace.spanCount).toBeGreaterThanOrEqual(3);
    expect(trace.spanCount).toBeLessThanOrEqual(8);
    expect(spans).toHaveLength(1); // one root
    const root = spans[0];
    expect(root.service).toBe('web');
    expect(root.spanId).toBe(line.spanId);
    const services = new Set<string>();
    const walk = (s: { service: string; children?: unknown[] }) => {
      services.add(s.service);
      for (const c of (s.children ?? []) as Array<{ service: string; children?: unknown[] }>) walk(c);
    };
    walk(root);
    expect(services.size).toBeGreaterThanOrEqual(2);
    // Failing traces are there to search for.
    const failing = await get(`/logs/traces?from=${from}&to=${new Date(Date.now() + 600_000).toISOString()}&status=error&limit=5`);
    expect(failing.traces.length).toBeGreaterThan(0);
  });

  it('keeps sending live after the backfill', async () => {
    const since = new Date(backfilledAt).toISOString();
    await eventually('a live batch', 90, async () => {
      const ingests = gw.lines().filter((l) => l.msg === 'request' && l.path === '/functions/v1/ingest' && (l.time as number) > backfilledAt);
      if (ingests.length === 0) return undefined;
      const { logs } = await get(`/logs/search?from=${since}&to=${new Date(Date.now() + 600_000).toISOString()}&limit=1`);
      return logs[0];
    });
  }, 100_000);

  it('stops cleanly, and on restart sends only the gap', async () => {
    const series = async () => ((await get('/metrics/names')) as { metrics: Array<{ name: string; series: number }> }).metrics.map((m) => [m.name, m.series]);
    const before = await series();
    expect(await gw.stop()).toBe(0);
    gw = await startGateway(env);
    const line = await eventually('the second backfill', 60, () => backfillLine(gw));
    expect(line.events).toBeLessThan(2000);
    // Same series, none new: what was sent again was the same events.
    expect(await series()).toEqual(before);
  }, 90_000);

  it('sends nothing with DEMO_DATA=false', async () => {
    await gw.stop();
    gw = await startGateway({ ...env, DEMO_DATA: 'false' });
    // A request of ours goes through the server after any the generator would have sent at start.
    await new Promise((r) => setTimeout(r, 3000));
    await get('/metrics/names');
    expect(gw.lines().filter((l) => l.msg === 'request' && l.path === '/functions/v1/ingest')).toEqual([]);
    expect(gw.lines().filter((l) => typeof l.msg === 'string' && l.msg.includes('demo data'))).toEqual([]);
  }, 90_000);
});
