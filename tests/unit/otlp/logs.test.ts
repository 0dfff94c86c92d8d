import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../src/ingest/model.ts';
import { decodeOtlpLogs } from '../../../src/ingest/otlp/index.ts';
import { any, concat, hex, kv, logsRequest, pb } from './pb.ts';
import { ENCODINGS, type Encoding, RESOURCE_ATTRIBUTES, recordLogs, serializeLogs } from './sdk.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const SCOPE = { 'otel.scope.name': 'shop.logger', 'otel.scope.version': '0.9.0' };

function decodeSdk(enc: Encoding, emit: Parameters<typeof recordLogs>[0], resource?: Record<string, string | number>): LogRecord[] {
  const batch = decodeOtlpLogs(serializeLogs(recordLogs(emit, resource), enc), enc);
  expect(batch.errors).toEqual([]);
  return batch.logs;
}

describe.each(ENCODINGS)('OTLP logs over %s, from the JS SDK', (enc) => {
  it('decodes a record with its timestamp (to the microsecond), level, message, attributes, trace context, event name, scope and resource', () => {
    const [log] = decodeSdk(enc, (logger) =>
      logger.emit({
        timestamp: [1_767_225_600, 123_456_789],
        severityNumber: SeverityNumber.WARN2,
        severityText: 'WARN',
        body: 'disk almost full',
        eventName: 'disk.low',
        attributes: {
          'disk.free': 1024,
          ratio: 0.02,
          critical: false,
          mounts: ['/', '/var'],
          labels: { team: 'storage', tier: 1 },
          raw: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
        },
        context: trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 }),
      }),
    );
    expect(log).toEqual({
      timestamp: 1_767_225_600_123.456,
      level: 'warn',
      severityNumber: 14,
      message: 'disk almost full',
      service: 'checkout',
      attributes: {
        'disk.free': 1024,
        ratio: 0.02,
        critical: false,
        mounts: ['/', '/var'],
        labels: { team: 'storage', tier: 1 },
        raw: '3q2+7w==',
        'event.name': 'disk.low',
        ...SCOPE,
      },
      resource: RESOURCE_ATTRIBUTES,
      traceId: TRACE_ID,
      spanId: SPAN_ID,
    });
  });

  it.each([
    [SeverityNumber.TRACE, undefined, 'trace', 1],
    [SeverityNumber.TRACE4, undefined, 'trace', 4],
    [SeverityNumber.DEBUG, undefined, 'debug', 5],
    [SeverityNumber.INFO3, 'ignored when the number is set', 'info', 11],
    [SeverityNumber.WARN, undefined, 'warn', 13],
    [SeverityNumber.ERROR4, 'INFO', 'error', 20],
    [SeverityNumber.FATAL, undefined, 'fatal', 21],
    [SeverityNumber.FATAL4, undefined, 'fatal', 24],
    [undefined, 'Warning', 'warn', undefined],
    [undefined, 'CRITICAL', 'fatal', undefined],
    [undefined, 'error', 'error', undefined],
    [undefined, 'dEbUg', 'debug', undefined],
    [undefined, 'notice', 'info', undefined],
    [undefined, undefined, 'info', undefined],
  ] as const)('severity %s / text %s -> level %s', (severityNumber, severityText, level, kept) => {
    const [log] = decodeSdk(enc, (logger) => logger.emit({ severityNumber, severityText, body: 'x' }));
    expect(log!.level).toBe(level);
    expect(log!.severityNumber).toBe(kept);
  });

  it.each([
    ['a string as is', 'plain text', 'plain text'],
    ['an int as JSON', 42, '42'],
    ['a double as JSON', 1.5, '1.5'],
    ['a boolean as JSON', true, 'true'],
    ['a map as JSON', { user: 'ada', n: 2 }, '{"user":"ada","n":2}'],
    ['an array as JSON', ['a', 1], '["a",1]'],
    ['bytes as base64', new Uint8Array([1, 2, 3]), 'AQID'],
  ])('turns a body of %s into the message', (_, body, message) => {
    const [log] = decodeSdk(enc, (logger) => logger.emit({ body }));
    expect(log!.message).toBe(message);
  });

  it('treats a record without body, trace context or resource service as such', () => {
    const [log] = decodeSdk(enc, (logger) => logger.emit({ timestamp: [1_700_000_000, 0] }), { 'host.name': 'h' });
    expect(log).toEqual({
      timestamp: 1_700_000_000_000,
      level: 'info',
      message: '',
      service: 'unknown_service',
      attributes: SCOPE,
      resource: { 'host.name': 'h' },
    });
  });
});

// ---- hand-built payloads ----------------------------------------------------------------------

