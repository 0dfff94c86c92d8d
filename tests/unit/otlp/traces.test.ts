import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import type { Span } from '../../../src/ingest/model.ts';
import { decodeOtlpTraces } from '../../../src/ingest/otlp/index.ts';
import { any, concat, hex, kv, pb, tracesRequest } from './pb.ts';
import { ENCODINGS, RESOURCE_ATTRIBUTES, hrToMs, recordSpans, serializeSpans } from './sdk.ts';

const LINKED_TRACE = '0af7651916cd43dd8448eb211c80319c';
const LINKED_SPAN = 'b7ad6b7169203331';
const SCOPE = { 'otel.scope.name': 'shop.tracer', 'otel.scope.version': '3.1.0' };

describe.each(ENCODINGS)('OTLP traces over %s, from the JS SDK', (enc) => {
  it('decodes parent and child spans with ids, kind, status, microsecond times, attributes, events, links, scope and resource', () => {
    const spans = recordSpans((tracer) => {
      const parent = tracer.startSpan('GET /orders', { kind: SpanKind.SERVER, startTime: [1_767_225_600, 1_234_567] });
      const child = tracer.startSpan(
        'SELECT orders',
        {
          kind: SpanKind.CLIENT,
          startTime: [1_767_225_600, 2_000_999],
          attributes: { 'db.system': 'postgresql', 'db.rows': 12, cached: false, tables: ['orders', 'users'] },
          links: [{ context: { traceId: LINKED_TRACE, spanId: LINKED_SPAN, traceFlags: 1 }, attributes: { 'link.kind': 'follows' } }],
        },
        trace.setSpan(ROOT_CONTEXT, parent),
      );
      child.addEvent('retry', { attempt: 2 }, [1_767_225_600, 3_000_001]);
      child.addEvent('done', undefined, [1_767_225_600, 999_999_999]);
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'connection reset' });
      child.end([1_767_225_601, 0]);
      parent.setStatus({ code: SpanStatusCode.OK });
      parent.end([1_767_225_602, 500]);
    });
    const [child, parent] = spans;
    const batch = decodeOtlpTraces(serializeSpans(spans, enc), enc);
    expect(batch.errors).toEqual([]);
    expect(batch.spans).toEqual<Span[]>([
      {
        traceId: child!.spanContext().traceId,
        spanId: child!.spanContext().spanId,
        parentSpanId: parent!.spanContext().spanId,
        name: 'SELECT orders',
        service: 'checkout',
        start: 1_767_225_600_002.0,
        end: 1_767_225_601_000,
        status: 'error',
        statusMessage: 'connection reset',
        kind: 'client',
        attributes: { 'db.system': 'postgresql', 'db.rows': 12, cached: false, tables: ['orders', 'users'], ...SCOPE },
        resource: RESOURCE_ATTRIBUTES,
        events: [
          { name: 'retry', timestamp: 1_767_225_600_003.0, attributes: { attempt: 2 } },
          { name: 'done', timestamp: 1_767_225_600_999.999, attributes: {} },
        ],
        links: [{ traceId: LINKED_TRACE, spanId: LINKED_SPAN, attributes: { 'link.kind': 'follows' } }],
      },
      {
        traceId: parent!.spanContext().traceId,
        spanId: parent!.spanContext().spanId,
        name: 'GET /orders',
        service: 'checkout',
        start: 1_767_225_600_001.234,
        end: 1_767_225_602_000.0,
        status: 'ok',
        kind: 'server',
        attributes: SCOPE,
        resource: RESOURCE_ATTRIBUTES,
        events: [],
        links: [],
      },
    ]);
    expect(batch.spans[0]!.start).toBe(hrToMs([1_767_225_600, 2_000_999]));
    expect(batch.spans[0]!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(batch.origins?.get(batch.spans[1]!)).toEqual({ index: 1, field: 'resourceSpans.0.scopeSpans.0.spans.1' });
  });

  it.each([
    [SpanKind.INTERNAL, 'internal'],
    [SpanKind.SERVER, 'server'],
    [SpanKind.CLIENT, 'client'],
    [SpanKind.PRODUCER, 'producer'],
    [SpanKind.CONSUMER, 'consumer'],
  ] as const)('maps span kind %s to %s', (kind, expected) => {
    const spans = recordSpans((tracer) => tracer.startSpan('s', { kind }).end());
    const [s] = decodeOtlpTraces(serializeSpans(spans, enc), enc).spans;
    expect(s!.kind).toBe(expected);
    expect(s!.status).toBe('unset');
    expect(s!.statusMessage).toBeUndefined();
    expect(s!.parentSpanId).toBeUndefined();
  });
});

