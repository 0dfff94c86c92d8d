/**
 * Logs from the OpenTelemetry JS SDK through its real OTLP/HTTP exporters (JSON:
 * exporter-logs-otlp-http, protobuf: exporter-logs-otlp-proto), pointed at the gateway over a real
 * socket exactly as a user configures it (`url`, `headers: { 'x-api-key' }`; the gateway and recorder
 * are tests/helpers/otel-gateway.ts). For each encoding: the export reports success, every record is
 * stored once with the right values (read back as superuser), and sending the very same exported
 * records again (what an exporter retry does) succeeds and stores nothing new, while a record emitted
 * later is still stored.
 */
import { type Context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, type LogRecordExporter, LoggerProvider, type ReadableLogRecord, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestEnv } from '../helpers/env.ts';
import { type ExporterOptions, hr, type OtelGateway, recent, Recorder, startOtelGateway, SUCCESS, US, usOf } from '../helpers/otel-gateway.ts';
import type { Tenant } from '../helpers/tenant.ts';

const VARIANTS = [
  // Both processor flavours are exercised: one export per record, and one batch.
  { encoding: 'json', requestType: 'application/json', logs: (o: ExporterOptions) => new JsonLogExporter(o), batchLogs: false },
  { encoding: 'protobuf', requestType: 'application/x-protobuf', logs: (o: ExporterOptions) => new ProtoLogExporter(o), batchLogs: true },
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
  });
});
