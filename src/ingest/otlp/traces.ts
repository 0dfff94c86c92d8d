import type { Span, SpanEvent, SpanLink } from '../model.ts';
import { addScope, spanKind, spanStatus } from './convert.ts';
import { ItemFault } from './errors.ts';

/**
 * OTLP spans to Spans, shared by the protobuf and JSON decoders (which check the ids: trace ids
 * 16 bytes and span ids 8 bytes, not all zero; an empty or all-zero parent means a root span).
 *
 * - kind 0-5 -> unspecified/internal/server/client/producer/consumer; status 0 unset, 1 ok,
 *   2 error, with its message when there is one.
 * - A span without a name, a start or an end time, an end before its start, or an event without
 *   a time is rejected.
 * - attributes: the span's plus otel.scope.name/version; the resource attributes go to `resource`.
 */

/** What the spans of one ScopeSpans share. `resource` is one object shared by all its spans. */
export interface SpanContext {
  service: string;
  resource: Record<string, unknown>;
  scopeName: string;
  scopeVersion: string;
}

export interface RawSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  events: SpanEvent[];
  links: SpanLink[];
  statusCode: number;
  statusMessage: string;
}

export function buildSpan(ctx: SpanContext, raw: RawSpan): Span {
  if (raw.name === '') throw new ItemFault('name', 'span name is missing');
  if (raw.startMs === 0) throw new ItemFault('startTimeUnixNano', 'start time missing');
  if (raw.endMs === 0) throw new ItemFault('endTimeUnixNano', 'end time missing');
  if (raw.endMs < raw.startMs) throw new ItemFault('endTimeUnixNano', 'end time is before start time');
  for (let i = 0; i < raw.events.length; i++) {
    if (raw.events[i]!.timestamp === 0) throw new ItemFault(`events.${i}.timeUnixNano`, 'event timestamp missing');
  }
  addScope(raw.attributes, ctx.scopeName, ctx.scopeVersion);
  const span: Span = {
    traceId: raw.traceId,
    spanId: raw.spanId,
    name: raw.name,
    service: ctx.service,
    start: raw.startMs,
    end: raw.endMs,
    status: spanStatus(raw.statusCode),
    kind: spanKind(raw.kind),
    attributes: raw.attributes,
    resource: ctx.resource,
    events: raw.events,
    links: raw.links,
  };
  if (raw.parentSpanId !== undefined) span.parentSpanId = raw.parentSpanId;
  if (raw.statusMessage !== '') span.statusMessage = raw.statusMessage;
  return span;
}
