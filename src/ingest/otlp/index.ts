import type { DecodedBatch } from '../model.ts';
import { decodeLogsJson } from './logs-json.ts';
import { decodeLogsProtobuf } from './logs-protobuf.ts';
import { decodeMetricsJson } from './metrics-json.ts';
import { decodeMetricsProtobuf } from './metrics-protobuf.ts';
import type { OtlpEncoding } from './response.ts';
import { decodeTracesJson } from './traces-json.ts';
import { decodeTracesProtobuf } from './traces-protobuf.ts';

/**
 * OTLP/HTTP export requests (protobuf or JSON) to the ingest model. Runtime-neutral: Web APIs only.
 *
 * Each decoder returns every usable item plus an ItemError for each unusable one (index = the
 * item's position in the request counting data points / log records / spans from 0, field = its
 * dotted path such as "resourceSpans.0.scopeSpans.0.spans.3.traceId"), and `origins` mapping each
 * decoded item to that index and path. A request that cannot be decoded at all throws
 * OtlpDecodeError with a message saying what and where.
 */

export { OtlpDecodeError } from './errors.ts';
export { encodeExportResponse, encodeStatus, type OtlpEncoding, type OtlpSignal } from './response.ts';

export function decodeOtlpMetrics(body: Uint8Array, contentType: OtlpEncoding): DecodedBatch {
  return contentType === 'json' ? decodeMetricsJson(body) : decodeMetricsProtobuf(body);
}

export function decodeOtlpLogs(body: Uint8Array, contentType: OtlpEncoding): DecodedBatch {
  return contentType === 'json' ? decodeLogsJson(body) : decodeLogsProtobuf(body);
}

export function decodeOtlpTraces(body: Uint8Array, contentType: OtlpEncoding): DecodedBatch {
  return contentType === 'json' ? decodeTracesJson(body) : decodeTracesProtobuf(body);
}
