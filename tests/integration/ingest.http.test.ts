/**
 * Native ingest over HTTP: JSON batches, NDJSON, gzip, partial success, limits, bad input, dedup
 * of retries (with the bloom fast path and without it), the series limit, rate limits and the
 * credentials matrix. Asserts status, body and stored rows.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/cache/memory.ts';
import { createRedisCache } from '../../src/cache/redis.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createGatewayApp } from '../../src/app/app.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';
import { withinOneMinute } from '../helpers/minute.ts';

const URL_ = '/functions/v1/ingest';

describe('ingest (native)', () => {
  let env: TestEnv;
  let t: Tenant;
  beforeAll(async () => {
    env = await createTestEnv();
    t = await createTenant(env);
  });
  afterAll(async () => env?.close());

  const now = () => Date.now();
  const post = (body: unknown, headers: Record<string, string> = {}, key = t.keyA.secret) =>
    env.request('POST', URL_, { apiKey: key, body: typeof body === 'string' || body instanceof Uint8Array ? (body as string) : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  const count = async (sql: string, params: unknown[] = []) => Number((await env.db.query<{ n: string }>(`select count(*) as n from ${sql}`, params))[0]!.n);

  it('stores metrics, logs and spans from a JSON batch', async () => {
    const ts = now() - 1000;
    const res = await post({
      metrics: [
        { name: 'http.requests', value: 3, type: 'counter', timestamp: ts, tags: { route: '/a', method: 'GET' } },
        { name: 'cpu.usage', value: 0.42, timestamp: new Date(ts).toISOString(), tags: { host: 'h1' }, unit: '%' },
        { name: 'latency', type: 'histogram', timestamp: ts, histogram: { count: 3, sum: 0.6, bounds: [0.1, 0.5], counts: [1, 1, 1] } },
      ],
      logs: [{ timestamp: ts, level: 'ERROR', message: 'payment failed: card declined', service: 'checkout', attributes: { order: 42 }, trace_id: 'A'.repeat(32), span_id: 'b'.repeat(16) }],
      spans: [{ trace_id: 'a'.repeat(32), span_id: 'c'.repeat(16), name: 'GET /a', service: 'checkout', start: ts, duration: 12.5, status: 'error', kind: 'server', events: [{ name: 'exception', timestamp: ts + 1, attributes: { 'exception.type': 'Boom' } }] }],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 5, rejected: 0, duplicates: 0, errors: [] });
    const [series] = await env.db.query<{ tags: unknown; type: string }>(`select tags, type from public.metric_series where project_id = $1 and name = 'http.requests'`, [t.projectA]);
    expect(series).toEqual({ tags: { route: '/a', method: 'GET' }, type: 'counter' });
    const [point] = await env.db.query<{ value: number; time: Date }>(
      `select p.value, p.time from public.metric_points p join public.metric_series s on s.id = p.series_id where s.name = 'cpu.usage' and p.project_id = $1`,
      [t.projectA],
    );
    expect(point!.value).toBe(0.42);
    expect(point!.time.getTime()).toBe(ts);
    const [hist] = await env.db.query<{ count: number; buckets: { bounds: number[]; counts: number[] } }>('select count, buckets from public.metric_histogram_points where project_id = $1', [t.projectA]);
    expect(hist).toMatchObject({ count: 3, buckets: { kind: 'explicit', bounds: [0.1, 0.5], counts: [1, 1, 1] } });
    const [log] = await env.db.query<Record<string, unknown>>('select level, message, service, attributes, trace_id, span_id from public.logs where project_id = $1', [t.projectA]);
    expect(log).toEqual({ level: 'error', message: 'payment failed: card declined', service: 'checkout', attributes: { order: 42 }, trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) });
    const [span] = await env.db.query<Record<string, unknown>>('select name, status, kind, duration_ms, events from public.spans where project_id = $1', [t.projectA]);
    expect(span).toMatchObject({ name: 'GET /a', status: 'error', kind: 'server', duration_ms: 12.5, events: [{ name: 'exception' }] });
    const [usage] = await env.db.query<{ events: number }>('select events from public.ingest_usage where project_id = $1 order by id desc limit 1', [t.projectA]);
    expect(usage!.events).toBe(5);
  });

  it('accepts NDJSON and gzip', async () => {
    const ts = now() - 500;
    const ndjson = [
      JSON.stringify({ type: 'metric', name: 'nd.metric', value: 1, timestamp: ts }),
      '',
      JSON.stringify({ type: 'log', timestamp: ts, message: 'from ndjson', service: 'nd' }),
    ].join('\n');
    const res = await env.request('POST', URL_, { apiKey: t.keyA.secret, body: ndjson, headers: { 'content-type': 'application/x-ndjson' } });
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 0 });
    const gz = gzipSync(JSON.stringify({ metrics: [{ name: 'gz.metric', value: 7, timestamp: ts }] }));
    const zipped = await env.app.request(URL_, { method: 'POST', headers: { 'x-api-key': t.keyA.secret, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gz });
    expect(zipped.status).toBe(200);
    expect(await zipped.json()).toMatchObject({ accepted: 1 });
    expect(await count(`public.metric_series where name = 'gz.metric'`)).toBe(1);
  });

  it('partial success: stores the valid items and reports each invalid one by index and field', async () => {
    const ts = now();
    const res = await post({
      metrics: [
        { name: 'ok.metric', value: 1, timestamp: ts },
        { name: 'bad value', value: 'NaN', timestamp: ts },
        { name: 'old.metric', value: 1, timestamp: ts - 30 * 86_400_000 },
        { name: 'future.metric', value: 1, timestamp: ts + 3_600_000 },
        { name: 'proto.metric', value: 1, timestamp: ts, tags: JSON.parse('{"__proto__": "x"}') },
      ],
      logs: [
        { timestamp: ts, message: 'nul \u0000 inside' },
        { timestamp: ts, message: 'deep', attributes: nest(12) },
        { timestamp: ts, message: 'lone \ud800 surrogate' },
        { timestamp: ts, message: 'ok', attributes: { k: 'lone \udc00' } },
      ],
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.accepted).toBe(1);
    expect(body.rejected).toBe(body.errors.length);
    const fields = body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['metrics.1.name', 'metrics.1.value', 'metrics.2.timestamp', 'metrics.3.timestamp', 'logs.0.message']));
    expect(fields.some((f: string) => f.startsWith('metrics.4.tags'))).toBe(true);
    expect(fields.some((f: string) => f.startsWith('logs.1.attributes'))).toBe(true);
    expect(fields).toEqual(expect.arrayContaining(['logs.2.message', 'logs.3.attributes.k']));
    expect(await count(`public.metric_series where name in ('old.metric', 'future.metric', 'proto.metric')`)).toBe(0);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it.each([
    ['fractional bucket counts', { count: 2, bounds: [1], counts: [1.5, 0.5] }, 'metrics.0.histogram.counts'],
    ['bucket counts that do not add up to count', { count: 5, bounds: [1], counts: [1, 1] }, 'metrics.0.histogram.count'],
    ['a fractional count', { count: 2.5, bounds: [1], counts: [1, 1] }, 'metrics.0.histogram.count'],
    ['negative bucket counts', { count: 0, bounds: [1], counts: [1, -1] }, 'metrics.0.histogram.counts'],
  ])('refuses a histogram point with %s, by field', async (_, histogram, field) => {
    const res = await post({ metrics: [{ name: 'bad.hist', type: 'histogram', timestamp: now(), histogram }] });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.details.some((d: { field: string }) => d.field.startsWith(field)), JSON.stringify(body.error.details)).toBe(true);
    expect(await count(`public.metric_series where name = 'bad.hist'`)).toBe(0);
  });

  it('answers 400 when nothing is valid, and stores nothing', async () => {
    const before = await count('public.ingest_usage');
    const res = await post({ metrics: [{ name: '', value: 1, timestamp: now() }] });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.details[0].field).toBe('metrics.0.name');
    expect(await count('public.ingest_usage')).toBe(before);
  });

  it.each([
    ['malformed JSON', '{"metrics": [', {}, 400],
    ['a JSON array', '[1,2]', {}, 400],
    ['an unknown top-level field', '{"metricz": []}', {}, 400],
    ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), {}, 400],
    ['deep nesting', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, {}, 400],
    ['text/plain', 'name=x', { 'content-type': 'text/plain' }, 415],
    ['an unsupported encoding', '{}', { 'content-encoding': 'br' }, 415],
  ] as const)('%s is refused with the right status', async (_, body, headers, status) => {
    const res = await env.app.request(URL_, { method: 'POST', headers: { 'x-api-key': t.keyA.secret, 'content-type': 'application/json', ...headers }, body: body as BodyInit });
    expect(res.status).toBe(status);
    expect((await res.json()).error.requestId).toMatch(/^req_/);
  });

  it('413 past 10,000 events, past 5 MiB, and for a gzip bomb; truncated gzip is 400', async () => {
    const many = { metrics: Array.from({ length: 10_001 }, () => ({ name: 'm', value: 1, timestamp: now() })) };
    expect((await post(many)).status).toBe(413);
    const huge = JSON.stringify({ logs: [{ timestamp: now(), message: 'x'.repeat(6 * 1024 * 1024) }] });
    expect((await post(huge)).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    const res = await env.app.request(URL_, { method: 'POST', headers: { 'x-api-key': t.keyA.secret, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb });
    expect(res.status).toBe(413);
    const truncated = gzipSync(JSON.stringify({ metrics: [] })).subarray(0, 12);
    const bad = await env.app.request(URL_, { method: 'POST', headers: { 'x-api-key': t.keyA.secret, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: truncated });
    expect(bad.status).toBe(400);
    // and the server keeps serving
    expect((await post({ metrics: [{ name: 'still.alive', value: 1, timestamp: now() }] })).status).toBe(200);
  });

  it('a retried batch is stored once (bloom fast path + exact confirmation)', async () => {
    const ts = now() - 2000;
    const batch = {
      metrics: [{ name: 'retry.metric', value: 5, timestamp: ts, tags: { a: '1' } }, { name: 'retry.metric', value: 6, timestamp: ts, tags: { a: '1' }, id: 'evt-1' }],
      logs: [{ timestamp: ts, message: 'retry me', service: 'r' }],
      spans: [{ trace_id: 'd'.repeat(32), span_id: 'e'.repeat(16), name: 's', start: ts, end: ts + 1 }],
    };
    expect(await (await post(batch)).json()).toMatchObject({ accepted: 4, duplicates: 0 });
    expect(await (await post(batch)).json()).toMatchObject({ accepted: 0, duplicates: 4, rejected: 0 });
    expect(await count(`public.metric_points p join public.metric_series s on s.id = p.series_id where s.name = 'retry.metric'`)).toBe(2);
    expect(await count(`public.logs where message = 'retry me'`)).toBe(1);
    expect(await count(`public.spans where span_id = $1`, ['e'.repeat(16)])).toBe(1);
    // The same event twice inside one batch counts once.
    const twice = { logs: [{ timestamp: ts, message: 'twice', service: 'r' }, { timestamp: ts, message: 'twice', service: 'r' }] };
    expect(await (await post(twice)).json()).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it('two copies of a batch sent at the same moment are stored once (a retry while the first is in flight)', async () => {
    // Without the unique indexes of migration ..2600, the second copy's lookup could not see the first
    // one's uncommitted rows, and both were stored in most rounds.
    for (let round = 0; round < 5; round++) {
      const ts = now() - 4000 - round;
      const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
      const batch = {
        metrics: Array.from({ length: 50 }, (_, i) => ({ name: 'concurrent.metric', value: round * 100 + i, timestamp: ts, tags: { i: String(i) } })),
        logs: [{ timestamp: ts, message: `concurrent copy ${round}`, service: 'c' }],
        spans: [{ trace_id: hex(round + 1, 32), span_id: hex(round + 1, 16), name: 'concurrent', start: ts, end: ts + 1 }],
      };
      const answers = await Promise.all([post(batch), post(batch)]);
      const [a, b] = await Promise.all(answers.map((r) => r.json()));
      expect([answers[0]!.status, answers[1]!.status]).toEqual([200, 200]);
      expect(a.accepted + b.accepted).toBe(52);
      expect(a.duplicates + b.duplicates).toBe(52);
    }
    expect(await count(`public.metric_points p join public.metric_series s on s.id = p.series_id where s.name = 'concurrent.metric'`)).toBe(250);
    expect(await count(`public.logs where message like 'concurrent copy %'`)).toBe(5);
    expect(await count(`public.spans where name = 'concurrent'`)).toBe(5);
  });

  it('a batch sent again after its bloom filter forgot it (a busy project-hour) is stored once', async () => {
    // A filter keeps only a busy project's latest 1-2 million events (bloom.ts). Another gateway with
    // an empty cache meets a re-sent batch as such a filter does: every event answers "new".
    const ts = now() - 5000;
    const batch = JSON.stringify({
      metrics: [{ name: 'forgotten.metric', value: 1, timestamp: ts, tags: { k: 'v' } }],
      logs: [{ timestamp: ts, message: 'forgotten', service: 'f' }],
      spans: [{ trace_id: 'f'.repeat(32), span_id: 'f'.repeat(16), name: 'forgotten', start: ts, end: ts + 1 }],
    });
    const send = (app: ReturnType<typeof createGatewayApp>) =>
      app.request(URL_, { method: 'POST', headers: { 'x-api-key': t.keyA.secret, 'content-type': 'application/json' }, body: batch });
    expect(await (await send(env.app)).json()).toMatchObject({ accepted: 3, duplicates: 0 });
    const forgetful = createGatewayApp({ ...env.deps, cache: createMemoryCache(systemClock) });
    const res = await send(forgetful);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 0, duplicates: 3, rejected: 0 });
    expect(await count(`public.metric_points p join public.metric_series s on s.id = p.series_id where s.name = 'forgotten.metric'`)).toBe(1);
    expect(await count(`public.logs where message = 'forgotten'`)).toBe(1);
    expect(await count(`public.spans where name = 'forgotten'`)).toBe(1);
    const stats = await (await forgetful.request(`${URL_}/stats`, { headers: { authorization: `Bearer ${await env.serviceJwt()}` } })).json();
    expect(stats).toMatchObject({ events: 0, duplicates: 3, confirmed: 0, rewrites: 1 });
  });

  it('with the cache unreachable, retries are still stored once (every event confirmed in Postgres)', async () => {
    const deadCache = createRedisCache('redis://127.0.0.1:1');
    const app = createGatewayApp({ ...env.deps, cache: deadCache });
    const ts = now() - 3000;
    const batch = JSON.stringify({ metrics: [{ name: 'nocache.metric', value: 1, timestamp: ts }], logs: [{ timestamp: ts, message: 'nocache', service: 'n' }] });
    const send = () => app.request(URL_, { method: 'POST', headers: { 'x-api-key': t.keyA.secret, 'content-type': 'application/json' }, body: batch });
    expect(await (await send()).json()).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(await (await send()).json()).toMatchObject({ accepted: 0, duplicates: 2 });
    expect(await count(`public.logs where message = 'nocache'`)).toBe(1);
    // Degraded operation is counted and visible to operators.
    const stats = await (await app.request(`${URL_}/stats`, { headers: { authorization: `Bearer ${await env.serviceJwt()}` } })).json();
    expect(stats).toMatchObject({ dedupDegraded: 2, rateLimitDegraded: 2, requests: 2, events: 2, duplicates: 2, confirmed: 4, breaker: 'closed' });
    expect((await app.request(`${URL_}/stats`, { headers: { authorization: `Bearer ${t.people.owner.jwt}` } })).status).toBe(403);
    await deadCache.close();
  });

  it('meters usage per project per day for owners and admins', async () => {
    const rows = await env.db.transaction(async (tx) => {
      await tx.query('set local role authenticated');
      await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role: 'authenticated', sub: t.people.admin.id })]);
      return tx.query<{ project_id: string; events: string; bytes: string; requests: string }>('select project_id, events, bytes, requests from public.ingest_usage_daily');
    });
    const mine = rows.find((r) => r.project_id === t.projectA)!;
    expect(Number(mine.events)).toBeGreaterThan(0);
    expect(Number(mine.bytes)).toBeGreaterThan(0);
    const viewer = await env.db.transaction(async (tx) => {
      await tx.query('set local role authenticated');
      await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role: 'authenticated', sub: t.people.viewer.id })]);
      return tx.query('select 1 from public.ingest_usage_daily');
    });
    expect(viewer).toEqual([]);
  });

  it('stores an event on a day without a partition yet (created on demand), with its series', async () => {
    const ts = now() - 6 * 86_400_000;
    const day = new Date(ts).toISOString().slice(0, 10).replaceAll('-', '');
    await env.db.query(`drop table partitions.metric_points_${day}`);
    const res = await post({ metrics: [{ name: 'old.day.metric', value: 3, timestamp: ts, tags: { k: 'v' } }] });
    expect(await res.json()).toMatchObject({ accepted: 1 });
    const rows = await env.db.query<{ name: string; value: number }>(
      `select s.name, p.value from public.metric_points p join public.metric_series s on s.id = p.series_id where s.name = 'old.day.metric'`,
    );
    expect(rows).toEqual([{ name: 'old.day.metric', value: 3 }]);
  });

  it('refuses points of new series past the project limit, counts them, keeps existing series', async () => {
    await env.db.query('insert into public.project_ingest_settings (project_id, organization_id, max_series) values ($1, $2, 2)', [t.projectB, t.orgId]);
    const keyB = await (await env.request('POST', '/functions/v1/api-keys', { token: t.people.owner.jwt, body: { projectId: t.projectB, name: 'b', scopes: ['ingest'] } })).json();
    const ts = now();
    const res = await post({ metrics: ['a', 'b', 'c'].map((h, i) => ({ name: 'card.metric', value: i, timestamp: ts, tags: { host: h } })) }, {}, keyB.secret);
    const body = await res.json();
    expect(body).toMatchObject({ accepted: 2, rejected: 1 });
    expect(body.errors[0]).toMatchObject({ index: 2, field: 'metrics.2' });
    expect(body.errors[0].message).toMatch(/limit of 2 series/);
    const [rej] = await env.db.query<{ rejected_points: string }>('select rejected_points from public.series_rejections where project_id = $1', [t.projectB]);
    expect(Number(rej!.rejected_points)).toBe(1);
    const again = await (await post({ metrics: [{ name: 'card.metric', value: 9, timestamp: ts + 1, tags: { host: 'a' } }] }, {}, keyB.secret)).json();
    expect(again).toMatchObject({ accepted: 1, rejected: 0 });
    // A refused point is named by its place in the request, whatever was dropped before it: an
    // invalid item, an item out of the acceptance window, a duplicate within the batch.
    const a = { name: 'card.metric', value: 10, timestamp: ts + 2, tags: { host: 'a' } };
    const mixed = await (
      await post({ metrics: [{ name: 'card.metric', value: 'x', timestamp: ts }, { ...a, timestamp: ts - 30 * 86_400_000 }, a, a, { ...a, tags: { host: 'd' } }] }, {}, keyB.secret)
    ).json();
    expect(mixed).toMatchObject({ accepted: 1, duplicates: 1, rejected: 3 });
    expect(mixed.errors.map((e: { index: number; field: string }) => [e.index, e.field.split('.').slice(0, 2).join('.')])).toEqual([
      [0, 'metrics.0'],
      [1, 'metrics.1'],
      [4, 'metrics.4'],
    ]);
  });

  it('rate limits per project with 429, Retry-After and RateLimit headers', async () => {
    const orgRes = await (await env.request('POST', `/functions/v1/orgs/${t.orgId}/projects`, { token: t.people.owner.jwt, body: { name: 'RL', slug: 'rate-limited' } })).json();
    const projectId = orgRes.project.id;
    await env.db.query('insert into public.project_ingest_settings (project_id, organization_id, requests_per_minute) values ($1, $2, 2)', [projectId, t.orgId]);
    const key = await (await env.request('POST', '/functions/v1/api-keys', { token: t.people.owner.jwt, body: { projectId, name: 'rl', scopes: ['ingest'] } })).json();
    const send = () => post({ metrics: [{ name: 'rl.metric', value: 1, timestamp: now() }] }, {}, key.secret);
    // Fixed one-minute windows: three requests that straddled a minute's end were counted in two.
    await withinOneMinute(10_000);
    const first = await send();
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    expect((await send()).status).toBe(200);
    const third = await send();
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await third.json()).error.code).toBe('RATE_LIMITED');
  });

  it.each([
    ['revoked', (id: string) => env.request('POST', `/functions/v1/api-keys/${id}/revoke`, { token: t.people.owner.jwt })],
    ['expired', (id: string) => env.db.query(`update public.api_keys set expires_at = now() - interval '1 second' where id = $1`, [id])],
    ['deleted', (id: string) => env.db.query('delete from public.api_keys where id = $1', [id])],
  ] as const)('a key %s while this process still holds it as verified writes nothing more (ADR 0004)', async (what, change) => {
    const newKey = async (name: string) =>
      (await env.request('POST', '/functions/v1/api-keys', { token: t.people.owner.jwt, body: { projectId: t.projectA, name, scopes: ['ingest'] } })).json();
    const [k, o] = [await newKey(`cached ${what}`), await newKey(`cached otlp ${what}`)];
    const ts = now() - 6000;
    const batch = (n: number) => ({ logs: [{ timestamp: ts, message: `cached key ${what} ${n}`, service: 'k' }] });
    const otlp = (n: number) =>
      env.request('POST', `${URL_}/v1/logs`, {
        apiKey: o.secret,
        body: JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: String(ts * 1e6), body: { stringValue: `cached key ${what} otlp ${n}` } }] }] }] }),
        headers: { 'content-type': 'application/json' },
      });
    // Verified, and now held by this process.
    expect((await post(batch(1), {}, k.secret)).status).toBe(200);
    expect((await otlp(1)).status).toBe(200);
    await change(k.apiKey.id);
    await change(o.apiKey.id);
    const usage = await count('public.ingest_usage');
    // Native and OTLP: each key refused inside its write, before COMMIT, without the project's rate-limit figures.
    const message = what === 'deleted' ? 'Invalid API key' : `This API key has ${what === 'revoked' ? 'been revoked' : 'expired'}`;
    const res = await post(batch(2), {}, k.secret);
    expect(res.status).toBe(401);
    expect(res.headers.get('ratelimit-remaining')).toBeNull();
    expect((await res.json()).error.message).toBe(message);
    const refused = await otlp(2);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('ratelimit-remaining')).toBeNull();
    expect(await count(`public.logs where message like $1`, [`cached key ${what} %`])).toBe(2);
    expect(await count('public.ingest_usage')).toBe(usage);
    // Once refused, the key is looked up again: a body with no valid event gets the 401 too.
    expect((await post({ logs: [{ message: 'no timestamp' }] }, {}, k.secret)).status).toBe(401);
  });

  it('a key accepted from the cache is confirmed even when nothing is left to write', async () => {
    const k = await (await env.request('POST', '/functions/v1/api-keys', { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'cached invalid', scopes: ['ingest'] } })).json();
    expect((await post({ logs: [{ timestamp: now(), message: 'warm', service: 'k' }] }, {}, k.secret)).status).toBe(200);
    await env.request('POST', `/functions/v1/api-keys/${k.apiKey.id}/revoke`, { token: t.people.owner.jwt });
    // A body that cannot be read is refused before any key check; the process's cache still knew the key.
    expect((await post('{"logs": [', {}, k.secret)).status).toBe(400);
    // No valid event: no transaction, but the key is confirmed all the same.
    const res = await post({ logs: [{ message: 'no timestamp' }] }, {}, k.secret);
    expect(res.status).toBe(401);
    expect((await res.json()).error.message).toBe('This API key has been revoked');
  });

  it.each([
    ['no credentials', {}, 401],
    ['a user JWT', { token: 'owner' }, 403],
    ['a key without the ingest scope', { apiKey: 'read' }, 403],
    ['a revoked key', { apiKey: 'revoked' }, 401],
  ] as const)('%s is refused, nothing stored', async (_, who, status) => {
    const before = await count('public.ingest_usage');
    const opts: { token?: string; apiKey?: string } = {};
    if ('token' in who) opts.token = t.people.owner.jwt;
    if ('apiKey' in who) {
      const k = await (await env.request('POST', '/functions/v1/api-keys', { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'k', scopes: ['read'] } })).json();
      if (who.apiKey === 'revoked') await env.request('POST', `/functions/v1/api-keys/${k.apiKey.id}/revoke`, { token: t.people.owner.jwt });
      opts.apiKey = k.secret;
    }
    const res = await env.request('POST', URL_, { ...opts, body: { metrics: [{ name: 'x', value: 1, timestamp: now() }] } });
    expect(res.status).toBe(status);
    expect(await count('public.ingest_usage')).toBe(before);
  });
});

function nest(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < depth; i++) v = { n: v };
  return v;
}