// ---- hand-built payloads ----------------------------------------------------------------------

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const START = 1_767_225_600_000_000_000n;
const END = START + 1_500_000n;

function pbSpan(o: { traceId?: Uint8Array; spanId?: Uint8Array; parent?: Uint8Array; name?: string; kind?: number; start?: bigint; end?: bigint; status?: number; extra?: Uint8Array[] }): Uint8Array {
  return concat(
    pb.bytes(1, o.traceId ?? hex(TRACE)),
    pb.bytes(2, o.spanId ?? hex(SPAN)),
    ...(o.parent ? [pb.bytes(4, o.parent)] : []),
    ...(o.name === undefined ? [pb.string(5, 's')] : o.name === '' ? [] : [pb.string(5, o.name)]),
    ...(o.kind !== undefined ? [pb.varint(6, o.kind)] : []),
    ...(o.start !== 0n ? [pb.fixed64(7, o.start ?? START)] : []),
    ...(o.end !== 0n ? [pb.fixed64(8, o.end ?? END)] : []),
    ...(o.status !== undefined ? [pb.message(15, pb.varint(3, o.status))] : []),
    ...(o.extra ?? []),
  );
}

function jsonSpan(o: Record<string, unknown>): Record<string, unknown> {
  return { traceId: TRACE, spanId: SPAN, name: 's', startTimeUnixNano: String(START), endTimeUnixNano: String(END), ...o };
}

function jsonTraces(spans: unknown[]): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] }, scopeSpans: [{ spans }] }] }),
  );
}

