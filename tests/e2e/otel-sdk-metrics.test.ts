/**
 * Metrics from the OpenTelemetry JS SDK through its real OTLP/HTTP exporters (JSON:
 * exporter-metrics-otlp-http, protobuf: exporter-metrics-otlp-proto), pointed at the gateway over a
 * real socket exactly as a user configures it (`url`, `headers: { 'x-api-key' }`; the gateway and
 * recorder are tests/helpers/otel-gateway.ts). For each encoding: the export reports success, every
 * point is stored once with the right values (read back as superuser), and sending the very same
 * export again (what an exporter retry does) succeeds and stores nothing new, while data collected
 * later is still stored. Also delta temporality.
 */
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  type ExponentialHistogram,
  type Histogram,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestEnv } from '../helpers/env.ts';
import { type ExporterOptions, type OtelGateway, Recorder, startOtelGateway, SUCCESS, US, usOf } from '../helpers/otel-gateway.ts';
import type { Tenant } from '../helpers/tenant.ts';

const VARIANTS = [
  { encoding: 'json', requestType: 'application/json', metrics: (o: ExporterOptions) => new JsonMetricExporter(o) },
  { encoding: 'protobuf', requestType: 'application/x-protobuf', metrics: (o: ExporterOptions) => new ProtoMetricExporter(o) },
] as const;

