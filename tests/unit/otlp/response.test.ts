import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { encodeExportResponse, encodeStatus } from '../../../src/ingest/otlp/index.ts';

/** What the OTLP exporters themselves make of our response bodies. */
const CLIENT = {
  metrics: { protobuf: ProtobufMetricsSerializer, json: JsonMetricsSerializer, field: 'rejectedDataPoints' },
  logs: { protobuf: ProtobufLogsSerializer, json: JsonLogsSerializer, field: 'rejectedLogRecords' },
  traces: { protobuf: ProtobufTraceSerializer, json: JsonTraceSerializer, field: 'rejectedSpans' },
} as const;

describe.each(['metrics', 'logs', 'traces'] as const)('Export%sServiceResponse', (signal) => {
  const client = CLIENT[signal];

  it('is an empty message when nothing was rejected and there is nothing to say', () => {
    expect(encodeExportResponse(signal, 0, '', 'protobuf')).toEqual(new Uint8Array(0));
    expect(encodeExportResponse(signal, 0, '', 'json')).toBe('{}');
    expect(client.protobuf.deserializeResponse(encodeExportResponse(signal, 0, '', 'protobuf'))).toEqual({});
  });

  it('carries partial_success with the rejected count and message, read back by the SDK exporter', () => {
    const message = 'resourceSpans.0.scopeSpans.0.spans.3.traceId: trace id must be 16 bytes — ünïcödé';
    const pb = encodeExportResponse(signal, 3, message, 'protobuf');
    expect(client.protobuf.deserializeResponse(pb)).toEqual({ partialSuccess: { [client.field]: 3, errorMessage: message } });

    const json = encodeExportResponse(signal, 3, message, 'json');
    expect(JSON.parse(json)).toEqual({ partialSuccess: { [client.field]: '3', errorMessage: message } });
    expect(client.json.deserializeResponse(new TextEncoder().encode(json))).toEqual({ partialSuccess: { [client.field]: '3', errorMessage: message } });
  });

  it('can carry a warning without rejections, and counts beyond 32 bits', () => {
    expect(client.protobuf.deserializeResponse(encodeExportResponse(signal, 0, 'slow down', 'protobuf'))).toEqual({ partialSuccess: { errorMessage: 'slow down' } });
    expect(JSON.parse(encodeExportResponse(signal, 0, 'slow down', 'json'))).toEqual({ partialSuccess: { errorMessage: 'slow down' } });
    expect(client.protobuf.deserializeResponse(encodeExportResponse(signal, 2 ** 40 + 1, '', 'protobuf'))).toEqual({ partialSuccess: { [client.field]: 2 ** 40 + 1 } });
  });
});

describe('google.rpc.Status', () => {
  it('encodes code (field 1, int32) and message (field 2, string)', () => {
    expect(Array.from(encodeStatus(3, 'bad', 'protobuf'))).toEqual([0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]);
    expect(encodeStatus(0, '', 'protobuf')).toEqual(new Uint8Array(0));
    // A negative int32 is sign-extended to a 10-byte varint.
    expect(Array.from(encodeStatus(-1, '', 'protobuf'))).toEqual([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const long = 'x'.repeat(200);
    expect(Array.from(encodeStatus(14, long, 'protobuf').subarray(0, 5))).toEqual([0x08, 14, 0x12, 0xc8, 0x01]);
  });

  it('is {"code","message"} in JSON', () => {
    expect(JSON.parse(encodeStatus(8, 'Rate limit exceeded', 'json'))).toEqual({ code: 8, message: 'Rate limit exceeded' });
  });
});
