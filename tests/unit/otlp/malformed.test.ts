import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { AggregationType } from '@opentelemetry/sdk-metrics';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DecodedBatch } from '../../../src/ingest/model.ts';
import { OtlpDecodeError, decodeOtlpLogs, decodeOtlpMetrics, decodeOtlpTraces } from '../../../src/ingest/otlp/index.ts';
import { any, concat, hex, key, kv, logsRequest, metricsRequest, pb, rawVarint, tracesRequest } from './pb.ts';
import { type Encoding, recordLogs, recordMetrics, recordSpans, serializeLogs, serializeMetrics, serializeSpans } from './sdk.ts';

type Decoder = (body: Uint8Array, enc: Encoding) => DecodedBatch;
const DECODERS: [string, Decoder][] = [
  ['metrics', decodeOtlpMetrics],
  ['logs', decodeOtlpLogs],
  ['traces', decodeOtlpTraces],
];

/** Runs a decode that must either succeed or throw OtlpDecodeError; returns the error, if any. */
function decodeSafely(decode: Decoder, body: Uint8Array, enc: Encoding): OtlpDecodeError | undefined {
  try {
    decode(body, enc);
    return undefined;
  } catch (e) {
    if (!(e instanceof OtlpDecodeError)) throw new Error(`non-OtlpDecodeError for ${enc} body of ${body.length} bytes: ${String(e)}`, { cause: e });
    return e;
  }
}

function expectDecodeError(run: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OtlpDecodeError);
  expect((error as Error).message).toMatch(message);
}

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const payloads: Record<string, Record<Encoding, Uint8Array>> = {};

beforeAll(async () => {
  const rm = await recordMetrics(
    (meter) => {
      meter.createGauge('g', { unit: 'Cel' }).record(1.5, { room: 'a', deep: JSON.stringify({ x: 1 }) });
      meter.createCounter('c').add(3, { route: '/a' });
      meter.createUpDownCounter('u').add(-2);
      meter.createHistogram('h').record(12);
      meter.createHistogram('e').record(7);
    },
    { views: [{ instrumentName: 'e', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }] },
  );
  const logs = recordLogs((logger) => {
    logger.emit({
      severityNumber: SeverityNumber.ERROR,
      body: { msg: 'boom', list: [1, 'two', { three: 3 }] },
      attributes: { a: 1, b: 'two', c: [true, 2.5], raw: new Uint8Array([1, 2, 3]) },
      eventName: 'e',
      context: trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }),
    });
    logger.emit({ body: 'second' });
  });
  const spans = recordSpans((tracer) => {
    const p = tracer.startSpan('parent', { kind: SpanKind.SERVER, attributes: { 'http.route': '/x', n: 1 } });
    const c = tracer.startSpan('child', { links: [{ context: p.spanContext(), attributes: { l: true } }] }, trace.setSpan(ROOT_CONTEXT, p));
    c.addEvent('ev', { k: 'v' });
    c.end();
    p.end();
  });
  for (const enc of ['protobuf', 'json'] as const) {
    payloads.metrics = { ...payloads.metrics!, [enc]: serializeMetrics(rm, enc) };
    payloads.logs = { ...payloads.logs!, [enc]: serializeLogs(logs, enc) };
    payloads.traces = { ...payloads.traces!, [enc]: serializeSpans(spans, enc) };
  }
});

