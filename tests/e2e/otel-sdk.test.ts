/**
 * The OpenTelemetry JS SDK with its real OTLP/HTTP exporters (JSON: *-otlp-http, protobuf:
 * *-otlp-proto), pointed at the gateway over a real socket exactly as a user configures it (`url`,
 * `headers: { 'x-api-key' }`). For each signal and encoding: the export reports success, every
 * item is stored once with the right values (read back as superuser), and sending the very same
 * exported items again (what an exporter retry does) succeeds and stores nothing new, while new data
 * collected later is still stored.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { type Context, type DiagLogger, DiagLogLevel, diag, type HrTime, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, type LogRecordExporter, LoggerProvider, type ReadableLogRecord, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
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
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];
/** ExportResultCode.SUCCESS, with no error: what an exporter reports after a 2xx. */
const SUCCESS = { code: 0 };

/**
 * Sits between an SDK processor/reader and a real OTLP exporter: keeps every batch the SDK exported
 * and every result the exporter reported, and can send a batch again through the same exporter.
 */
class Recorder<T> {
  readonly batches: T[] = [];
  readonly results: ExportResult[] = [];
  constructor(private readonly otlp: { export(items: T, cb: (r: ExportResult) => void): void }) {}
  export(items: T, cb: (r: ExportResult) => void): void {
    this.batches.push(items);
    this.otlp.export(items, (r) => {
      this.results.push(r);
      cb(r);
    });
  }
  /** What an exporter retry does: the same items, serialized again and sent again. */
  resend(items: T): Promise<ExportResult> {
    return new Promise((resolve) => this.otlp.export(items, resolve));
  }
}

interface ExporterOptions {
  url: string;
  headers: Record<string, string>;
}

const VARIANTS = [
  {
    encoding: 'json',
    requestType: 'application/json',
    metrics: (o: ExporterOptions) => new JsonMetricExporter(o),
    logs: (o: ExporterOptions) => new JsonLogExporter(o),
    traces: (o: ExporterOptions) => new JsonTraceExporter(o),
    // Both processor flavours are exercised: one export per record, and one batch.
    batchLogs: false,
    batchSpans: true,
  },
  {
    encoding: 'protobuf',
    requestType: 'application/x-protobuf',
    metrics: (o: ExporterOptions) => new ProtoMetricExporter(o),
    logs: (o: ExporterOptions) => new ProtoLogExporter(o),
    traces: (o: ExporterOptions) => new ProtoTraceExporter(o),
    batchLogs: true,
    batchSpans: false,
  },
] as const;

/** Epoch milliseconds (microsecond fractions allowed) to an HrTime, exactly. */
function hr(ms: number): HrTime {
  const us = Math.round(ms * 1000);
  return [Math.floor(us / 1_000_000), (us % 1_000_000) * 1000];
}

/** An HrTime as whole microseconds since the epoch (what Postgres keeps), as a decimal string. */
function usOf(t: HrTime): string {
  return String(BigInt(t[0]) * 1_000_000n + BigInt(Math.floor(t[1] / 1000)));
}

/** A timestamptz column as whole microseconds since the epoch, exact (numeric, not float). */
const US = (col: string) => `(extract(epoch from ${col}) * 1000000)::bigint::text`;

/** A whole millisecond a little in the past: inside the acceptance window, fractions added by the tests. */
const recent = (agoMs: number) => Date.now() - agoMs;

