/**
 * Sharp edges a newcomer met in their first hour (issue 22, item 5):
 * - a user token naming no project gets a 400 naming the field it should have sent, in the query or
 *   the body as the route reads it (not 404 "Project not found");
 * - a log without a timestamp is stored at the time it was received, every such line (identical ones
 *   included), in JSON and NDJSON;
 * - the dedup identity: identical lines with one timestamp are one event, unless the client gives
 *   each its own id; a retry with the same id is a duplicate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../src/core/clock.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR + 123;

describe('first hour', () => {
  let env: TestEnv;
  let clock: FakeClock;
  let t: Tenant;

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: new Date(NOW).toISOString() });
    clock = env.clock as FakeClock;
    t = await createTenant(env);
  }, 60_000);
  afterAll(async () => env?.close());

  const ingest = async (body: unknown, type = 'application/json') => {
    const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': type } });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { accepted: number; duplicates: number; rejected: number };
  };
  const stored = (service: string) =>
    env.db.query<{ time: Date; message: string }>('select time, message from public.logs where project_id = $1 and service = $2 order by id', [t.projectA, service]);

  it.each([
    // [method, path, field, body]
    ['GET', '/functions/v1/metrics/names', 'query.projectId', undefined],
    ['POST', '/functions/v1/metrics/query', 'body.projectId', { queries: [{ metric: 'm', from: new Date(NOW - HOUR).toISOString(), to: new Date(NOW).toISOString() }] }],
    ['GET', '/functions/v1/logs/search', 'query.projectId', undefined],
    ['GET', '/functions/v1/logs/tail', 'query.projectId', undefined],
    ['GET', '/functions/v1/anomalies/episodes', 'query.projectId', undefined],
    ['GET', '/functions/v1/alerts/rules', 'query.projectId', undefined],
    ['POST', '/functions/v1/alerts/rules', 'body.projectId', { rule: { key: 'k', name: 'n', kind: 'metric', query: { metric: 'm' }, condition: { op: '>', critical: 1 } } }],
    ['POST', '/functions/v1/alerts/silences', 'body.projectId', { matchers: [{ name: 'a', op: '=', value: 'b' }], endsAt: new Date(NOW + HOUR).toISOString(), comment: 'deploy' }],
  ] as const)('%s %s with a user token and no projectId: 400 naming %s', async (method, path, field, body) => {
    const res = await env.request(method, path, { token: t.people.owner.jwt, body });
    expect(res.status, await res.clone().text()).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; details: Array<{ field: string }> } };
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details[0]!.field).toBe(field);
  });

  it('a log without a timestamp is stored at the time it was received, identical lines each', async () => {
    clock.advance(1000);
    const received = clock.now().getTime();
    expect(await ingest({ logs: [{ service: 'no-ts', message: 'same' }, { service: 'no-ts', message: 'same' }] })).toMatchObject({ accepted: 2, duplicates: 0 });
    // NDJSON too, and a second request in the same millisecond with the same lines.
    expect(await ingest('{"type":"log","service":"no-ts","message":"same"}\n{"type":"log","service":"no-ts","message":"same"}\n', 'application/x-ndjson')).toMatchObject({ accepted: 2, duplicates: 0 });
    const rows = await stored('no-ts');
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(new Date(r.time).getTime()).toBe(received);
  });

  it('identical lines with one timestamp are one event; their own ids keep them apart, and a retry with an id is a duplicate', async () => {
    const at = clock.now().getTime() - 5000;
    const line = { timestamp: at, service: 'ids', message: 'retrying' };
    expect(await ingest({ logs: [line, line] })).toMatchObject({ accepted: 1, duplicates: 1 });
    const repeated = [{ ...line, message: 'real repeat', id: 'evt-1' }, { ...line, message: 'real repeat', id: 'evt-2' }];
    expect(await ingest({ logs: repeated })).toMatchObject({ accepted: 2, duplicates: 0 });
    // A client retrying the same request (same ids, same timestamps) stores nothing new.
    expect(await ingest({ logs: repeated })).toMatchObject({ accepted: 0, duplicates: 2 });
    expect((await stored('ids')).map((r) => r.message)).toEqual(['retrying', 'real repeat', 'real repeat']);
  });
});
