import type { DecodedBatch, Span, SpanEvent, SpanLink } from '../model.ts';
import { idFromBytes, nanosToMs } from './convert.ts';
import { decodeEnvelope, readKeyValue } from './protobuf-common.ts';
import { type SpanContext, buildSpan } from './traces.ts';
import { ProtoReader, WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT, messageSpec, tagOf } from './wire.ts';

/** ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1, trace/v1) in protobuf. */

const REQUEST = messageSpec('ExportTraceServiceRequest', { 1: ['resource_spans', WIRE_LEN] });
const RESOURCE_SPANS = messageSpec('ResourceSpans', {
  1: ['resource', WIRE_LEN],
  2: ['scope_spans', WIRE_LEN],
  3: ['schema_url', WIRE_LEN],
});
const SCOPE_SPANS = messageSpec('ScopeSpans', {
  1: ['scope', WIRE_LEN],
  2: ['spans', WIRE_LEN],
  3: ['schema_url', WIRE_LEN],
});
const SPAN = messageSpec('Span', {
  1: ['trace_id', WIRE_LEN],
  2: ['span_id', WIRE_LEN],
  3: ['trace_state', WIRE_LEN],
  4: ['parent_span_id', WIRE_LEN],
  5: ['name', WIRE_LEN],
  6: ['kind', WIRE_VARINT],
  7: ['start_time_unix_nano', WIRE_I64],
  8: ['end_time_unix_nano', WIRE_I64],
  9: ['attributes', WIRE_LEN],
  10: ['dropped_attributes_count', WIRE_VARINT],
  11: ['events', WIRE_LEN],
  12: ['dropped_events_count', WIRE_VARINT],
  13: ['links', WIRE_LEN],
  14: ['dropped_links_count', WIRE_VARINT],
  15: ['status', WIRE_LEN],
  16: ['flags', WIRE_I32],
});
const EVENT = messageSpec('Span.Event', {
  1: ['time_unix_nano', WIRE_I64],
  2: ['name', WIRE_LEN],
  3: ['attributes', WIRE_LEN],
  4: ['dropped_attributes_count', WIRE_VARINT],
});
const LINK = messageSpec('Span.Link', {
  1: ['trace_id', WIRE_LEN],
  2: ['span_id', WIRE_LEN],
  3: ['trace_state', WIRE_LEN],
  4: ['attributes', WIRE_LEN],
  5: ['dropped_attributes_count', WIRE_VARINT],
  6: ['flags', WIRE_I32],
});
const STATUS = messageSpec('Status', {
  1: ['deprecated_code', WIRE_VARINT],
  2: ['message', WIRE_LEN],
  3: ['code', WIRE_VARINT],
});

const T1_LEN = tagOf(1, WIRE_LEN);
const T1_I64 = tagOf(1, WIRE_I64);
const T2_LEN = tagOf(2, WIRE_LEN);
const T3_LEN = tagOf(3, WIRE_LEN);
const T3_VARINT = tagOf(3, WIRE_VARINT);
const T4_LEN = tagOf(4, WIRE_LEN);
const T5_LEN = tagOf(5, WIRE_LEN);
const T6_VARINT = tagOf(6, WIRE_VARINT);
const T7_I64 = tagOf(7, WIRE_I64);
const T8_I64 = tagOf(8, WIRE_I64);
const T9_LEN = tagOf(9, WIRE_LEN);
const T11_LEN = tagOf(11, WIRE_LEN);
const T13_LEN = tagOf(13, WIRE_LEN);
const T15_LEN = tagOf(15, WIRE_LEN);

const NO_BYTES: Uint8Array = new Uint8Array(0);

export function decodeTracesProtobuf(body: Uint8Array): DecodedBatch {
  return decodeEnvelope(body, {
    request: REQUEST,
    resourceMessage: RESOURCE_SPANS,
    scopeMessage: SCOPE_SPANS,
    paths: { resources: 'resourceSpans', scopes: 'scopeSpans', records: 'spans' },
    list: (batch) => batch.spans,
    record: span,
  });
}

