/**
 * The metrics query API over rollups: answers equal the same aggregates over raw points, the
 * resolution follows the step, every tag-filter operator, group by, rate, several queries at once,
 * autocomplete, RLS, and bad queries answered with a 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/jobs/run-job.ts';
import { aggregateMetrics } from '../../src/metrics/aggregate-metrics.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;
const START = NOW - 3 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

interface P {
  name: string;
  value: number;
  timestamp: number;
  tags: Record<string, string>;
  type?: string;
}

describe('metrics query API', () => {
  let env: TestEnv;
  let t: Tenant;
  let readKey: string;
  const raw: P[] = [];

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: iso(NOW) });
    t = await createTenant(env);
    let x = 1;
    for (let ts = START; ts < START + 3 * HOUR; ts += 30_000) {
      for (const host of ['h1', 'h2', 'h3']) {
        for (const region of ['eu', 'us']) {
          x = (x * 1103515245 + 12345) % 2147483648;
          raw.push({ name: 'latency', value: 5 + (x % 1000) / 10, timestamp: ts, tags: { host, region } });
        }
      }
      raw.push({ name: 'requests', type: 'counter', value: Math.floor((ts - START) / 1000), timestamp: ts, tags: { host: 'h1' } });
    }
    for (let i = 0; i < raw.length; i += 5000) {
      const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { metrics: raw.slice(i, i + 5000) } });
      expect((await res.json()).rejected).toBe(0);
    }
    // Rollups wait for every older transaction to finish (the key's deferred last-use update too).
    await env.deps.settle();
    expect((await runJob(env.deps, aggregateMetrics, { budgetMs: 120_000 })).outcome).toBe('ok');
    const k = await (await env.request('POST', '/functions/v1/api-keys', { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'read', scopes: ['read'] } })).json();
    readKey = k.secret;
  }, 120_000);
  afterAll(async () => env?.close());

  const query = async (q: Record<string, unknown>, auth: { token?: string; apiKey?: string } = {}) => {
    const res = await env.request('POST', '/functions/v1/metrics/query', {
      ...(auth.token || auth.apiKey ? auth : { token: t.people.viewer.jwt }),
      body: { projectId: t.projectA, queries: [{ metric: 'latency', from: iso(START), to: iso(START + 3 * HOUR), ...q }] },
    });
    return { status: res.status, body: await res.json() };
  };

  it('hourly answers equal the aggregates over raw points', async () => {
    const { status, body } = await query({ step: 3600, aggregation: "avg", filters: [{ key: 'host', op: '=', value: 'h1' }, { key: 'region', op: '=', value: 'eu' }] });
    expect(status).toBe(200);
    const result = body.results[0];
    expect(result).toMatchObject({ resolution: '1h', step: 3600, truncated: false });
    expect(result.series).toHaveLength(1);
    const points = result.series[0].points as Array<[number, number]>;
    expect(points).toHaveLength(3);
    for (const [ts, value] of points) {
      const inside = raw.filter((p) => p.name === 'latency' && p.tags.host === 'h1' && p.tags.region === 'eu' && p.timestamp >= ts && p.timestamp < ts + HOUR).map((p) => p.value);
      expect(value).toBeCloseTo(inside.reduce((a, v) => a + v, 0) / inside.length, 9);
    }
    for (const [agg, fn] of [
      ['max', (v: number[]) => Math.max(...v)],
      ['min', (v: number[]) => Math.min(...v)],
      ['count', (v: number[]) => v.length],
      ['sum', (v: number[]) => v.reduce((a, b) => a + b, 0)],
    ] as const) {
      const r = await query({ step: 3600, aggregation: agg });
      const [ts, value] = r.body.results[0].series[0].points[1];
      const inside = raw.filter((p) => p.name === 'latency' && p.timestamp >= ts && p.timestamp < ts + HOUR).map((p) => p.value);
      expect(value, agg).toBeCloseTo(fn(inside), 6);
    }
    const p99 = await query({ step: 3600, aggregation: 'p99' });
    const [ts, value] = p99.body.results[0].series[0].points[0];
    const sorted = raw.filter((p) => p.name === 'latency' && p.timestamp >= ts && p.timestamp < ts + HOUR).map((p) => p.value).sort((a, b) => a - b);
    const exact = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
    expect(Math.abs(value - exact) / exact).toBeLessThanOrEqual(0.01);
  });

  it.each([
    // [case, query part, expected resolution, expected step]
    ['1-minute step', { step: 60 }, '1m', 60],
    ['5-minute step', { step: 300 }, '5m', 300],
    ['10-minute step merges 5m buckets', { step: 600 }, '5m', 600],
    ['no step, 100 points', { maxPoints: 100 }, '1m', 120],
    ['no step, 3 points', { maxPoints: 3 }, '1h', 3600],
  ])('%s', async (_, part, resolution, step) => {
    const { body } = await query(part);
    expect(body.results[0]).toMatchObject({ resolution, step });
    expect(body.results[0].series[0].points.length).toBeLessThanOrEqual((part as { maxPoints?: number }).maxPoints ?? 11_000);
  });

  it.each([
    ['=', [{ key: 'host', op: '=', value: 'h2' }], ['h2']],
    ['!=', [{ key: 'host', op: '!=', value: 'h2' }], ['h1', 'h3']],
    ['in', [{ key: 'host', op: 'in', values: ['h1', 'h3'] }], ['h1', 'h3']],
    ['not_in', [{ key: 'host', op: 'not_in', values: ['h1', 'h3'] }], ['h2']],
    ['regex', [{ key: 'host', op: 'regex', value: '^h[12]$' }], ['h1', 'h2']],
  ])('filter %s', async (_, filters, hosts) => {
    const { body } = await query({ step: 3600, filters, groupBy: ['host'] });
    expect(body.results[0].series.map((s: { tags: { host: string } }) => s.tags.host).sort()).toEqual(hosts);
  });

  it('a day at one-minute steps grouped by region answers as the raw points do, minute by minute', async () => {
    const from = START + 3 * HOUR - 24 * HOUR;
    const minute = (ts: number, region: string) =>
      raw.filter((p) => p.name === 'latency' && p.tags.region === region && p.timestamp >= ts && p.timestamp < ts + 60_000).map((p) => p.value);
    const check: Array<[string, (v: number[]) => number]> = [
      ['avg', (v) => v.reduce((a, b) => a + b, 0) / v.length],
      ['sum', (v) => v.reduce((a, b) => a + b, 0)],
      ['count', (v) => v.length],
      ['min', (v) => Math.min(...v)],
      ['max', (v) => Math.max(...v)],
    ];
    for (const [aggregation, fn] of check) {
      const { status, body } = await query({ from: iso(from), step: 60, groupBy: ['region'], aggregation });
      expect(status).toBe(200);
      const series = body.results[0].series as Array<{ tags: { region: string }; points: Array<[number, number | null]> }>;
      expect(series.map((x) => x.tags.region)).toEqual(['eu', 'us']);
      let compared = 0;
      for (const { tags, points } of series) {
        expect(points).toHaveLength(1440);
        for (const [ts, value] of points) {
          const inside = minute(ts, tags.region);
          if (inside.length === 0) expect(value).toBeNull();
          else {
            expect(value, `${aggregation} ${tags.region} ${ts}`).toBeCloseTo(fn(inside), 6);
            compared += 1;
          }
        }
      }
      expect(compared).toBe(2 * 180);
    }
    const { body } = await query({ from: iso(from), step: 60, groupBy: ['region'], aggregation: 'p90' });
    for (const { tags, points } of body.results[0].series as Array<{ tags: { region: string }; points: Array<[number, number | null]> }>) {
      for (const [ts, value] of points) {
        const sorted = minute(ts, tags.region).sort((a, b) => a - b);
        if (sorted.length === 0) continue;
        const exact = sorted[Math.ceil(0.9 * sorted.length) - 1]!;
        expect(Math.abs(value! - exact) / exact).toBeLessThanOrEqual(0.01);
      }
    }
  });

  // Without filters or group-by a panel reads the metric totals; with filters on two tags that every
  // series passes it reads the series rollups. Both must draw the same line.
  it.each([
    ['latency', 'avg', 60], ['latency', 'p50', 300], ['latency', 'p99', 3600], ['latency', 'max', 600],
    ['latency', 'count', 86400], ['latency', 'sum', 300], ['latency', 'min', 60], ['latency', 'p90', 1800],
    ['requests', 'rate', 600], ['requests', 'sum', 3600],
  ])('%s %s at step %i: the metric totals answer as all its series merged', async (metric, aggregation, step) => {
    const everything = [{ key: 'host', op: 'regex', value: '.*' }, { key: 'absent', op: 'not_in', values: ['-'] }];
    const from = iso(START - (step === 86400 ? 86_400_000 : 0));
    const [totals, series] = await Promise.all([query({ metric, aggregation, step, from }), query({ metric, aggregation, step, from, filters: everything })]);
    expect(totals.status).toBe(200);
    const points = totals.body.results[0].series[0].points as Array<[number, number | null]>;
    expect(points.filter(([, v]) => v !== null).length).toBeGreaterThan(0);
    const expected = series.body.results[0].series[0].points as Array<[number, number | null]>;
    expect(points.map(([t]) => t)).toEqual(expected.map(([t]) => t));
    points.forEach(([t, v], i) => {
      if (v === null) expect(expected[i]![1], String(t)).toBeNull();
      else expect(v, String(t)).toBeCloseTo(expected[i]![1]!, 6);
    });
  });

  it('groups by several tags and answers several queries in one request', async () => {
    const res = await env.request('POST', '/functions/v1/metrics/query', {
      token: t.people.viewer.jwt,
      body: {
        projectId: t.projectA,
        queries: [
          { id: 'by-both', metric: 'latency', groupBy: ['host', 'region'], from: iso(START), to: iso(START + HOUR), step: 300 },
          { id: 'rate', metric: 'requests', aggregation: 'rate', from: iso(START + HOUR), to: iso(START + 2 * HOUR), step: 600 },
        ],
      },
    });
    const { results } = await res.json();
    expect(results[0].id).toBe('by-both');
    expect(results[0].series).toHaveLength(6);
    // The counter grows by 1 per second: rate 1/s everywhere.
    for (const [, v] of results[1].series[0].points) expect(v).toBeCloseTo(1, 9);
  });

  it('autocompletes names, tag keys and values', async () => {
    const names = await (await env.request('GET', `/functions/v1/metrics/names?projectId=${t.projectA}&prefix=lat`, { token: t.people.member.jwt })).json();
    expect(names.metrics).toEqual([expect.objectContaining({ name: 'latency', types: ['gauge'], series: 6 })]);
    const tags = await (await env.request('GET', `/functions/v1/metrics/tags?projectId=${t.projectA}&metric=latency`, { apiKey: readKey })).json();
    expect(tags.tags).toEqual([{ key: 'host', values: 3 }, { key: 'region', values: 2 }]);
    const values = await (await env.request('GET', `/functions/v1/metrics/tags/values?metric=latency&key=host&prefix=h`, { apiKey: readKey })).json();
    expect(values.values).toEqual(['h1', 'h2', 'h3']);
  });

  it('shows cardinality: totals against the limit, active series, top metrics and tag keys', async () => {
    const res = await env.request('GET', `/functions/v1/metrics/cardinality?projectId=${t.projectA}`, { token: t.people.viewer.jwt });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ limit: 10_000, totalSeries: 7, activeSeries: 7, rejections: [] });
    expect(body.topMetrics[0]).toEqual({ name: 'latency', series: 6 });
    expect(body.topTagKeys).toEqual([
      { key: 'host', values: 3, series: 7 },
      { key: 'region', values: 2, series: 6 },
    ]);
  });

  it('owners and admins change the series limit (audited); others cannot', async () => {
    const put = (token: string, body: unknown) => env.request('PUT', '/functions/v1/metrics/limits', { token, body });
    const ok = await put(t.people.admin.jwt, { projectId: t.projectA, maxSeries: 5000 });
    expect(ok.status).toBe(200);
    expect((await ok.json()).limits).toMatchObject({ maxSeries: 5000, requestsPerMinute: 6000 });
    const card = await (await env.request('GET', `/functions/v1/metrics/cardinality?projectId=${t.projectA}`, { token: t.people.owner.jwt })).json();
    expect(card.limit).toBe(5000);
    const [audit] = await env.db.query<{ action: string; details: { max_series: number } }>(
      `select action, details from public.audit_log where action = 'project.ingest_limits_changed' order by id desc limit 1`,
    );
    expect(audit!.details.max_series).toBe(5000);
    expect((await put(t.people.viewer.jwt, { projectId: t.projectA, maxSeries: 1 })).status).toBe(403);
    expect((await put(t.people.member.jwt, { projectId: t.projectA, maxSeries: 1 })).status).toBe(403);
    expect((await put(t.people.outsider.jwt, { projectId: t.projectA, maxSeries: 1 })).status).toBe(404);
    expect((await put(t.people.owner.jwt, { projectId: t.projectA })).status).toBe(400);
    expect((await put(t.people.owner.jwt, { projectId: t.projectA, maxSeries: -1 })).status).toBe(400);
    const [row] = await env.db.query<{ max_series: number }>('select max_series from public.project_ingest_settings where project_id = $1', [t.projectA]);
    expect(row!.max_series).toBe(5000);
  });

  it('metrics register their definition on first ingest; owners and admins edit it; queries use its default aggregation', async () => {
    const list = await (await env.request('GET', `/functions/v1/metrics/definitions?organizationId=${t.orgId}`, { token: t.people.viewer.jwt })).json();
    expect(list.definitions.map((d: { name: string }) => d.name)).toEqual(expect.arrayContaining(['latency', 'requests']));
    expect(list.definitions.find((d: { name: string }) => d.name === 'requests')).toMatchObject({ type: 'counter', autoRegistered: true, defaultAggregation: 'avg' });
    const put = await env.request('PUT', '/functions/v1/metrics/definitions/latency', {
      token: t.people.admin.jwt,
      body: { organizationId: t.orgId, unit: 'ms', description: 'Request latency', defaultAggregation: 'max' },
    });
    expect(put.status).toBe(200);
    expect((await put.json()).definition).toMatchObject({ name: 'latency', unit: 'ms', defaultAggregation: 'max', autoRegistered: false });
    expect((await env.request('PUT', '/functions/v1/metrics/definitions/latency', { token: t.people.viewer.jwt, body: { organizationId: t.orgId, unit: 's' } })).status).toBe(403);
    expect((await env.request('PUT', '/functions/v1/metrics/definitions/latency', { token: t.people.outsider.jwt, body: { organizationId: t.orgId, unit: 's' } })).status).toBe(404);
    expect((await env.request('PUT', '/functions/v1/metrics/definitions/latency', { token: t.people.admin.jwt, body: { organizationId: t.orgId, defaultAggregation: 'mode' } })).status).toBe(400);
    const names = await (await env.request('GET', `/functions/v1/metrics/names?projectId=${t.projectA}&prefix=lat`, { token: t.people.member.jwt })).json();
    expect(names.metrics[0]).toMatchObject({ name: 'latency', unit: 'ms', description: 'Request latency', defaultAggregation: 'max' });
    // Without an aggregation the definition's default (max) applies.
    const implicit = await query({ step: 3600 });
    const explicit = await query({ step: 3600, aggregation: 'max' });
    expect(implicit.body.results[0].series).toEqual(explicit.body.results[0].series);
  });

  it('RLS: other organizations and unassigned members see nothing; keys need the read scope', async () => {
    expect((await query({}, { token: t.people.outsider.jwt })).status).toBe(404);
    expect((await query({}, { token: t.people.unassigned.jwt })).status).toBe(404);
    // With an aggregation the panels start before the project check, and still answer 404, before
    // a panel's own error (an invalid regular expression) could show.
    expect((await query({ aggregation: 'p99', step: 300 }, { token: t.people.outsider.jwt })).status).toBe(404);
    expect((await query({ aggregation: 'avg', filters: [{ key: 'host', op: 'regex', value: '(' }] }, { token: t.people.outsider.jwt })).status).toBe(404);
    expect((await query({}, { apiKey: readKey })).status).toBe(200);
    const ingestOnly = await (await env.request('POST', '/functions/v1/api-keys', { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'i', scopes: ['ingest'] } })).json();
    expect((await query({}, { apiKey: ingestOnly.secret })).status).toBe(403);
    // A read key of another project cannot name ours.
    const res = await env.request('POST', '/functions/v1/metrics/query', {
      apiKey: readKey,
      body: { projectId: t.other.projectId, queries: [{ metric: 'latency', from: iso(START), to: iso(NOW) }] },
    });
    expect(res.status).toBe(404);
  });

  it.each([
    ['an unknown aggregation', { aggregation: 'median' }, 'body.queries.0.aggregation'],
    ['an inverted range', { from: iso(START + HOUR), to: iso(START) }, 'body.queries.0.to'],
    ['too many points', { step: 60, from: iso(START - 20 * 86_400_000) }, 'queries.0.step'],
    ['a step below a minute', { step: 10 }, 'body.queries.0.step'],
    ['a step that is not whole minutes', { step: 90 }, 'queries.0.step'],
    ['an unknown filter op', { filters: [{ key: 'host', op: '~', value: 'x' }] }, 'body.queries.0.filters.0.op'],
    ['a bad timestamp', { from: 'yesterday' }, 'body.queries.0.from'],
  ])('%s is a 400 naming the field', async (_, part, field) => {
    const { status, body } = await query(part);
    expect(status).toBe(400);
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it.each([
    // [case, step in seconds, the output bucket holding the data: date_bin's, from 2000-01-01]
    ['2-day step', 172_800, '2026-06-01T00:00:00.000Z'],
    ['1-week step', 604_800, '2026-05-30T00:00:00.000Z'],
  ])('a %s that does not divide the days since the epoch still lands on the rollup buckets', async (_, step, bucket) => {
    const { status, body } = await query({ step, aggregation: 'count' });
    expect(status).toBe(200);
    expect(body.results[0]).toMatchObject({ resolution: '1d', step });
    expect(body.results[0].series[0].points).toEqual([[Date.parse(bucket), raw.filter((p) => p.name === 'latency').length]]);
  });

  it('an invalid regular expression is a 400', async () => {
    const { status, body } = await query({ filters: [{ key: 'host', op: 'regex', value: '(' }] });
    expect(status).toBe(400);
    expect(body.error.code).toBe('VALIDATION_FAILED');
  });
});
