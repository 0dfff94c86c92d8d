/**
 * The rollup job against points sent through ingest: every resolution equals the same aggregate over
 * the raw points, quantiles stay within 1% at every resolution, the metric totals equal the same over
 * every series of the metric, running twice changes nothing, a late point re-aggregates the buckets
 * it touches, counters handle resets, and a transaction still open when the job runs is not skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/jobs/run-job.ts';
import { aggregateMetrics } from '../../src/metrics/aggregate-metrics.ts';
import { RESOLUTIONS, TOTALS_RESOLUTIONS } from '../../src/metrics/resolutions.ts';
import { type Sketch, sketchFromStored, sketchQuantile } from '../../src/metrics/sketch.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';
import { rng } from '../helpers/random.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const START = NOW - 3 * 3_600_000; // three hours of data, ending 10 minutes before now


interface Point {
  name: string;
  value: number;
  timestamp: number;
  type?: string;
  temporality?: string;
  tags: Record<string, string>;
}

describe('aggregate-metrics', () => {
  let env: TestEnv;
  let t: Tenant;
  const points: Point[] = [];
  /** A second series of the same metric (route /b, bimodal): only the totals include it. */
  const others: Point[] = [];

  const send = async (batch: Point[]) => {
    for (let i = 0; i < batch.length; i += 5000) {
      const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { metrics: batch.slice(i, i + 5000) } });
      expect(res.status).toBe(200);
      expect((await res.json()).rejected).toBe(0);
    }
  };
  // Rollups wait for every older transaction to finish (the key's deferred last-use update too).
  const run = async () => {
    await env.deps.settle();
    return runJob(env.deps, aggregateMetrics, { budgetMs: 120_000 });
  };
  const rollups = async (resolution: string, name: string, tags: Record<string, string> = {}) =>
    (
      await env.db.query<{ bucket: Date; count: string; sum: number; min: number; max: number; last: number; increase: number | null; sketch: string[][] }>(
      `select r.bucket, r.count, r.sum, r.min, r.max, r.last, r.increase, r.sketch
       from public.metric_rollups r join public.metric_series s on s.id = r.series_id
       where r.resolution = $1 and s.name = $2 and s.tags = $3::text::jsonb order by r.bucket`,
      [resolution, name, JSON.stringify(tags)],
      )
    ).map((row) => ({ ...row, sketch: sketchFromStored(row.sketch) }));
  const totals = async (resolution: string, name: string) =>
    (
      await env.db.query<{ bucket: Date; count: string; sum: number; min: number; max: number; increase: number | null; sketch: string[][] }>(
        `select bucket, count, sum, min, max, increase, sketch from public.metric_totals where resolution = $1 and name = $2 order by bucket`,
        [resolution, name],
      )
    ).map((row) => ({ ...row, sketch: sketchFromStored(row.sketch) }));
  const A = { route: '/a' };

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: new Date(NOW).toISOString() });
    t = await createTenant(env);
    const r = rng(7);
    for (let ts = START; ts < NOW - 600_000; ts += 10_000) {
      const n = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      points.push({ name: 'latency', value: Math.exp(4 + n), timestamp: ts, tags: { route: '/a' } });
      // Bimodal: fast cache hits around 2, slow misses around 300.
      if (ts % 20_000 === 0) others.push({ name: 'latency', value: r() < 0.7 ? 2 + r() : 250 + 100 * r(), timestamp: ts + 5_000, tags: { route: '/b' } });
    }
    await send([...points, ...others]);
  }, 120_000);
  afterAll(async () => env?.close());

  /**
   * Every row (a rollup or totals row of one resolution) holds the count, sum, min, max and quantiles
   * (within 1%) of the raw points in its bucket, and the rows together hold every point once.
   * Returns each row with the values inside it, for further checks.
   */
  const expectAggregatesOf = <R extends { bucket: Date; count: string; sum: number; min: number; max: number; sketch: Sketch }>(
    rows: R[],
    raw: Point[],
    res: (typeof RESOLUTIONS)[number],
  ): Array<[R, number[]]> => {
    expect(rows.length, res.name).toBeGreaterThan(0);
    expect(rows.reduce((a, r2) => a + Number(r2.count), 0)).toBe(raw.length);
    return rows.map((row) => {
      const b = row.bucket.getTime();
      const inside = raw.filter((p) => p.timestamp >= b && p.timestamp < b + res.ms).map((p) => p.value);
      expect(Number(row.count)).toBe(inside.length);
      expect(row.sum).toBeCloseTo(inside.reduce((a, v) => a + v, 0), 6);
      expect(row.min).toBe(Math.min(...inside));
      expect(row.max).toBe(Math.max(...inside));
      const sorted = [...inside].sort((a, c) => a - c);
      for (const q of [0.5, 0.9, 0.95, 0.99]) {
        const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
        expect(Math.abs(sketchQuantile(row.sketch, q)! - exact) / exact, `${res.name} p${q * 100}`).toBeLessThanOrEqual(0.01);
      }
      return [row, inside];
    });
  };

  it('rolls every resolution up to the same aggregates as the raw points', async () => {
    const result = await run();
    expect(result.outcome).toBe('ok');
    for (const res of RESOLUTIONS) {
      for (const [row, inside] of expectAggregatesOf(await rollups(res.name, 'latency', A), points, res)) expect(row.last).toBe(inside[inside.length - 1]);
    }
  });

  it('metric totals merge every series of the metric, at every resolution they are kept at', async () => {
    expect(others.length).toBeGreaterThan(100);
    expect(await totals('1m', 'latency')).toEqual([]);
    for (const res of RESOLUTIONS.filter((r) => TOTALS_RESOLUTIONS.includes(r.name))) {
      for (const [row] of expectAggregatesOf(await totals(res.name, 'latency'), [...points, ...others], res)) expect(row.increase).toBeNull();
    }
  });

  it('running again changes nothing', async () => {
    const snapshot = async () => [
      await env.db.query('select resolution, series_id, bucket, count, sum, sketch from public.metric_rollups order by 1, 2, 3'),
      await env.db.query('select resolution, name, bucket, count, sum, min, max, increase, sketch from public.metric_totals order by 1, 2, 3'),
    ];
    const before = await snapshot();
    const again = await run();
    expect(again.summary).toMatchObject({ usageRows: 0 });
    expect(await snapshot()).toEqual(before);
  });

  it('a late point re-aggregates the buckets it falls in, at every resolution', async () => {
    const late = { name: 'latency', value: 123_456, timestamp: START + 90_000 + 1, tags: { route: '/a' } };
    await send([late]);
    points.push(late);
    await run();
    for (const res of RESOLUTIONS) {
      const rows = await rollups(res.name, 'latency', A);
      const b = Math.floor(late.timestamp / res.ms) * res.ms;
      const row = rows.find((r2) => r2.bucket.getTime() === b)!;
      expect(row.max, res.name).toBe(123_456);
      expect(Number(row.count)).toBe(points.filter((p) => p.timestamp >= b && p.timestamp < b + res.ms).length);
      if (!TOTALS_RESOLUTIONS.includes(res.name)) continue;
      const total = (await totals(res.name, 'latency')).find((r2) => r2.bucket.getTime() === b)!;
      expect(total.max, `totals ${res.name}`).toBe(123_456);
      expect(Number(total.count)).toBe([...points, ...others].filter((p) => p.timestamp >= b && p.timestamp < b + res.ms).length);
    }
  });

  it.each([
    // [case, temporality, values, expected increase]
    ['cumulative counter with a reset', 'cumulative', [10, 20, 5, 15], 25],
    ['cumulative counter without reset', 'cumulative', [100, 110, 130, 131], 31],
    ['delta counter', 'delta', [3, 4, 5, 6], 18],
  ])('%s', async (name, temporality, values, expected) => {
    const base = NOW - 1_800_000 - (Math.floor(NOW / 3_600_000) % 1) * 0;
    const minute = Math.floor(base / 60_000) * 60_000;
    const series = `counter.${temporality}.${values.join('-')}`;
    await send(values.map((v, i) => ({ name: series, type: 'counter', temporality, value: v, timestamp: minute + i * 10_000, tags: {} })));
    await run();
    const [row] = await rollups('1m', series);
    expect(row!.increase).toBe(expected);
    const [hour] = await rollups('1h', series);
    expect(hour!.increase).toBe(expected);
    const [total] = await totals('1h', series);
    expect(total!.increase).toBe(expected);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('aggregate-metrics with a transaction still open', () => {
  it('does not skip an ingest transaction that commits after later ones', async () => {
    const { default: postgres } = await import('postgres');
    const env = await createTestEnv({ fakeTime: new Date(NOW).toISOString() });
    const t = await createTenant(env);
    const run = async () => {
      await env.deps.settle();
      return runJob(env.deps, aggregateMetrics, { budgetMs: 60_000 });
    };
    const minute = (n: number) => Math.floor((NOW - 3_600_000) / 60_000) * 60_000 + n * 60_000;
    const rollupAt = async (ms: number) =>
      env.db.query(`select count from public.metric_rollups where resolution = '1m' and bucket = $1`, [new Date(ms)]);
    const send = (ms: number, v: number) =>
      env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { metrics: [{ name: 'slow.tx', value: v, timestamp: ms }] } });

    expect((await (await send(minute(1), 1)).json()).accepted).toBe(1);
    // A slow writer: its transaction takes an id now and commits later.
    const slow = postgres(env.databaseUrl!, { max: 1, onnotice: () => {} });
    const reserved = await slow.reserve();
    await reserved.unsafe('begin');
    const [series] = await env.db.query<{ id: string }>(`select id from public.metric_series where name = 'slow.tx'`);
    await reserved.unsafe(
      `insert into public.metric_points (project_id, series_id, time, value, event_key) values ($1, $2, $3, 2, 424242)`,
      [t.projectA, series!.id, new Date(minute(2))],
    );
    await reserved.unsafe(
      `insert into public.ingest_usage (project_id, organization_id, events, bytes, metric_min_time, metric_max_time) values ($1, $2, 1, 1, $3, $3)`,
      [t.projectA, t.orgId, new Date(minute(2))],
    );
    expect((await (await send(minute(3), 3)).json()).accepted).toBe(1);

    await run();
    expect(await rollupAt(minute(1))).toHaveLength(1);
    // Later than the open transaction: waits for it.
    expect(await rollupAt(minute(3))).toHaveLength(0);

    await reserved.unsafe('commit');
    reserved.release();
    await slow.end();
    await run();
    expect(await rollupAt(minute(2))).toHaveLength(1);
    expect(await rollupAt(minute(3))).toHaveLength(1);
    await env.close();
  });
});