interface RawLinkBytes {
  traceId: Uint8Array;
  spanId: Uint8Array;
  attributes: Record<string, unknown>;
}

function span(r: ProtoReader, end: number, ctx: SpanContext): Span {
  let traceId = NO_BYTES;
  let spanId = NO_BYTES;
  let parentSpanId = NO_BYTES;
  let name = '';
  let kind = 0;
  let startMs = 0;
  let endMs = 0;
  const attributes: Record<string, unknown> = {};
  const events: SpanEvent[] = [];
  const rawLinks: RawLinkBytes[] = [];
  let statusCode = 0;
  let statusMessage = '';
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case T1_LEN:
        traceId = r.bytes(end);
        break;
      case T2_LEN:
        spanId = r.bytes(end);
        break;
      case T4_LEN:
        parentSpanId = r.bytes(end);
        break;
      case T5_LEN:
        name = r.string(end);
        break;
      case T6_VARINT:
        kind = r.int32(end);
        break;
      case T7_I64:
        r.fixed64(end);
        startMs = nanosToMs(r.lo, r.hi);
        break;
      case T8_I64:
        r.fixed64(end);
        endMs = nanosToMs(r.lo, r.hi);
        break;
      case T9_LEN:
        readKeyValue(r, r.lengthEnd(end), attributes, 0, false);
        break;
      case T11_LEN:
        events.push(event(r, r.lengthEnd(end)));
        break;
      case T13_LEN:
        rawLinks.push(link(r, r.lengthEnd(end)));
        break;
      case T15_LEN: {
        const e = r.lengthEnd(end);
        while (r.pos < e) {
          const t2 = r.tag(e);
          if (t2 === T2_LEN) statusMessage = r.string(e);
          else if (t2 === T3_VARINT) statusCode = r.int32(e);
          else r.skip(t2, e, STATUS);
        }
        break;
      }
      default:
        r.skip(t, end, SPAN);
    }
  }
  // Ids are checked after the whole span is read, so a wire-format error anywhere in it still fails the request.
  const traceHex = idFromBytes(traceId, 16, 'traceId', 'trace id', true);
  const spanHex = idFromBytes(spanId, 8, 'spanId', 'span id', true);
  const parentHex = idFromBytes(parentSpanId, 8, 'parentSpanId', 'parent span id', false);
  const links: SpanLink[] = new Array(rawLinks.length);
  for (let i = 0; i < rawLinks.length; i++) {
    const l = rawLinks[i]!;
    links[i] = {
      traceId: idFromBytes(l.traceId, 16, `links.${i}.traceId`, 'link trace id', true),
      spanId: idFromBytes(l.spanId, 8, `links.${i}.spanId`, 'link span id', true),
      attributes: l.attributes,
    };
  }
  return buildSpan(ctx, {
    traceId: traceHex,
    spanId: spanHex,
    parentSpanId: parentHex,
    name,
    kind,
    startMs,
    endMs,
    attributes,
    events,
    links,
    statusCode,
    statusMessage,
  });
}

function event(r: ProtoReader, end: number): SpanEvent {
  const ev: SpanEvent = { name: '', timestamp: 0, attributes: {} };
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T1_I64) {
      r.fixed64(end);
      ev.timestamp = nanosToMs(r.lo, r.hi);
    } else if (t === T2_LEN) {
      ev.name = r.string(end);
    } else if (t === T3_LEN) {
      readKeyValue(r, r.lengthEnd(end), ev.attributes, 0, false);
    } else {
      r.skip(t, end, EVENT);
    }
  }
  return ev;
}

function link(r: ProtoReader, end: number): RawLinkBytes {
  const l: RawLinkBytes = { traceId: NO_BYTES, spanId: NO_BYTES, attributes: {} };
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T1_LEN) l.traceId = r.bytes(end);
    else if (t === T2_LEN) l.spanId = r.bytes(end);
    else if (t === T4_LEN) readKeyValue(r, r.lengthEnd(end), l.attributes, 0, false);
    else r.skip(t, end, LINK);
  }
  return l;
}
