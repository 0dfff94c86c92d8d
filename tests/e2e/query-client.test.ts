/**
 * The SDK's typed query client (packages/sdk/src/query.ts, types generated from the OpenAPI
 * document) against the gateway on a real socket: telemetry sent through it, then read back through
 * it as a user and as a read key, the way an app or the dashboard would; errors arrive as
 * QueryError with the envelope's fields. The package (with its compile-time checks in
 * packages/sdk/test/query-types.ts) is type-checked here too: a client whose types no longer fit the
 * routes fails this test.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryClient, QueryError, type QueryClient } from '../../packages/sdk/src/index.ts';
import { type OtelGateway, startOtelGateway } from '../helpers/otel-gateway.ts';

const run = promisify(execFile);
const TRACE = 'b'.repeat(32);
const ROOT = '1'.repeat(16);
const CHILD = '2'.repeat(16);

let gw: OtelGateway;
let url: string;
let asKey: QueryClient;
let asOwner: QueryClient;
const now = Date.now();
const minute = Math.floor(now / 60_000) * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  gw = await startOtelGateway();
  url = gw.base.replace(/\/ingest$/, '');
  asKey = createQueryClient({ url, apiKey: gw.t.keyA.secret });
  asOwner = createQueryClient({ url, token: gw.t.people.owner.jwt });
}, 120_000);
afterAll(async () => gw?.close());

describe('typed query client', () => {
  it('sends a native batch and reads it back: metrics, logs, traces', async () => {
    const sent = await asKey.post('/ingest', {
      body: {
        metrics: [0, 1, 2].map((i) => ({ name: 'checkout.latency', value: 100 + i, timestamp: minute - 120_000 + i * 1000, tags: { region: 'eu' } })),
        logs: [{ message: 'payment timeout at gateway', level: 'error', service: 'checkout', timestamp: iso(now - 5000), trace_id: TRACE, span_id: CHILD }],
        spans: [
          { trace_id: TRACE, span_id: ROOT, name: 'POST /checkout', service: 'checkout', start: now - 10_000, duration: 250, kind: 'server' },
          { trace_id: TRACE, span_id: CHILD, parent_span_id: ROOT, name: 'charge', service: 'payments', start: now - 9_900, duration: 120, status: 'error' },
        ],
      },
    });
    expect(sent).toEqual({ accepted: 6, rejected: 0, duplicates: 0, errors: [] });

    const { metrics } = await asKey.get('/metrics/names', { params: { query: { prefix: 'checkout.' } } });
    expect(metrics.map((m) => [m.name, m.series])).toEqual([['checkout.latency', 1]]);

    // Rollups are the cron jobs' work; the query answers from them once they ran.
    const rolled = await gw.env.request('POST', '/functions/v1/cron-aggregate-metrics', { token: await gw.env.serviceJwt() });
    expect(rolled.status).toBe(200);
    const { results } = await asOwner.post('/metrics/query', {
      body: { projectId: gw.t.projectA, queries: [{ id: 'lat', metric: 'checkout.latency', aggregation: 'max', groupBy: ['region'], from: iso(minute - 600_000), to: iso(minute + 60_000), step: 60 }] },
    });
    expect(results[0]!.id).toBe('lat');
    expect(results[0]!.series.map((s) => s.tags)).toEqual([{ region: 'eu' }]);

    const { logs } = await asKey.get('/logs/search', { params: { query: { q: 'timeout', from: iso(now - 60_000), to: iso(now + 60_000) } } });
    expect(logs.map((l) => [l.message, l.level, l.traceId])).toEqual([['payment timeout at gateway', 'error', TRACE]]);
    const { log, before, after } = await asOwner.get('/logs/{id}', { params: { path: { id: logs[0]!.id }, query: { projectId: gw.t.projectA } } });
    expect(log.message).toBe('payment timeout at gateway');
    expect([before, after]).toEqual([[], []]);

    const { trace, spans } = await asKey.get('/logs/traces/{traceId}', { params: { path: { traceId: TRACE } } });
    expect(trace.spanCount).toBe(2);
    expect(trace.errorCount).toBe(1);
    expect(trace.logCount).toBe(1);
    expect(spans.map((s) => [s.name, s.children.map((c) => c.name)])).toEqual([['POST /checkout', ['charge']]]);
    const { logs: traceLogs } = await asKey.get('/logs/traces/{traceId}/logs', { params: { path: { traceId: TRACE } } });
    expect(traceLogs.map((l) => l.spanId)).toEqual([CHILD]);
  });

  it('reads anomalies, alerts and incidents (none yet) as a key and as a user', async () => {
    expect(await asKey.get('/anomalies/episodes')).toEqual({ episodes: [] });
    expect(await asOwner.get('/anomalies/incidents', { params: { query: { projectId: gw.t.projectA } } })).toEqual({ incidents: [] });
    expect((await asKey.get('/alerts/rules')).rules).toEqual([]);
    expect((await asOwner.get('/alerts/instances', { params: { query: { projectId: gw.t.projectA } } })).instances).toEqual([]);
    expect((await asOwner.get('/oncall/incidents', { params: { query: { projectId: gw.t.projectA, state: 'open' } } })).incidents).toEqual([]);
  });

  it('answers errors as QueryError with the envelope: a field for a 400, 404 for another tenant, 401 without credentials', async () => {
    const bad = await asKey.get('/logs/search', { params: { query: { from: 'yesterday' } } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(QueryError);
    expect(bad).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((bad as QueryError).details?.[0]?.field).toBe('query.from');
    expect((bad as QueryError).requestId).toMatch(/\S/);

    const other = await asOwner.get('/metrics/names', { params: { query: { projectId: gw.t.other.projectId } } }).catch((e: unknown) => e);
    expect(other).toMatchObject({ status: 404, code: 'NOT_FOUND' });

    const anonymous = await createQueryClient({ url }).get('/anomalies/episodes').catch((e: unknown) => e);
    expect(anonymous).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('compiles: the package and its type checks pass tsc', async () => {
    const { stdout, stderr } = await run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'packages/sdk'], { timeout: 120_000 }).catch(
      (e: { stdout: string; stderr: string }) => e,
    );
    expect(`${stdout}${stderr}`).toBe('');
  }, 150_000);
});
