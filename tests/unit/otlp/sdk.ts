/**
 * Real OTLP payloads for the decoder tests: telemetry recorded through the OpenTelemetry JS SDK and
 * serialized by @opentelemetry/otlp-transformer, the code the OTLP/HTTP exporters send with.
 */
import type { HrTime, Meter, Tracer } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, type ReadableLogRecord, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  type InstrumentType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

export type Encoding = 'protobuf' | 'json';
export const ENCODINGS: Encoding[] = ['protobuf', 'json'];

export const RESOURCE_ATTRIBUTES = {
  'service.name': 'checkout',
  'service.version': '1.4.2',
  'host.name': 'web-1',
  'process.pid': 4242,
};

/** A MetricReader we collect from on demand. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export async function recordMetrics(
  record: (meter: Meter) => void,
  options: { temporality?: AggregationTemporality; views?: ViewOptions[]; resource?: Record<string, string | number> } = {},
): Promise<ResourceMetrics> {
  const temporality = options.temporality ?? AggregationTemporality.CUMULATIVE;
  const reader = new TestReader({ aggregationTemporalitySelector: (_: InstrumentType) => temporality });
  const provider = new MeterProvider({
    resource: resourceFromAttributes(options.resource ?? RESOURCE_ATTRIBUTES),
    readers: [reader],
    views: options.views ?? [],
  });
  record(provider.getMeter('shop.meter', '2.0.0'));
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw errors[0];
  await provider.shutdown();
  return resourceMetrics;
}

export function serializeMetrics(rm: ResourceMetrics, encoding: Encoding): Uint8Array {
  const bytes = encoding === 'protobuf' ? ProtobufMetricsSerializer.serializeRequest(rm) : JsonMetricsSerializer.serializeRequest(rm);
  if (!bytes) throw new Error('serializer returned nothing');
  return bytes;
}

export function recordSpans(record: (tracer: Tracer) => void, resource: Record<string, string | number> = RESOURCE_ATTRIBUTES): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  record(provider.getTracer('shop.tracer', '3.1.0'));
  return exporter.getFinishedSpans();
}

export function serializeSpans(spans: ReadableSpan[], encoding: Encoding): Uint8Array {
  const bytes = encoding === 'protobuf' ? ProtobufTraceSerializer.serializeRequest(spans) : JsonTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('serializer returned nothing');
  return bytes;
}

export function recordLogs(record: (logger: Logger) => void, resource: Record<string, string | number> = RESOURCE_ATTRIBUTES): ReadableLogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resource),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  record(provider.getLogger('shop.logger', '0.9.0'));
  return exporter.getFinishedLogRecords();
}

export function serializeLogs(logs: ReadableLogRecord[], encoding: Encoding): Uint8Array {
  const bytes = encoding === 'protobuf' ? ProtobufLogsSerializer.serializeRequest(logs) : JsonLogsSerializer.serializeRequest(logs);
  if (!bytes) throw new Error('serializer returned nothing');
  return bytes;
}

/** HrTime to epoch ms with exactly the microseconds (sub-microsecond nanoseconds truncated). */
export function hrToMs(t: HrTime): number {
  const ns = BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
  return Number(ns / 1000n) / 1000;
}

/** Decimal nanoseconds to epoch ms with exactly the microseconds. */
export function nsToMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}

/** Resource attributes as metric tags. */
export const RESOURCE_TAGS = {
  'service.name': 'checkout',
  'service.version': '1.4.2',
  'host.name': 'web-1',
  'process.pid': '4242',
};
