/**
 * Metric totals per tag value (migration ..2400): which tags are kept, and that a panel filtered or
 * grouped by one kept tag, answered from them, draws the same line as from the series' rollups; a
 * range whose group rows are incomplete is read from the series.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/jobs/run-job.ts';
import { aggregateMetrics } from '../../src/metrics/aggregate-metrics.ts';
import { addToSketch, type Sketch, sketchLiteral, sketchQuantile } from '../../src/metrics/sketch.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { normal, rng } from '../helpers/random.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;
const START = NOW - 3 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * 20 series of `queue` (and of the counter `jobs`): 16 with a region (eu, us) and a host (h1..h8),
 * 4 with a host only (h9..h12). Region has 2 values for 20 series: kept (and the 4 series without it
 * form the null group). Host has 12 values: fewer than 4 series per value, not kept.
 */
const TAGS: Array<Record<string, string>> = [
  ...Array.from({ length: 16 }, (_, i) => ({ region: i % 2 ? 'us' : 'eu', host: `h${1 + (i >> 1)}` })),
  ...Array.from({ length: 4 }, (_, i) => ({ host: `h${9 + i}` })),
];
/** Forces the series' rollups: a second tag every series passes (a missing tag passes not_in). */
const SERIES_PATH = { key: 'absent', op: 'not_in', values: ['-'] };

