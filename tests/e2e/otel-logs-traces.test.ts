/**
 * Issue #5 end to end: logs and spans sent by the OpenTelemetry JS SDK (protobuf exporters) to a
 * gateway over a real socket are found by log search, followed by the live tail, joined to their
 * trace (log -> trace -> the trace's logs), all through the logs function's HTTP API with the
 * project's API key, exactly as a dashboard or a script would read them.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { sseReader } from '../helpers/sse.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

describe('OpenTelemetry SDK -> gateway -> log search, live tail and trace view', () => {
  let env: TestEnv;
  let t: Tenant;
  let server: ServerType;
  let base: string;
  let loggers: LoggerProvider;
  let logExporter: OTLPLogExporter;
  let tracers: BasicTracerProvider;
  let traceExporter: OTLPTraceExporter;

  beforeAll(async () => {
    env = await createTestEnv();
    t = await createTenant(env);
    await new Promise<void>((resolve) => {
      server = serve({ fetch: env.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/functions/v1`;
    const headers = { 'x-api-key': t.keyA.secret };
    const resource = resourceFromAttributes({ 'service.name': 'checkout', 'deployment.environment': 'prod' });
    logExporter = new OTLPLogExporter({ url: `${base}/ingest/v1/logs`, headers });
    traceExporter = new OTLPTraceExporter({ url: `${base}/ingest/v1/traces`, headers });
    loggers = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: logExporter })] });
    tracers = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(traceExporter)] });
  });

  afterAll(async () => {
    await loggers?.shutdown();
    await tracers?.shutdown();
    if (server) {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await env?.close();
  });

  const flush = async () => {
    await loggers.forceFlush();
    await logExporter.forceFlush();
    await tracers.forceFlush();
    await traceExporter.forceFlush();
  };
  const api = async (path: string) => {
    const res = await fetch(`${base}/logs${path}`, { headers: { 'x-api-key': t.keyA.secret } });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    return body;
  };

  it('a request traced and logged by the SDK is searchable and opens as its trace, whose logs lead back', async () => {
    const tracer = tracers.getTracer('checkout.http');
    const logger = loggers.getLogger('checkout.app');
    const server = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, attributes: { 'http.route': '/checkout' } });
    const inServer = trace.setSpan(ROOT_CONTEXT, server);
    const charge = tracer.startSpan('charge card', { kind: SpanKind.CLIENT }, inServer);
    logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'charging card for order ord_7731', context: trace.setSpan(ROOT_CONTEXT, charge) });
    logger.emit({
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: 'stripe.CardError: Your card was declined (code=card_declined)',
      attributes: { 'order.id': 'ord_7731' },
      context: trace.setSpan(ROOT_CONTEXT, charge),
    });
    charge.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
    charge.end();
    server.end();
    await flush();

    // Search: words inside the identifier-laden message, a level filter and an attribute filter.
    const found = await api('/search?q=CardError%20declined&minLevel=error&attr.order.id=ord_7731');
    expect(found.logs).toHaveLength(1);
    const log = found.logs[0];
    expect(log).toMatchObject({ level: 'error', service: 'checkout', traceId: server.spanContext().traceId, spanId: charge.spanContext().spanId });
    expect(log.resource).toMatchObject({ 'service.name': 'checkout', 'deployment.environment': 'prod' });
    expect((await api('/search?q=%22card%20declined%22%20-stripe')).logs).toEqual([]);

    // From the log to its trace: the span tree with the error.
    const tree = await api(`/traces/${log.traceId}`);
    const text = JSON.stringify(tree);
    expect(text).toContain('POST /checkout');
    expect(text).toContain('charge card');
    expect(text).toContain('card declined');
    // From the trace to its logs, oldest first.
    const traceLogs = await api(`/traces/${log.traceId}/logs`);
    expect(traceLogs.logs.map((l: { message: string }) => l.message)).toEqual(['charging card for order ord_7731', 'stripe.CardError: Your card was declined (code=card_declined)']);
    // And the line in its context.
    const context = await api(`/${log.id}?before=5&after=0`);
    expect(context.before.map((l: { message: string }) => l.message)).toEqual(['charging card for order ord_7731']);
  });

  it('the live tail streams what the SDK sends after it started', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/logs/tail?q=tail-demo&service=checkout`, { headers: { 'x-api-key': t.keyA.secret }, signal: controller.signal });
    expect(res.status).toBe(200);
    const stream = sseReader(res);
    try {
      await stream.next('ready');
      const logger = loggers.getLogger('checkout.app');
      logger.emit({ severityNumber: SeverityNumber.WARN, body: 'tail-demo: queue depth 950 of 1000' });
      await flush();
      const event = await stream.next('log');
      expect(JSON.parse(event.data!)).toMatchObject({ message: 'tail-demo: queue depth 950 of 1000', level: 'warn', service: 'checkout' });
    } finally {
      controller.abort();
      await stream.cancel();
    }
  }, 20_000);
});