describe.each(ENCODINGS)('hand-built OTLP spans over %s', (enc) => {
  it('rejects bad ids, a missing name, missing times, an end before the start and an event without time; keeps the rest', () => {
    const bodies = {
      protobuf: tracesRequest(
        { 'service.name': 'api' },
        pbSpan({ traceId: hex(TRACE).subarray(0, 15) }),
        pbSpan({ traceId: new Uint8Array(16) }),
        pbSpan({ spanId: new Uint8Array(8) }),
        pbSpan({ spanId: new Uint8Array(0) }),
        pbSpan({ name: '' }),
        pbSpan({ start: 0n }),
        pbSpan({ end: START - 1000n }),
        pbSpan({ extra: [pb.message(11, pb.string(2, 'no time'))] }),
        pbSpan({ extra: [pb.message(13, pb.bytes(1, hex(TRACE)), pb.bytes(2, hex(SPAN).subarray(1)))] }),
        pbSpan({ parent: new Uint8Array(8), kind: 9, status: 7, extra: [pb.bytes(9, kv('k', any.int(-5)))] }),
      ),
      json: jsonTraces([
        jsonSpan({ traceId: TRACE.slice(2) }),
        jsonSpan({ traceId: '0'.repeat(32) }),
        jsonSpan({ spanId: '0'.repeat(16) }),
        jsonSpan({ spanId: undefined }),
        jsonSpan({ name: '' }),
        jsonSpan({ startTimeUnixNano: undefined }),
        jsonSpan({ endTimeUnixNano: String(START - 1000n) }),
        jsonSpan({ events: [{ name: 'no time' }] }),
        jsonSpan({ links: [{ traceId: TRACE, spanId: SPAN.slice(2) }] }),
        jsonSpan({ parentSpanId: '0'.repeat(16), kind: 9, status: { code: 7 }, attributes: [{ key: 'k', value: { intValue: '-5' } }] }),
      ]),
    };
    const batch = decodeOtlpTraces(bodies[enc], enc);
    const s = 'resourceSpans.0.scopeSpans.0.spans';
    expect(batch.errors.map((e) => [e.index, e.field, e.message.replace(/ \(.*|, got.*| hex characters.*/, '')])).toEqual([
      [0, `${s}.0.traceId`, expect.stringMatching(/^trace id must be (16 bytes|32)$/)],
      [1, `${s}.1.traceId`, 'trace id must not be all zero'],
      [2, `${s}.2.spanId`, 'span id must not be all zero'],
      [3, `${s}.3.spanId`, 'span id is missing'],
      [4, `${s}.4.name`, 'span name is missing'],
      [5, `${s}.5.startTimeUnixNano`, 'start time missing'],
      [6, `${s}.6.endTimeUnixNano`, 'end time is before start time'],
      [7, `${s}.7.events.0.timeUnixNano`, 'event timestamp missing'],
      [8, `${s}.8.links.0.spanId`, expect.stringMatching(/^link span id must be (8 bytes|16)$/)],
    ]);
    expect(batch.spans).toEqual([
      {
        traceId: TRACE,
        spanId: SPAN,
        name: 's',
        service: 'api',
        start: 1_767_225_600_000,
        end: 1_767_225_600_001.5,
        status: 'unset',
        kind: 'unspecified',
        attributes: { k: -5 },
        resource: { 'service.name': 'api' },
        events: [],
        links: [],
      },
    ]);
    expect(batch.origins?.get(batch.spans[0]!)).toEqual({ index: 9, field: `${s}.9` });
  });
});

describe.each(ENCODINGS)('several resources and scopes over %s', (enc) => {
  it('numbers spans across the whole request and gives each its own resource, service and scope', () => {
    const bodies = {
      protobuf: concat(
        pb.message(1, pb.message(1, pb.bytes(1, kv('service.name', any.str('a')))), pb.message(2, pb.message(1, pb.string(1, 'x')), pb.bytes(2, pbSpan({ name: 'a1' })), pb.bytes(2, pbSpan({ name: '' })))),
        pb.message(
          1,
          pb.message(1, pb.bytes(1, kv('service.name', any.str('b')))),
          pb.message(2, pb.bytes(2, pbSpan({ name: 'b1' }))),
          pb.message(2, pb.message(1, pb.string(1, 'y'), pb.string(2, '2')), pb.bytes(2, pbSpan({ name: 'b2' }))),
        ),
      ),
      json: new TextEncoder().encode(
        JSON.stringify({
          resourceSpans: [
            { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'a' } }] }, scopeSpans: [{ scope: { name: 'x' }, spans: [jsonSpan({ name: 'a1' }), jsonSpan({ name: '' })] }] },
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'b' } }] },
              scopeSpans: [{ spans: [jsonSpan({ name: 'b1' })] }, { scope: { name: 'y', version: '2' }, spans: [jsonSpan({ name: 'b2' })] }],
            },
          ],
        }),
      ),
    };
    const batch = decodeOtlpTraces(bodies[enc], enc);
    expect(batch.errors).toEqual([{ index: 1, field: 'resourceSpans.0.scopeSpans.0.spans.1.name', message: 'span name is missing' }]);
    expect(batch.spans.map((s) => [s.name, s.service, s.attributes])).toEqual([
      ['a1', 'a', { 'otel.scope.name': 'x' }],
      ['b1', 'b', {}],
      ['b2', 'b', { 'otel.scope.name': 'y', 'otel.scope.version': '2' }],
    ]);
    expect(batch.spans.map((s) => batch.origins?.get(s))).toEqual([
      { index: 0, field: 'resourceSpans.0.scopeSpans.0.spans.0' },
      { index: 2, field: 'resourceSpans.1.scopeSpans.0.spans.0' },
      { index: 3, field: 'resourceSpans.1.scopeSpans.1.spans.0' },
    ]);
  });
});

describe('OTLP/JSON span specifics', () => {
  it('normalises upper-case hex ids to lowercase', () => {
    const batch = decodeOtlpTraces(
      jsonTraces([jsonSpan({ traceId: TRACE.toUpperCase(), spanId: SPAN.toUpperCase(), parentSpanId: 'ABCDEF0123456789', links: [{ traceId: LINKED_TRACE.toUpperCase(), spanId: LINKED_SPAN.toUpperCase() }] })]),
      'json',
    );
    expect(batch.errors).toEqual([]);
    const [span] = batch.spans;
    expect([span!.traceId, span!.spanId, span!.parentSpanId, span!.links[0]!.traceId, span!.links[0]!.spanId]).toEqual([
      TRACE,
      SPAN,
      'abcdef0123456789',
      LINKED_TRACE,
      LINKED_SPAN,
    ]);
  });
});