describe('metric totals per tag value', () => {
  let env: TestEnv;
  let t: Tenant;

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: iso(NOW) });
    t = await createTenant(env);
    const r = rng(23);
    const metrics: unknown[] = [];
    TAGS.forEach((tags, k) => {
      let total = 0;
      for (let ts = START + k * 1_000; ts < NOW; ts += 60_000) {
        metrics.push({ name: 'queue', value: Math.exp(2 + (k % 3) + 0.8 * normal(r)), timestamp: ts, tags });
        total += Math.floor(r() * 10);
        metrics.push({ name: 'jobs', type: 'counter', value: total, timestamp: ts, tags });
      }
    });
    for (let i = 0; i < metrics.length; i += 5000) {
      const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { metrics: metrics.slice(i, i + 5000) } });
      expect((await res.json()).rejected).toBe(0);
    }
    await env.deps.settle();
    expect((await runJob(env.deps, aggregateMetrics, { budgetMs: 120_000 })).outcome).toBe('ok');
  }, 120_000);
  afterAll(async () => env?.close());

  const query = async (q: Record<string, unknown>) => {
    const res = await env.request('POST', '/functions/v1/metrics/query', {
      token: t.people.viewer.jwt,
      body: { projectId: t.projectA, queries: [{ metric: 'queue', from: iso(START - HOUR), to: iso(NOW), ...q }] },
    });
    expect(res.status).toBe(200);
    return (await res.json()).results[0] as { resolution: string; series: Array<{ tags: Record<string, string>; points: Array<[number, number | null]> }> };
  };

  /** The same panel from the totals and from the series' rollups: the same groups, the same points. */
  const expectSameAsSeries = async (q: { filters?: unknown[]; [k: string]: unknown }) => {
    const [totals, series] = await Promise.all([query(q), query({ ...q, filters: [...(q.filters ?? []), SERIES_PATH] })]);
    expect(totals.series.map((s) => s.tags)).toEqual(series.series.map((s) => s.tags));
    expect(totals.series.some((s) => s.points.some(([, v]) => v !== null))).toBe(true);
    totals.series.forEach((s, i) =>
      s.points.forEach(([ts, v], j) => {
        const [ts2, want] = series.series[i]!.points[j]!;
        expect(ts).toBe(ts2);
        if (v === null || want === null) expect(v, `${JSON.stringify(s.tags)} ${ts}`).toBe(want);
        else expect(v, `${JSON.stringify(s.tags)} ${ts}`).toBeCloseTo(want, 6);
      }),
    );
    return totals;
  };

  it('keeps totals for a tag with few values (with a null group for series without it), not for one with a value per few series', async () => {
    const rows = await env.db.query<{ resolution: string; tag_key: string; tag_value: string | null; n: string; count: string }>(
      `select resolution, '' as tag_key, null as tag_value, count(*) as n, sum(count) as count from public.metric_totals where name = 'queue' group by 1
       union all
       select resolution, tag_key, tag_value, count(*) as n, sum(count) as count from public.metric_group_totals where name = 'queue' group by 1, 2, 3
       order by 1, 2, 3`,
    );
    for (const resolution of ['5m', '1h', '1d']) {
      const of = rows.filter((row) => row.resolution === resolution);
      expect(of.map((row) => [row.tag_key, row.tag_value]), resolution).toEqual([['', null], ['region', 'eu'], ['region', 'us'], ['region', null]]);
      // The region groups partition the metric's points.
      const whole = Number(of[0]!.count);
      expect(of.slice(1).reduce((a, row) => a + Number(row.count), 0)).toBe(whole);
    }
    expect(Number(rows.find((row) => row.resolution === '5m' && row.tag_value === null && row.tag_key === 'region')!.count)).toBe(4 * 180);
  });

  it.each([
    // [case, query]
    ['group by region, avg @5m', { groupBy: ['region'], aggregation: 'avg', step: 300 }],
    ['group by region, p95 @1h', { groupBy: ['region'], aggregation: 'p95', step: 3600 }],
    ['group by region, p50 @10m', { groupBy: ['region'], aggregation: 'p50', step: 600 }],
    ['group by region, count @1d', { groupBy: ['region'], aggregation: 'count', step: 86400 }],
    ['region = eu, max @5m', { filters: [{ key: 'region', op: '=', value: 'eu' }], aggregation: 'max', step: 300 }],
    ['region != eu (series without region pass), min @5m', { filters: [{ key: 'region', op: '!=', value: 'eu' }], aggregation: 'min', step: 300 }],
    ['region in (us), p99 @1h', { filters: [{ key: 'region', op: 'in', values: ['us'] }], aggregation: 'p99', step: 3600 }],
    ['region not in (us), sum @5m', { filters: [{ key: 'region', op: 'not_in', values: ['us'] }], aggregation: 'sum', step: 300 }],
    ['region ~ ^e, avg @1h', { filters: [{ key: 'region', op: 'regex', value: '^e' }], aggregation: 'avg', step: 3600 }],
    ['region != us, grouped by region, p90 @5m', { filters: [{ key: 'region', op: '!=', value: 'us' }], groupBy: ['region'], aggregation: 'p90', step: 300 }],
    ['jobs rate by region @5m', { metric: 'jobs', groupBy: ['region'], aggregation: 'rate', step: 300 }],
    ['jobs rate where region = us @1h', { metric: 'jobs', filters: [{ key: 'region', op: '=', value: 'us' }], aggregation: 'rate', step: 3600 }],
  ])('%s: the totals per region answer as the series do', async (_, q) => {
    await expectSameAsSeries(q);
  });

  it('panels on one kept tag are read from its totals', async () => {
    // Proof by tampering: a group row's sum changed shows in the answer (restored afterwards).
    const [row] = await env.db.query<{ bucket: Date; sum: number; count: string }>(
      `select bucket, sum, count from public.metric_group_totals where name = 'queue' and resolution = '5m' and tag_key = 'region' and tag_value = 'eu' order by bucket limit 1`,
    );
    const set = (sum: number) =>
      env.db.query(`update public.metric_group_totals set sum = $1 where name = 'queue' and resolution = '5m' and tag_key = 'region' and tag_value = 'eu' and bucket = $2`, [sum, row!.bucket]);
    await set(1e9);
    try {
      const result = await query({ groupBy: ['region'], aggregation: 'sum', step: 300 });
      const eu = result.series.find((s) => s.tags.region === 'eu')!;
      expect(eu.points.find(([ts]) => ts === row!.bucket.getTime())![1]).toBe(1e9);
    } finally {
      await set(row!.sum);
    }
  });

  it('stored quantiles equal the gateway reading the same sketch (negative, zero, positive, empty, one bucket)', async () => {
    const r = rng(31);
    const sketches: Sketch[] = [{}, addToSketch({}, 42), addToSketch(addToSketch({}, 0, 3), -7), addToSketch(addToSketch({}, -1e-12, 2), 1e-12)];
    for (let k = 0; k < 40; k++) {
      const sketch: Sketch = {};
      for (let i = 0; i < 1 + Math.floor(r() * 60); i++) addToSketch(sketch, (r() < 0.2 ? -1 : 1) * Math.exp(10 * normal(r)), 1 + Math.floor(r() * 4));
      sketches.push(sketch);
    }
    for (const [k, sketch] of sketches.entries()) {
      await env.db.query(
        `insert into public.metric_totals (project_id, name, resolution, bucket, count, sum, min, max, sketch) values ($1, 'quantiles.check', '1d', $2, 1, 0, 0, 0, $3::bigint[])`,
        [t.projectA, new Date(Date.UTC(2020, 0, 1 + k)), sketchLiteral(sketch)],
      );
    }
    const rows = await env.db.query<{ quantiles: Array<number | null> }>(`select quantiles from public.metric_totals where name = 'quantiles.check' order by bucket`);
    expect(rows).toHaveLength(sketches.length);
    rows.forEach((row, k) => {
      const want = [0.5, 0.9, 0.95, 0.99].map((q) => sketchQuantile(sketches[k]!, q));
      row.quantiles.forEach((v, j) => {
        if (want[j] === null) expect(v, `sketch ${k}`).toBeNull();
        else expect(v! / want[j]! - 1 || 0, `sketch ${k} q${j}: ${v} against ${want[j]}`).toBeCloseTo(0, 12);
      });
    });
  });

  it('a range where the group rows do not add up to the whole metric is read from the series', async () => {
    // Remove one bucket's group row, as if that bucket was rolled up before region was kept.
    const [gone] = await env.db.query<Record<string, unknown>>(
      `delete from public.metric_group_totals where name = 'queue' and resolution = '5m' and tag_key = 'region' and tag_value = 'us'
         and bucket = (select max(bucket) from public.metric_totals where name = 'queue' and resolution = '5m')
       returning *`,
    );
    expect(gone).toBeDefined();
    const result = await expectSameAsSeries({ groupBy: ['region'], aggregation: 'avg', step: 300 });
    const us = result.series.find((s) => s.tags.region === 'us')!;
    expect(us.points.find(([ts]) => ts === (gone!.bucket as Date).getTime())![1]).not.toBeNull();
    // Rolling the bucket up again restores it.
    await env.db.query(`select private.rollup_metric_totals($1, null, '5m', interval '5 minutes', $2, $3)`, [
      t.projectA,
      gone!.bucket,
      new Date((gone!.bucket as Date).getTime() + 300_000),
    ]);
    const [back] = await env.db.query(`select count from public.metric_group_totals where name = 'queue' and resolution = '5m' and tag_key = 'region' and tag_value = 'us' and bucket = $1`, [gone!.bucket]);
    expect(back).toEqual({ count: gone!.count });
  });
});