describe('OpenTelemetry JS SDK -> OTLP/HTTP exporters -> gateway', () => {
  let env: TestEnv;
  let t: Tenant;
  let server: ServerType;
  let base: string;
  /** Every request the gateway answered: what the SDK sent and what it got back. */
  const exchanges: Array<{ path: string; requestType: string; encoding: string; status: number; responseType: string; body: Uint8Array }> = [];
  /** Warnings and errors the SDK logged (partial success, undecodable responses, failed exports). */
  const diagnostics: string[] = [];

  beforeAll(async () => {
    env = await createTestEnv();
    t = await createTenant(env);
    const app = env.app;
    await new Promise<void>((resolve) => {
      server = serve(
        {
          fetch: async (req: Request, ...rest: unknown[]) => {
            const res = await (app.fetch as (r: Request, ...a: unknown[]) => Response | Promise<Response>)(req, ...rest);
            const body = new Uint8Array(await res.clone().arrayBuffer());
            exchanges.push({
              path: new URL(req.url).pathname,
              requestType: req.headers.get('content-type') ?? '',
              encoding: req.headers.get('content-encoding') ?? '',
              status: res.status,
              responseType: res.headers.get('content-type') ?? '',
              body,
            });
            return res;
          },
          hostname: '127.0.0.1',
          port: 0,
        },
        () => resolve(),
      );
    });
    const { port } = server.address() as AddressInfo;
    base = `http://127.0.0.1:${port}/functions/v1/ingest`;
    const collect = (level: string) => (message: string, ...args: unknown[]) => {
      diagnostics.push(`${level}: ${message} ${args.map((a) => (a instanceof Error ? a.message : JSON.stringify(a))).join(' ')}`);
    };
    const logger: DiagLogger = { error: collect('error'), warn: collect('warn'), info: () => {}, debug: () => {}, verbose: () => {} };
    diag.setLogger(logger, DiagLogLevel.WARN);
  });

  afterAll(async () => {
    diag.disable();
    if (server) {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await env?.close();
  });

  beforeEach(() => {
    exchanges.length = 0;
    diagnostics.length = 0;
  });

  const options = (signal: 'metrics' | 'logs' | 'traces'): ExporterOptions => ({ url: `${base}/v1/${signal}`, headers: { 'x-api-key': t.keyA.secret } });

  /** Every request of this test reached the OTLP route, in the variant's encoding, and got a 200 in that encoding. */
  function expectCleanExchanges(signal: string, requestType: string, count: number) {
    expect(diagnostics).toEqual([]);
    expect(exchanges.map((e) => ({ path: e.path, requestType: e.requestType.split(';')[0], status: e.status, responseType: e.responseType.split(';')[0] }))).toEqual(
      Array.from({ length: count }, () => ({ path: `/functions/v1/ingest/v1/${signal}`, requestType, status: 200, responseType: requestType })),
    );
    // Full success: no partial_success (an empty message in protobuf, `{}` in JSON).
    for (const e of exchanges) {
      if (requestType === 'application/json') expect(JSON.parse(new TextDecoder().decode(e.body))).toEqual({});
      else expect(e.body.byteLength).toBe(0);
    }
  }

  const count = async (sql: string, params: unknown[]) => Number((await env.db.query<{ n: string }>(`select count(*) as n from ${sql}`, params))[0]!.n);

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

    it('logs: severities, attributes, bodies, trace context and exact timestamps are stored once', async () => {
      const service = `checkout-logs-${v.encoding}`;
      const resource = resourceFromAttributes({ 'service.name': service, 'host.name': 'web-1' });
      const otlp = v.logs(options('logs'));
      const rec = new Recorder<ReadableLogRecord[]>(otlp);
      const exporter: LogRecordExporter = { export: (l, cb) => rec.export(l, cb), shutdown: () => otlp.shutdown(), forceFlush: () => otlp.forceFlush() };
      const processor = v.batchLogs ? new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 3_600_000 }) : new SimpleLogRecordProcessor({ exporter });
      const provider = new LoggerProvider({ resource, processors: [processor] });
      // SimpleLogRecordProcessor.forceFlush() does not wait for exports already sent (sdk-logs 0.223);
      // the exporter's own forceFlush does (provider.shutdown() would too, but the test sends again).
      const flush = async () => {
        await provider.forceFlush();
        await otlp.forceFlush();
      };
      // A span to log inside of (not exported: only its context matters here).
      const tracerProvider = new BasicTracerProvider({ resource });
      const span = tracerProvider.getTracer('checkout.tracer').startSpan('POST /checkout', { kind: SpanKind.SERVER });
      const inSpan: Context = trace.setSpan(ROOT_CONTEXT, span);
      try {
        const logger = provider.getLogger('checkout.logger', '1.0.0');
        const t0 = recent(5000);
        const times = [t0 + 0.001, t0 + 1.25, t0 + 2.5, t0 + 3.999].map(hr);
        logger.emit({ timestamp: times[0], severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'order placed', attributes: { 'order.id': 42, 'customer.tier': 'gold' } });
        logger.emit({ timestamp: times[1], severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'inventory low', attributes: { sku: 'A-1', remaining: 3, ratio: 0.25 } });
        logger.emit({
          timestamp: times[2],
          severityNumber: SeverityNumber.ERROR,
          severityText: 'ERROR',
          body: 'payment failed: card declined',
          attributes: { 'payment.provider': 'stripe', retryable: false, codes: ['do_not_honor', 'cvc_check'] },
          context: inSpan,
        });
        logger.emit({ timestamp: times[3], severityNumber: SeverityNumber.DEBUG, body: { event: 'refund', amount: 12.5, items: [1, 2] }, attributes: {} });
        await flush();
        const exports = v.batchLogs ? 1 : 4;
        expect(rec.results).toEqual(Array.from({ length: exports }, () => SUCCESS));
        expect(rec.batches.flat()).toHaveLength(4);
        expectCleanExchanges('logs', v.requestType, exports);

        const scope = { 'otel.scope.name': 'checkout.logger', 'otel.scope.version': '1.0.0' };
        const rows = await env.db.query<Record<string, unknown>>(
          `select level, severity_number, message, service, attributes, resource, trace_id, span_id, ${US('time')} as us
           from public.logs where project_id = $1 and service = $2 order by time`,
          [t.projectA, service],
        );
        const res = { 'service.name': service, 'host.name': 'web-1' };
        const { traceId, spanId } = span.spanContext();
        expect(rows).toEqual([
          { level: 'info', severity_number: 9, message: 'order placed', service, attributes: { 'order.id': 42, 'customer.tier': 'gold', ...scope }, resource: res, trace_id: null, span_id: null, us: usOf(times[0]!) },
          { level: 'warn', severity_number: 13, message: 'inventory low', service, attributes: { sku: 'A-1', remaining: 3, ratio: 0.25, ...scope }, resource: res, trace_id: null, span_id: null, us: usOf(times[1]!) },
          {
            level: 'error',
            severity_number: 17,
            message: 'payment failed: card declined',
            service,
            attributes: { 'payment.provider': 'stripe', retryable: false, codes: ['do_not_honor', 'cvc_check'], ...scope },
            resource: res,
            trace_id: traceId,
            span_id: spanId,
            us: usOf(times[2]!),
          },
          { level: 'debug', severity_number: 5, message: expect.any(String), service, attributes: scope, resource: res, trace_id: null, span_id: null, us: usOf(times[3]!) },
        ]);
        expect(traceId).toMatch(/^[0-9a-f]{32}$/);
        // A structured body is kept as its JSON.
        expect(JSON.parse(rows[3]!.message as string)).toEqual({ event: 'refund', amount: 12.5, items: [1, 2] });

        // Retries of the same exports: acknowledged, nothing stored twice.
        for (const batch of rec.batches) expect(await rec.resend(batch)).toEqual(SUCCESS);
        for (const batch of rec.batches) expect(await rec.resend(batch)).toEqual(SUCCESS);
        expect(await count('public.logs where project_id = $1 and service = $2', [t.projectA, service])).toBe(4);
        expectCleanExchanges('logs', v.requestType, exports * 3);

        // The same message again at a new time is a new event.
        logger.emit({ timestamp: hr(t0 + 5), severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'order placed', attributes: { 'order.id': 42, 'customer.tier': 'gold' } });
        await flush();
        expect(rec.results).toEqual(Array.from({ length: exports + 1 }, () => SUCCESS));
        expect(await count('public.logs where project_id = $1 and service = $2', [t.projectA, service])).toBe(5);
      } finally {
        span.end();
        await provider.shutdown();
        await tracerProvider.shutdown();
      }
    });

    it('traces: ids, parentage, kinds, statuses, events, links and times are stored once', async () => {
      const service = `checkout-traces-${v.encoding}`;
      const otlp = v.traces(options('traces'));
      const rec = new Recorder<ReadableSpan[]>(otlp);
      const exporter: SpanExporter = { export: (s, cb) => rec.export(s, cb), shutdown: () => otlp.shutdown(), forceFlush: () => otlp.forceFlush() };
      const processor = v.batchSpans ? new BatchSpanProcessor(exporter, { scheduledDelayMillis: 3_600_000 }) : new SimpleSpanProcessor(exporter);
      const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service, 'service.version': '2.0.0' }), spanProcessors: [processor] });
      try {
        const tracer = provider.getTracer('checkout.tracer', '3.1.0');
        const t0 = recent(3000);
        const producer = tracer.startSpan('enqueue receipt', { kind: SpanKind.PRODUCER, startTime: hr(t0 - 50) });
        producer.end(hr(t0 - 49.5));
        const parent = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, startTime: hr(t0), attributes: { 'http.request.method': 'POST', 'http.response.status_code': 502 } });
        const child = tracer.startSpan(
          'charge card',
          {
            kind: SpanKind.CLIENT,
            startTime: hr(t0 + 10.25),
            attributes: { 'peer.service': 'stripe', attempt: 2, amount: 12.5, 'card.checks': ['cvc', 'zip'] },
            links: [{ context: producer.spanContext(), attributes: { 'link.reason': 'receipt' } }],
          },
          trace.setSpan(ROOT_CONTEXT, parent),
        );
        child.addEvent('exception', { 'exception.type': 'CardDeclined', 'exception.message': 'insufficient funds' }, hr(t0 + 20.5));
        child.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
        child.end(hr(t0 + 42.75));
        parent.setStatus({ code: SpanStatusCode.OK });
        parent.end(hr(t0 + 100.001));

        await provider.forceFlush();
        const exports = v.batchSpans ? 1 : 3;
        expect(rec.results).toEqual(Array.from({ length: exports }, () => SUCCESS));
        expectCleanExchanges('traces', v.requestType, exports);

        const p = parent.spanContext();
        const c = child.spanContext();
        const q = producer.spanContext();
        expect(c.traceId).toBe(p.traceId);
        const scope = { 'otel.scope.name': 'checkout.tracer', 'otel.scope.version': '3.1.0' };
        const res = { 'service.name': service, 'service.version': '2.0.0' };
        const rows = await env.db.query<Record<string, unknown>>(
          `select trace_id, span_id, parent_span_id, name, service, kind, status, status_message, attributes, resource, events, links,
                  ${US('start_time')} as start_us, ${US('end_time')} as end_us, duration_ms
           from public.spans where project_id = $1 and service = $2 order by start_time`,
          [t.projectA, service],
        );
        expect(rows).toEqual([
          {
            trace_id: q.traceId,
            span_id: q.spanId,
            parent_span_id: null,
            name: 'enqueue receipt',
            service,
            kind: 'producer',
            status: 'unset',
            status_message: null,
            attributes: scope,
            resource: res,
            events: [],
            links: [],
            start_us: usOf(hr(t0 - 50)),
            end_us: usOf(hr(t0 - 49.5)),
            duration_ms: expect.any(Number),
          },
          {
            trace_id: p.traceId,
            span_id: p.spanId,
            parent_span_id: null,
            name: 'POST /checkout',
            service,
            kind: 'server',
            status: 'ok',
            status_message: null,
            attributes: { 'http.request.method': 'POST', 'http.response.status_code': 502, ...scope },
            resource: res,
            events: [],
            links: [],
            start_us: usOf(hr(t0)),
            end_us: usOf(hr(t0 + 100.001)),
            duration_ms: expect.any(Number),
          },
          {
            trace_id: p.traceId,
            span_id: c.spanId,
            parent_span_id: p.spanId,
            name: 'charge card',
            service,
            kind: 'client',
            status: 'error',
            status_message: 'card declined',
            attributes: { 'peer.service': 'stripe', attempt: 2, amount: 12.5, 'card.checks': ['cvc', 'zip'], ...scope },
            resource: res,
            events: [{ name: 'exception', timestamp: t0 + 20.5, attributes: { 'exception.type': 'CardDeclined', 'exception.message': 'insufficient funds' } }],
            links: [{ traceId: q.traceId, spanId: q.spanId, attributes: { 'link.reason': 'receipt' } }],
            start_us: usOf(hr(t0 + 10.25)),
            end_us: usOf(hr(t0 + 42.75)),
            duration_ms: expect.any(Number),
          },
        ]);

        // Retries of the same exports: acknowledged, nothing stored twice.
        for (const batch of rec.batches) expect(await rec.resend(batch)).toEqual(SUCCESS);
        for (const batch of rec.batches) expect(await rec.resend(batch)).toEqual(SUCCESS);
        expect(await count('public.spans where project_id = $1 and service = $2', [t.projectA, service])).toBe(3);
        expectCleanExchanges('traces', v.requestType, exports * 3);

        // duration_ms is exactly end - start: both are exact to the microsecond, so is the duration
        // (100.001, not the float artefact of subtracting two epoch-millisecond doubles).
        expect(rows.map((r) => [r.name, r.duration_ms, (Number(r.end_us) - Number(r.start_us)) / 1000])).toEqual([
          ['enqueue receipt', 0.5, 0.5],
          ['POST /checkout', 100.001, 100.001],
          ['charge card', 32.5, 32.5],
        ]);
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

  it('gzip-compressed exports (compression: gzip) are stored too', async () => {
    const service = 'checkout-gzip';
    const gzip = 'gzip' as NonNullable<NonNullable<ConstructorParameters<typeof ProtoTraceExporter>[0]>['compression']>;
    for (const make of [(o: ExporterOptions) => new ProtoTraceExporter({ ...o, compression: gzip }), (o: ExporterOptions) => new JsonTraceExporter({ ...o, compression: gzip })]) {
      const otlp = make(options('traces'));
      const rec = new Recorder<ReadableSpan[]>(otlp);
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new SimpleSpanProcessor({ export: (s, cb) => rec.export(s, cb), shutdown: () => otlp.shutdown() })],
      });
      provider.getTracer('gz').startSpan('compressed').end();
      await provider.forceFlush();
      await provider.shutdown();
      expect(rec.results).toEqual([SUCCESS]);
    }
    expect(exchanges.map((e) => [e.encoding, e.status])).toEqual([
      ['gzip', 200],
      ['gzip', 200],
    ]);
    expect(diagnostics).toEqual([]);
    expect(await count('public.spans where project_id = $1 and service = $2', [t.projectA, service])).toBe(2);
  });

  it('a wrong API key: 401 with a google.rpc.Status in the request encoding, a failed export, nothing stored', async () => {
    const service = 'checkout-unauthorized';
    for (const make of [(o: ExporterOptions) => new ProtoTraceExporter(o), (o: ExporterOptions) => new JsonTraceExporter(o)]) {
      const otlp = make({ url: `${base}/v1/traces`, headers: { 'x-api-key': `${t.keyA.secret.slice(0, -4)}xxxx` } });
      const rec = new Recorder<ReadableSpan[]>(otlp);
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new SimpleSpanProcessor({ export: (s, cb) => rec.export(s, cb), shutdown: () => otlp.shutdown() })],
      });
      provider.getTracer('auth').startSpan('refused').end();
      // SimpleSpanProcessor.forceFlush() rethrows the failed export's error.
      expect(await provider.forceFlush().then(() => 'resolved', () => 'rejected')).toBe('rejected');
      await provider.shutdown();
      // ExportResultCode.FAILED with the HTTP status: 401 is not retryable, the exporter gives up at once.
      expect(rec.results).toEqual([{ code: 1, error: expect.objectContaining({ code: 401 }) }]);
    }
    expect(await count('public.spans where project_id = $1 and service = $2', [t.projectA, service])).toBe(0);
    expect(exchanges.map((e) => e.status)).toEqual([401, 401]);
    // OTLP/HTTP: the response has the request's content type, and a failure carries a google.rpc.Status
    // (code 16 UNAUTHENTICATED) in that encoding, whichever layer refused the key.
    expect(exchanges.map((e) => [e.requestType.split(';')[0], e.status, e.responseType.split(';')[0]])).toEqual([
      ['application/x-protobuf', 401, 'application/x-protobuf'],
      ['application/json', 401, 'application/json'],
    ]);
    expect(decodeStatus(exchanges[0]!.body)).toEqual({ code: 16, message: expect.stringMatching(/api key/i) });
    expect(JSON.parse(new TextDecoder().decode(exchanges[1]!.body))).toEqual({ code: 16, message: expect.stringMatching(/api key/i) });
  });
});

/** google.rpc.Status { int32 code = 1; string message = 2; } from protobuf (other fields skipped); throws on anything else. */
function decodeStatus(bytes: Uint8Array): { code: number; message: string } {
  let pos = 0;
  const varint = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= bytes.length) throw new Error('truncated varint');
      const b = bytes[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  const out = { code: 0, message: '' };
  while (pos < bytes.length) {
    const tag = varint();
    const [field, wire] = [tag >>> 3, tag & 7];
    if (wire === 0) {
      const v = varint();
      if (field === 1) out.code = v;
    } else if (wire === 2) {
      const len = varint();
      if (pos + len > bytes.length) throw new Error('truncated field');
      if (field === 2) out.message = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(pos, pos + len));
      pos += len;
    } else {
      throw new Error(`not a google.rpc.Status: wire type ${wire}`);
    }
  }
  return out;
}
