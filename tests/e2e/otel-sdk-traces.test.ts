/**
 * Traces from the OpenTelemetry JS SDK through its real OTLP/HTTP exporters (JSON:
 * exporter-trace-otlp-http, protobuf: exporter-trace-otlp-proto), pointed at the gateway over a real
 * socket exactly as a user configures it (`url`, `headers: { 'x-api-key' }`; the gateway and recorder
 * are tests/helpers/otel-gateway.ts). For each encoding: the export reports success, every span is
 * stored once with the right values (read back as superuser), and sending the very same exported
 * spans again (what an exporter retry does) succeeds and stores nothing new. Also gzip-compressed
 * exports, and a wrong API key answered in the request's encoding.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestEnv } from '../helpers/env.ts';
import { type ExporterOptions, hr, type OtelGateway, recent, Recorder, startOtelGateway, SUCCESS, US, usOf } from '../helpers/otel-gateway.ts';
import type { Tenant } from '../helpers/tenant.ts';

const VARIANTS = [
  // Both processor flavours are exercised: one batch, and one export per span.
  { encoding: 'json', requestType: 'application/json', traces: (o: ExporterOptions) => new JsonTraceExporter(o), batchSpans: true },
  { encoding: 'protobuf', requestType: 'application/x-protobuf', traces: (o: ExporterOptions) => new ProtoTraceExporter(o), batchSpans: false },
] as const;

describe('OpenTelemetry JS SDK -> OTLP/HTTP exporters -> gateway', () => {
  let gw: OtelGateway;
  let env: TestEnv;
  let t: Tenant;
  let base: string;
  let diagnostics: string[];
  let exchanges: OtelGateway['exchanges'];
  let options: OtelGateway['options'];
  let expectCleanExchanges: OtelGateway['expectCleanExchanges'];
  let count: OtelGateway['count'];

  beforeAll(async () => {
    gw = await startOtelGateway();
    ({ env, t, base, diagnostics, exchanges, options, expectCleanExchanges, count } = gw);
  });
  afterAll(async () => gw?.close());

  beforeEach(() => {
    exchanges.length = 0;
    diagnostics.length = 0;
  });

  describe.each(VARIANTS)('over OTLP/HTTP $encoding', (v) => {
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
