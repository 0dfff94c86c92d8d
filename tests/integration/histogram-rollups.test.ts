/**
 * Histogram points in rollups: delta histograms add their buckets, cumulative ones (OTLP's default)
 * add the difference from the previous point (the first point adds nothing, a drop is a reset), and
 * percentiles come from the same sketches as plain points.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/jobs/run-job.ts';
import { aggregateMetrics } from '../../src/metrics/aggregate-metrics.ts';
import { type Sketch, sketchFromStored, sketchQuantile } from '../../src/metrics/sketch.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const M = (n: number) => Math.floor((NOW - 3_600_000) / 60_000) * 60_000 + n * 60_000;

describe('histogram rollups', () => {
  let env: TestEnv;
  let t: Tenant;
  const minute = async (name: string, at: number) =>
    (
      await env.db.query<{ count: string; sum: number; min: number; max: number; sketch: string[][] }>(
        `select r.count, r.sum, r.min, r.max, r.sketch from public.metric_rollups r join public.metric_series s on s.id = r.series_id
         where s.name = $1 and r.resolution = '1m' and r.bucket = $2`,
        [name, new Date(at)],
      )
    ).map((row) => ({ ...row, sketch: sketchFromStored(row.sketch) as Sketch }));
  const run = async () => {
    await env.deps.settle();
    return runJob(env.deps, aggregateMetrics, { budgetMs: 60_000 });
  };

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: new Date(NOW).toISOString() });
    t = await createTenant(env);
  });
  afterAll(async () => env?.close());

  it('delta histograms add their buckets', async () => {
    const res = await env.request('POST', '/functions/v1/ingest', {
      apiKey: t.keyA.secret,
      body: {
        metrics: [
          { name: 'rpc.duration', type: 'histogram', timestamp: M(1), histogram: { count: 4, sum: 230, min: 4, max: 150, bounds: [10, 100], counts: [1, 2, 1] } },
          { name: 'rpc.duration', type: 'histogram', timestamp: M(1) + 10_000, histogram: { count: 1, sum: 50, min: 50, max: 50, bounds: [10, 100], counts: [0, 1, 0] } },
        ],
      },
    });
    expect((await res.json()).accepted).toBe(2);
    await run();
    const [row] = await minute('rpc.duration', M(1));
    expect(Number(row!.count)).toBe(5);
    expect(row!.sum).toBe(280);
    expect(row!.min).toBe(4);
    expect(row!.max).toBe(150);
    // Three of five observations are in (10, 100]: the median is that bucket's middle.
    expect(sketchQuantile(row!.sketch, 0.5)).toBeCloseTo(55, -0.5);
    const hour = await env.db.query<{ count: string }>(
      `select r.count from public.metric_rollups r join public.metric_series s on s.id = r.series_id where s.name = 'rpc.duration' and r.resolution = '1h'`,
    );
    expect(Number(hour[0]!.count)).toBe(5);
  });

  it('cumulative OTLP histograms add the difference between points; the first adds nothing', async () => {
    const point = (ms: number, count: number, sum: number, counts: number[]) => ({
      timeUnixNano: String(ms * 1e6),
      count: String(count),
      sum,
      bucketCounts: counts.map(String),
      explicitBounds: [10, 100],
    });
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'http.server.duration',
                  unit: 'ms',
                  histogram: { aggregationTemporality: 2, dataPoints: [point(M(2), 2, 60, [1, 1, 0]), point(M(3), 6, 460, [3, 2, 1]), point(M(4), 1, 5, [1, 0, 0])] },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await env.request('POST', '/functions/v1/ingest/v1/metrics', { apiKey: t.keyA.secret, body });
    expect(res.status).toBe(200);
    await run();
    expect(await minute('http.server.duration', M(2))).toHaveLength(0);
    const [third] = await minute('http.server.duration', M(3));
    expect(Number(third!.count)).toBe(4);
    expect(third!.sum).toBe(400);
    // The count went down: a reset, the point counts as it is.
    const [fourth] = await minute('http.server.duration', M(4));
    expect(Number(fourth!.count)).toBe(1);
  });
});