const NS = 1_767_225_600_123_456_789n;

function json(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}

function jsonLogs(records: unknown[]): Uint8Array {
  return json({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'mailer' } }] },
        scopeLogs: [{ scope: { name: 'm' }, logRecords: records }],
      },
    ],
  });
}

describe.each(ENCODINGS)('hand-built OTLP logs over %s', (enc) => {
  it('falls back to the observed time, rejects records without any time or with bad ids, and keeps going', () => {
    const bodies = {
      protobuf: logsRequest(
        { 'service.name': 'mailer' },
        concat(pb.fixed64(11, NS), pb.bytes(5, any.str('observed only'))),
        pb.bytes(5, any.str('no time at all')),
        concat(pb.fixed64(1, NS), pb.bytes(9, hex(TRACE_ID).subarray(1)), pb.bytes(5, any.str('short trace id'))),
        concat(pb.fixed64(1, NS), pb.bytes(9, new Uint8Array(16)), pb.bytes(10, new Uint8Array(8)), pb.bytes(5, any.str('zero ids mean none'))),
        concat(pb.fixed64(1, NS), pb.bytes(10, hex(SPAN_ID + 'ff')), pb.bytes(5, any.str('long span id'))),
        concat(pb.fixed64(1, NS), pb.varint(2, 30), pb.string(3, 'ERROR'), pb.string(12, 'mail.sent'), pb.bytes(6, kv('event.name', any.str('overridden')))),
      ),
      json: jsonLogs([
        { observedTimeUnixNano: String(NS), body: { stringValue: 'observed only' } },
        { body: { stringValue: 'no time at all' } },
        { timeUnixNano: String(NS), traceId: TRACE_ID.slice(2), body: { stringValue: 'short trace id' } },
        { timeUnixNano: String(NS), traceId: '0'.repeat(32), spanId: '', body: { stringValue: 'zero ids mean none' } },
        { timeUnixNano: String(NS), spanId: SPAN_ID + 'ff', body: { stringValue: 'long span id' } },
        { timeUnixNano: String(NS), severityNumber: 30, severityText: 'ERROR', eventName: 'mail.sent', attributes: [{ key: 'event.name', value: { stringValue: 'overridden' } }] },
      ]),
    };
    const batch = decodeOtlpLogs(bodies[enc], enc);
    const r = 'resourceLogs.0.scopeLogs.0.logRecords';
    expect(batch.errors).toEqual([
      { index: 1, field: `${r}.1.timeUnixNano`, message: expect.stringContaining('timestamp missing') },
      { index: 2, field: `${r}.2.traceId`, message: expect.stringMatching(/^trace id must be (16 bytes|32 hex characters)/) },
      { index: 4, field: `${r}.4.spanId`, message: expect.stringMatching(/^span id must be (8 bytes|16 hex characters)/) },
    ]);
    expect(batch.logs.map((l) => [l.timestamp, l.message, l.level, l.severityNumber, l.traceId, l.spanId, l.attributes['event.name']])).toEqual([
      [1_767_225_600_123.456, 'observed only', 'info', undefined, undefined, undefined, undefined],
      [1_767_225_600_123.456, 'zero ids mean none', 'info', undefined, undefined, undefined, undefined],
      [1_767_225_600_123.456, '', 'error', undefined, undefined, undefined, 'mail.sent'],
    ]);
    expect(batch.logs[0]!.service).toBe('mailer');
    expect(batch.origins?.get(batch.logs[1]!)).toEqual({ index: 3, field: `${r}.3` });
  });
});

describe('OTLP/JSON log specifics', () => {
  it('accepts hex ids in any case and normalises them to lowercase; rejects non-hex ids', () => {
    const batch = decodeOtlpLogs(
      jsonLogs([
        { timeUnixNano: String(NS), traceId: TRACE_ID.toUpperCase(), spanId: 'B7AD6B7169203331' },
        { timeUnixNano: String(NS), traceId: 'zz' + TRACE_ID.slice(2) },
        { timeUnixNano: String(NS), traceId: 42 },
        { timeUnixNano: String(NS), traceId: 'CvdlGRbNQ92ESOshHIAxnA==' }, // base64 (proto3 JSON), not OTLP's hex
      ]),
      'json',
    );
    expect(batch.logs.map((l) => [l.traceId, l.spanId])).toEqual([[TRACE_ID, SPAN_ID]]);
    expect(batch.errors.map((e) => [e.index, e.field.split('.').slice(-1)[0], e.message])).toEqual([
      [1, 'traceId', 'trace id must be a hex string'],
      [2, 'traceId', 'trace id must be a hex string'],
      [3, 'traceId', 'trace id must be a hex string'],
    ]);
  });
});