describe.each(DECODERS)('malformed OTLP %s requests', (signal, decode) => {
  it('the untouched real payloads decode without errors', () => {
    for (const enc of ['protobuf', 'json'] as const) {
      const batch = decode(payloads[signal]![enc], enc);
      expect(batch.errors).toEqual([]);
      expect(batch.metrics.length + batch.logs.length + batch.spans.length).toBeGreaterThan(1);
    }
  });

  it.each(['protobuf', 'json'] as const)('every truncation of a real %s payload decodes or throws OtlpDecodeError', (enc) => {
    const body = payloads[signal]![enc];
    let errors = 0;
    for (let n = 0; n < body.length; n++) if (decodeSafely(decode, body.subarray(0, n), enc)) errors++;
    // Most prefixes cut a field short; a few end on a field boundary and are valid, shorter requests.
    expect(errors).toBeGreaterThan(body.length / 2);
  });

  it('random bytes and random mutations of a real payload decode or throw OtlpDecodeError', () => {
    const rand = prng(signal.length * 7919);
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(Math.floor(rand() * 300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      decodeSafely(decode, bytes, 'protobuf');
      decodeSafely(decode, bytes, 'json');
    }
    for (const enc of ['protobuf', 'json'] as const) {
      const real = payloads[signal]![enc];
      for (let i = 0; i < 2000; i++) {
        const bytes = real.slice();
        const flips = 1 + Math.floor(rand() * 3);
        for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
        decodeSafely(decode, bytes, enc);
      }
    }
  });

  it('rejects invalid JSON and a JSON body that is not an object', () => {
    expectDecodeError(() => decode(new TextEncoder().encode('{"resource'), 'json'), /^invalid JSON/);
    expectDecodeError(() => decode(new TextEncoder().encode('[]'), 'json'), /must be an object/);
    expectDecodeError(() => decode(Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d), 'json'), /invalid UTF-8 in the JSON body/);
  });

  it('rejects JSON nested deeper than the cap before parsing it', () => {
    const deep = new TextEncoder().encode(`{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expectDecodeError(() => decode(deep, 'json'), /JSON nested deeper than 320 levels/);
    // Brackets inside strings do not count.
    expect(() => decode(new TextEncoder().encode(`{"x":"${'['.repeat(1000)}\\"["}`), 'json')).not.toThrow();
  });

  it('rejects a huge declared length, an over-long varint, field number 0 and invalid wire types', () => {
    expectDecodeError(() => decode(concat(key(1, 2), rawVarint(0xffff_ffff)), 'protobuf'), /truncated length-delimited field at byte 1: declares 4294967295 bytes, 0 remain/);
    expectDecodeError(() => decode(concat(key(1, 2), rawVarint(2n ** 40n), new Uint8Array(10)), 'protobuf'), /declares more than 4 GiB/);
    expectDecodeError(() => decode(concat(key(9, 0), new Uint8Array(11).fill(0x80)), 'protobuf'), /varint longer than 10 bytes at byte 1/);
    expectDecodeError(() => decode(concat(key(9, 0), Uint8Array.of(0x80, 0x80)), 'protobuf'), /truncated varint at byte 1/);
    expectDecodeError(() => decode(Uint8Array.of(0x00, 0x01), 'protobuf'), /invalid field number/);
    expectDecodeError(() => decode(Uint8Array.of((9 << 3) | 6), 'protobuf'), /invalid wire type 6 at byte 0/);
    expectDecodeError(() => decode(Uint8Array.of((9 << 3) | 4), 'protobuf'), /unexpected end-group at byte 0/);
    expectDecodeError(() => decode(concat(key(9, 1), new Uint8Array(7)), 'protobuf'), /truncated fixed64 field at byte 1/);
    expectDecodeError(() => decode(concat(key(9, 5), new Uint8Array(3)), 'protobuf'), /truncated fixed32 field at byte 1/);
    expectDecodeError(() => decode(concat(key(9, 3), pb.varint(1, 1)), 'protobuf'), /unterminated group at byte 0/);
    expectDecodeError(() => decode(concat(key(9, 3), key(8, 4)), 'protobuf'), /mismatched end-group/);
  });

  it('rejects a known field sent with the wrong wire type', () => {
    const field = signal === 'metrics' ? 'resource_metrics' : signal === 'logs' ? 'resource_logs' : 'resource_spans';
    expectDecodeError(() => decode(pb.varint(1, 5), 'protobuf'), new RegExp(`field 1 \\(${field}\\) of Export\\w+ServiceRequest has wire type varint, expected length-delimited, at byte 0`));
  });
});

describe('malformed fields inside items', () => {
  const span = (...extra: Uint8Array[]) => tracesRequest({ 'service.name': 'api' }, concat(pb.bytes(1, hex('4bf92f3577b34da6a3ce929d0e0e4736')), pb.bytes(2, hex('00f067aa0ba902b7')), pb.fixed64(7, 10n ** 18n), pb.fixed64(8, 10n ** 18n + 1000n), ...extra));

  it('fails the whole request on a wrong wire type deep inside an item (not just the item)', () => {
    expectDecodeError(() => decodeOtlpTraces(span(pb.varint(5, 3)), 'protobuf'), /field 5 \(name\) of Span has wire type varint, expected length-delimited/);
    expectDecodeError(() => decodeOtlpTraces(span(pb.string(7, 'x')), 'protobuf'), /field 7 \(start_time_unix_nano\) of Span has wire type length-delimited, expected fixed64/);
    expectDecodeError(
      () => decodeOtlpMetrics(metricsRequest({}, concat(pb.string(1, 'g'), pb.message(5, pb.message(1, pb.varint(3, 5))))), 'protobuf'),
      /field 3 \(time_unix_nano\) of NumberDataPoint has wire type varint, expected fixed64/,
    );
    expectDecodeError(() => decodeOtlpLogs(logsRequest({}, pb.bytes(5, pb.varint(1, 1))), 'protobuf'), /field 1 \(string_value\) of AnyValue has wire type varint/);
    expectDecodeError(
      () => decodeOtlpMetrics(metricsRequest({}, concat(pb.string(1, 'h'), pb.message(9, pb.message(1, pb.bytes(6, new Uint8Array(12)))))), 'protobuf'),
      /packed fixed64 field of 12 bytes \(not a multiple of 8\)/,
    );
  });

  it('skips unknown fields of every wire type, including groups', () => {
    const unknown = [pb.varint(99, 2n ** 63n), pb.fixed64(98, 1n), pb.string(97, 'new'), pb.fixed32(96, 7), concat(key(95, 3), pb.varint(1, 1), key(94, 3), key(94, 4), key(95, 4))];
    const batch = decodeOtlpTraces(span(pb.string(5, 's'), ...unknown), 'protobuf');
    expect(batch.errors).toEqual([]);
    expect(batch.spans).toHaveLength(1);
  });

  it.each([
    ['a short invalid sequence', Uint8Array.of(0xff, 0xfe)],
    ['an overlong encoding', Uint8Array.of(0x61, 0xc0, 0xaf)],
    ['a lone surrogate', Uint8Array.of(0xed, 0xa0, 0x80)],
    ['a truncated sequence after 30 ASCII bytes', concat(new TextEncoder().encode('a'.repeat(30)), Uint8Array.of(0xe2, 0x82))],
  ])('rejects invalid UTF-8 in a string field: %s', (_, bytes) => {
    expectDecodeError(() => decodeOtlpTraces(span(pb.bytes(5, bytes)), 'protobuf'), /invalid UTF-8 in a string field at byte \d+/);
    expectDecodeError(() => decodeOtlpLogs(logsRequest({}, pb.bytes(6, concat(pb.bytes(1, bytes), pb.bytes(2, any.int(1))))), 'protobuf'), /invalid UTF-8 in a string field/);
  });

  it('accepts valid multi-byte UTF-8', () => {
    const name = 'zahlung → bestätigt ✓ 🎉';
    expect(decodeOtlpTraces(span(pb.string(5, name)), 'protobuf').spans[0]!.name).toBe(name);
  });

  function nestedKvlist(levels: number): Uint8Array {
    let v = any.str('bottom');
    for (let i = 0; i < levels; i++) v = any.kvlist(kv('k', v));
    return v;
  }
  function nestedJson(levels: number): unknown {
    let v: unknown = { stringValue: 'bottom' };
    for (let i = 0; i < levels; i++) v = { kvlistValue: { values: [{ key: 'k', value: v }] } };
    return v;
  }
  const jsonLog = (value: unknown) =>
    new TextEncoder().encode(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1000000000000000000', attributes: [{ key: 'a', value }] }] }] }] }));

  it('caps AnyValue nesting at 64 levels in both encodings', () => {
    const ok = decodeOtlpLogs(logsRequest({}, concat(pb.fixed64(1, 10n ** 18n), pb.bytes(6, kv('a', nestedKvlist(64))))), 'protobuf');
    let v: unknown = ok.logs[0]!.attributes.a;
    for (let i = 0; i < 64; i++) v = (v as Record<string, unknown>).k;
    expect(v).toBe('bottom');
    expectDecodeError(() => decodeOtlpLogs(logsRequest({}, pb.bytes(6, kv('a', nestedKvlist(65)))), 'protobuf'), /AnyValue nested deeper than 64 levels/);
    expectDecodeError(() => decodeOtlpLogs(logsRequest({}, pb.bytes(6, kv('a', nestedKvlist(1000)))), 'protobuf'), /AnyValue nested deeper than 64 levels/);
    let arr = any.int(1);
    for (let i = 0; i < 64; i++) arr = any.array(arr);
    expect(decodeOtlpLogs(logsRequest({}, concat(pb.fixed64(1, 10n ** 18n), pb.bytes(5, arr))), 'protobuf').logs[0]!.message).toBe(`${'['.repeat(64)}1${']'.repeat(64)}`);
    expectDecodeError(() => decodeOtlpLogs(logsRequest({}, pb.bytes(5, any.array(arr))), 'protobuf'), /AnyValue nested deeper than 64 levels/);

    expect(decodeOtlpLogs(jsonLog(nestedJson(64)), 'json').errors).toEqual([]);
    expectDecodeError(() => decodeOtlpLogs(jsonLog(nestedJson(65)), 'json'), /AnyValue nested deeper than 64 levels at attributes.0.value/);
  });
});

describe('prototype pollution', () => {
  it.each(['protobuf', 'json'] as const)('keeps "__proto__" and "constructor" attribute keys as plain data over %s', (enc) => {
    const evil = { polluted: 'yes' };
    const body =
      enc === 'protobuf'
        ? tracesRequest(
            { 'service.name': 'api', ['__proto__']: 'resource-level' },
            concat(
              pb.bytes(1, hex('4bf92f3577b34da6a3ce929d0e0e4736')),
              pb.bytes(2, hex('00f067aa0ba902b7')),
              pb.string(5, 's'),
              pb.fixed64(7, 10n ** 18n),
              pb.fixed64(8, 10n ** 18n + 1000n),
              pb.bytes(9, kv('__proto__', any.kvlist(kv('polluted', any.str('yes'))))),
              pb.bytes(9, kv('constructor', any.kvlist(kv('prototype', any.kvlist(kv('polluted', any.str('yes'))))))),
            ),
          )
        : new TextEncoder().encode(
            JSON.stringify({
              resourceSpans: [
                {
                  resource: { attributes: [{ key: '__proto__', value: { stringValue: 'resource-level' } }] },
                  scopeSpans: [
                    {
                      spans: [
                        {
                          traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
                          spanId: '00f067aa0ba902b7',
                          name: 's',
                          startTimeUnixNano: '1000000000000000000',
                          endTimeUnixNano: '1000000000000001000',
                          attributes: [
                            { key: '__proto__', value: { kvlistValue: { values: [{ key: 'polluted', value: { stringValue: 'yes' } }] } } },
                            { key: 'constructor', value: { kvlistValue: { values: [{ key: 'prototype', value: { kvlistValue: { values: [{ key: 'polluted', value: { stringValue: 'yes' } }] } } }] } } },
                          ],
                        },
                      ],
                    },
                  ],
                },
              ],
            }),
          );
    const [span] = decodeOtlpTraces(body, enc).spans;
    const attrs = span!.attributes;
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.hasOwn(attrs, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(attrs, '__proto__')!.value).toEqual(evil);
    expect(Object.hasOwn(attrs, 'constructor')).toBe(true);
    expect(attrs.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(JSON.stringify(attrs)).toBe('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}');
    expect(Object.hasOwn(span!.resource!, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(span!.resource)).toBe(Object.prototype);
  });

  it('keeps "__proto__" as an own tag key on metric points (the caller rejects it by name)', () => {
    const body = metricsRequest(
      { 'service.name': 'api' },
      concat(pb.string(1, 'g'), pb.message(5, pb.message(1, pb.fixed64(3, 10n ** 18n), pb.double(4, 1), pb.bytes(7, kv('__proto__', any.str('x')))))),
    );
    const [p] = decodeOtlpMetrics(body, 'protobuf').metrics;
    expect(Object.getPrototypeOf(p!.tags)).toBe(Object.prototype);
    expect(Object.keys(p!.tags)).toEqual(['service.name', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(p!.tags, '__proto__')!.value).toBe('x');
  });
});
