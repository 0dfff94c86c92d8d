import type { DecodedBatch } from '../model.ts';
import { idFromBytes, nanosToMs } from './convert.ts';
import { type LogContext, type RawLog, buildLog } from './logs.ts';
import { decodeEnvelope, readAnyValue, readKeyValue } from './protobuf-common.ts';
import { ProtoReader, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT, messageSpec, tagOf } from './wire.ts';

/** ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1, logs/v1) in protobuf. */

const REQUEST = messageSpec('ExportLogsServiceRequest', { 1: ['resource_logs', WIRE_LEN] });
const RESOURCE_LOGS = messageSpec('ResourceLogs', {
  1: ['resource', WIRE_LEN],
  2: ['scope_logs', WIRE_LEN],
  3: ['schema_url', WIRE_LEN],
});
const SCOPE_LOGS = messageSpec('ScopeLogs', {
  1: ['scope', WIRE_LEN],
  2: ['log_records', WIRE_LEN],
  3: ['schema_url', WIRE_LEN],
});
const LOG_RECORD = messageSpec('LogRecord', {
  1: ['time_unix_nano', WIRE_I64],
  2: ['severity_number', WIRE_VARINT],
  3: ['severity_text', WIRE_LEN],
  5: ['body', WIRE_LEN],
  6: ['attributes', WIRE_LEN],
  7: ['dropped_attributes_count', WIRE_VARINT],
  8: ['flags', WIRE_I32],
  9: ['trace_id', WIRE_LEN],
  10: ['span_id', WIRE_LEN],
  11: ['observed_time_unix_nano', WIRE_I64],
  12: ['event_name', WIRE_LEN],
});

const T1_I64 = tagOf(1, WIRE_I64);
const T2_VARINT = tagOf(2, WIRE_VARINT);
const T3_LEN = tagOf(3, WIRE_LEN);
const T5_LEN = tagOf(5, WIRE_LEN);
const T6_LEN = tagOf(6, WIRE_LEN);
const T9_LEN = tagOf(9, WIRE_LEN);
const T10_LEN = tagOf(10, WIRE_LEN);
const T11_I64 = tagOf(11, WIRE_I64);
const T12_LEN = tagOf(12, WIRE_LEN);

const NO_BYTES: Uint8Array = new Uint8Array(0);

export function decodeLogsProtobuf(body: Uint8Array): DecodedBatch {
  return decodeEnvelope(body, {
    request: REQUEST,
    resourceMessage: RESOURCE_LOGS,
    scopeMessage: SCOPE_LOGS,
    paths: { resources: 'resourceLogs', scopes: 'scopeLogs', records: 'logRecords' },
    list: (batch) => batch.logs,
    record: logRecord,
  });
}

function logRecord(r: ProtoReader, end: number, ctx: LogContext): ReturnType<typeof buildLog> {
  const raw: RawLog = {
    timeMs: 0,
    observedMs: 0,
    severityNumber: 0,
    severityText: '',
    body: null,
    attributes: {},
    traceId: undefined,
    spanId: undefined,
    eventName: '',
  };
  let traceId = NO_BYTES;
  let spanId = NO_BYTES;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case T1_I64:
        r.fixed64(end);
        raw.timeMs = nanosToMs(r.lo, r.hi);
        break;
      case T2_VARINT:
        raw.severityNumber = r.int32(end);
        break;
      case T3_LEN:
        raw.severityText = r.string(end);
        break;
      case T5_LEN:
        raw.body = readAnyValue(r, r.lengthEnd(end), 0);
        break;
      case T6_LEN:
        readKeyValue(r, r.lengthEnd(end), raw.attributes, 0, false);
        break;
      case T9_LEN:
        traceId = r.bytes(end);
        break;
      case T10_LEN:
        spanId = r.bytes(end);
        break;
      case T11_I64:
        r.fixed64(end);
        raw.observedMs = nanosToMs(r.lo, r.hi);
        break;
      case T12_LEN:
        raw.eventName = r.string(end);
        break;
      default:
        r.skip(t, end, LOG_RECORD);
    }
  }
  // Checked after the whole record is read, so a wire-format error anywhere in it still fails the request.
  raw.traceId = idFromBytes(traceId, 16, 'traceId', 'trace id', false);
  raw.spanId = idFromBytes(spanId, 8, 'spanId', 'span id', false);
  return buildLog(ctx, raw);
}