describe('OpenTelemetry JS SDK -> OTLP/HTTP exporters -> gateway', () => {
  let gw: OtelGateway;
  let env: TestEnv;
  let t: Tenant;
  let diagnostics: string[];
  let exchanges: OtelGateway['exchanges'];
  let options: OtelGateway['options'];
  let expectCleanExchanges: OtelGateway['expectCleanExchanges'];
  let count: OtelGateway['count'];

  beforeAll(async () => {
    gw = await startOtelGateway();
    ({ env, t, diagnostics, exchanges, options, expectCleanExchanges, count } = gw);
  });
  afterAll(async () => gw?.close());

  beforeEach(() => {
    exchanges.length = 0;
    diagnostics.length = 0;
  });

  describe.each(VARIANTS)('over OTLP/HTTP $encoding', (v) => {
    it('metrics: counter, gauges, up-down counter, explicit and exponential histograms are stored once', async () => {
      const service = `checkout-metrics-${v.encoding}`;
      const resource = { 'service.name': service, 'service.version': '1.2.3', 'process.pid': 4242 };
      const baseTags = { 'service.name': service, 'service.version': '1.2.3', 'process.pid': '4242' };
      const otlp = v.metrics(options('metrics'));
      const rec = new Recorder<ResourceMetrics>(otlp);
      const exporter: PushMetricExporter = {
        export: (m, cb) => rec.export(m, cb),
        forceFlush: () => otlp.forceFlush(),
        shutdown: () => otlp.shutdown(),
        selectAggregationTemporality: (i) => otlp.selectAggregationTemporality(i),
        selectAggregation: (i) => otlp.selectAggregation(i),
      };
      const provider = new MeterProvider({
        resource: resourceFromAttributes(resource),
        readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
        views: [{ instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
      });
      try {
        const meter = provider.getMeter('checkout.meter', '1.0.0');
        const orders = meter.createCounter('orders.placed', { unit: '{order}' });
        orders.add(2, { region: 'eu', paid: true });
        orders.add(3, { region: 'eu', paid: true });
        orders.add(1, { region: 'us', paid: false });
        meter.createGauge('queue.depth').record(17, { queue: 'emails' });
        meter.createObservableGauge('memory.used', { unit: 'By' }).addCallback((r) => r.observe(1024.5, { pool: 'heap' }));
        const inflight = meter.createUpDownCounter('requests.inflight');
        inflight.add(5);
        inflight.add(-2);
        const latency = meter.createHistogram('http.latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100, 1000] } });
        for (const x of [5, 50, 50, 500, 5000]) latency.record(x, { route: '/pay' });
        const size = meter.createHistogram('payload.size', { unit: 'By' });
        for (const x of [1, 2, 4, 1000]) size.record(x);

        await provider.forceFlush();
        expect(rec.results).toEqual([SUCCESS]);
        expectCleanExchanges('metrics', v.requestType, 1);

        // What the SDK exported, to check times (each point's end time) and the exponential buckets.
        const [rm] = rec.batches;
        const metrics = rm!.scopeMetrics.flatMap((s) => s.metrics);
        const metric = (name: string) => metrics.find((m) => m.descriptor.name === name)!;
        const endOf = (name: string) => usOf(metric(name).dataPoints[0]!.endTime);

        const series = await env.db.query<{ name: string; type: string; unit: string | null; tags: Record<string, string>; value: number; us: string }>(
          `select s.name, s.type, s.unit, s.tags, p.value, ${US('p.time')} as us
           from public.metric_series s join public.metric_points p on p.series_id = s.id and p.project_id = s.project_id
           where s.project_id = $1 and s.tags->>'service.name' = $2 order by s.name, p.value`,
          [t.projectA, service],
        );
        expect(series).toEqual([
          { name: 'memory.used', type: 'gauge', unit: 'By', tags: { ...baseTags, pool: 'heap' }, value: 1024.5, us: endOf('memory.used') },
          { name: 'orders.placed', type: 'counter', unit: '{order}', tags: { ...baseTags, region: 'us', paid: 'false' }, value: 1, us: endOf('orders.placed') },
          { name: 'orders.placed', type: 'counter', unit: '{order}', tags: { ...baseTags, region: 'eu', paid: 'true' }, value: 5, us: endOf('orders.placed') },
          { name: 'queue.depth', type: 'gauge', unit: null, tags: { ...baseTags, queue: 'emails' }, value: 17, us: endOf('queue.depth') },
          // A non-monotonic sum (up-down counter) is a level, not a count: a gauge.
          { name: 'requests.inflight', type: 'gauge', unit: null, tags: baseTags, value: 3, us: endOf('requests.inflight') },
        ]);

        const exp = metric('payload.size');
        expect(exp.dataPointType).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);
        const expValue = exp.dataPoints[0]!.value as ExponentialHistogram;
        expect(expValue.positive.bucketCounts.reduce((a, b) => a + b, 0)).toBe(4);
        expect((metric('http.latency').dataPoints[0]!.value as Histogram).buckets.counts).toEqual([1, 2, 1, 1]);

        const hists = await env.db.query<{ name: string; type: string; unit: string; tags: Record<string, string>; count: number; sum: number; min: number; max: number; buckets: unknown; us: string }>(
          `select s.name, s.type, s.unit, s.tags, h.count, h.sum, h.min, h.max, h.buckets, ${US('h.time')} as us
           from public.metric_series s join public.metric_histogram_points h on h.series_id = s.id and h.project_id = s.project_id
           where s.project_id = $1 and s.tags->>'service.name' = $2 order by s.name`,
          [t.projectA, service],
        );
        expect(hists).toEqual([
          {
            name: 'http.latency',
            type: 'histogram',
            unit: 'ms',
            tags: { ...baseTags, route: '/pay' },
            count: 5,
            sum: 5605,
            min: 5,
            max: 5000,
            buckets: { kind: 'explicit', bounds: [10, 100, 1000], counts: [1, 2, 1, 1] },
            us: endOf('http.latency'),
          },
          {
            name: 'payload.size',
            type: 'histogram',
            unit: 'By',
            tags: baseTags,
            count: 4,
            sum: 1007,
            min: 1,
            max: 1000,
            buckets: {
              kind: 'exponential',
              scale: expValue.scale,
              zeroCount: expValue.zeroCount,
              zeroThreshold: 0,
              positive: { offset: expValue.positive.offset, counts: expValue.positive.bucketCounts },
              negative: { offset: expValue.negative.offset, counts: expValue.negative.bucketCounts },
            },
            us: endOf('payload.size'),
          },
        ]);

        // A retry of the same export: acknowledged, nothing stored twice.
        const where = `public.metric_series s join public.%T p on p.series_id = s.id where s.project_id = $1 and s.tags->>'service.name' = $2`;
        const counts = async () => ({
          series: await count(`public.metric_series where project_id = $1 and tags->>'service.name' = $2`, [t.projectA, service]),
          points: await count(where.replace('%T', 'metric_points'), [t.projectA, service]),
          histograms: await count(where.replace('%T', 'metric_histogram_points'), [t.projectA, service]),
        });
        expect(await counts()).toEqual({ series: 7, points: 5, histograms: 2 });
        expect(await rec.resend(rm!)).toEqual(SUCCESS);
        expect(await rec.resend(rm!)).toEqual(SUCCESS);
        expect(await counts()).toEqual({ series: 7, points: 5, histograms: 2 });
        expectCleanExchanges('metrics', v.requestType, 3);

        // The next collection is new data (cumulative: a later end time) and is stored.
        orders.add(3, { region: 'eu', paid: true });
        await provider.forceFlush();
        expect(rec.results).toEqual([SUCCESS, SUCCESS]);
        expect(await counts()).toEqual({ series: 7, points: 10, histograms: 4 });
        const eu = await env.db.query<{ value: number }>(
          `select p.value from public.metric_series s join public.metric_points p on p.series_id = s.id
           where s.project_id = $1 and s.name = 'orders.placed' and s.tags->>'service.name' = $2 and s.tags->>'region' = 'eu' order by p.time`,
          [t.projectA, service],
        );
        expect(eu.map((r) => r.value)).toEqual([5, 8]);
      } finally {
        await provider.shutdown();
      }
    });
  });

  it('delta temporality (temporalityPreference: DELTA): each interval is its own point', async () => {
    const service = 'checkout-delta';
    const otlp = new ProtoMetricExporter({ ...options('metrics'), temporalityPreference: AggregationTemporality.DELTA });
    const rec = new Recorder<ResourceMetrics>(otlp);
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      readers: [
        new PeriodicExportingMetricReader({
          exporter: {
            export: (m, cb) => rec.export(m, cb),
            forceFlush: () => otlp.forceFlush(),
            shutdown: () => otlp.shutdown(),
            selectAggregationTemporality: (i) => otlp.selectAggregationTemporality(i),
            selectAggregation: (i) => otlp.selectAggregation(i),
          },
          exportIntervalMillis: 3_600_000,
        }),
      ],
    });
    try {
      const meter = provider.getMeter('checkout.meter');
      const orders = meter.createCounter('orders.placed');
      const latency = meter.createHistogram('http.latency', { advice: { explicitBucketBoundaries: [10] } });
      orders.add(5);
      latency.record(1);
      latency.record(20);
      await provider.forceFlush();
      orders.add(3);
      latency.record(2);
      await provider.forceFlush();
      expect(rec.results).toEqual([SUCCESS, SUCCESS]);
      expect(diagnostics).toEqual([]);
      const points = await env.db.query<{ type: string; value: number }>(
        `select s.type, p.value from public.metric_series s join public.metric_points p on p.series_id = s.id
         where s.project_id = $1 and s.name = 'orders.placed' and s.tags->>'service.name' = $2 order by p.time`,
        [t.projectA, service],
      );
      expect(points).toEqual([
        { type: 'counter', value: 5 },
        { type: 'counter', value: 3 },
      ]);
      const hists = await env.db.query<{ count: number; sum: number; buckets: unknown }>(
        `select h.count, h.sum, h.buckets from public.metric_series s join public.metric_histogram_points h on h.series_id = s.id
         where s.project_id = $1 and s.name = 'http.latency' and s.tags->>'service.name' = $2 order by h.time`,
        [t.projectA, service],
      );
      expect(hists).toEqual([
        { count: 2, sum: 21, buckets: { kind: 'explicit', bounds: [10], counts: [1, 1] } },
        { count: 1, sum: 2, buckets: { kind: 'explicit', bounds: [10], counts: [1, 0] } },
      ]);
    } finally {
      await provider.shutdown();
    }
  });
});
