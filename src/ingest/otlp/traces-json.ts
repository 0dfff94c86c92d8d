import type { DecodedBatch, Span, SpanEvent, SpanLink } from '../model.ts';
import { idFromHex, serviceName } from './convert.ts';
import { ItemFault } from './errors.ts';
import { isObject, jArray, jInt, jKeyValues, jObject, jResource, jScope, jString, jTime, parseJsonBody, requestLevel } from './json-common.ts';
import { Sink } from './sink.ts';
import { type SpanContext, buildSpan } from './traces.ts';

/** ExportTraceServiceRequest in OTLP/JSON; the same mapping as the protobuf decoder. */

export function decodeTracesJson(body: Uint8Array): DecodedBatch {
  const root = parseJsonBody(body);
  const sink = new Sink();
  requestLevel(() => {
    const resources = jArray(root.resourceSpans, 'resourceSpans');
    for (let i = 0; i < resources.length; i++) resourceSpans(resources[i], sink, `resourceSpans.${i}`);
  });
  return sink.batch;
}

function resourceSpans(v: unknown, sink: Sink, path: string): void {
  const rs = jObject(v, path);
  if (!rs) return;
  const resource = jResource(rs.resource, `${path}.resource`);
  const service = serviceName(resource);
  const scopes = jArray(rs.scopeSpans, `${path}.scopeSpans`);
  for (let i = 0; i < scopes.length; i++) {
    const sPath = `${path}.scopeSpans.${i}`;
    const ss = jObject(scopes[i], sPath);
    if (!ss) continue;
    const scope = jScope(ss.scope, `${sPath}.scope`);
    const ctx: SpanContext = { service, resource, scopeName: scope.name, scopeVersion: scope.version };
    const spans = jArray(ss.spans, `${sPath}.spans`);
    for (let j = 0; j < spans.length; j++) {
      const index = sink.item();
      try {
        const list = sink.batch.spans;
        list.push(span(spans[j], ctx));
        sink.origin(list, list.length - 1, index, `${sPath}.spans.${j}`);
      } catch (e) {
        sink.fault(e, index, `${sPath}.spans.${j}`);
      }
    }
  }
}

function span(v: unknown, ctx: SpanContext): Span {
  if (!isObject(v)) throw new ItemFault('', 'expected a span object');
  const traceId = idFromHex(v.traceId, 16, 'traceId', 'trace id', true);
  const spanId = idFromHex(v.spanId, 8, 'spanId', 'span id', true);
  const parentSpanId = idFromHex(v.parentSpanId, 8, 'parentSpanId', 'parent span id', false);
  const attributes: Record<string, unknown> = {};
  jKeyValues(v.attributes, 'attributes', attributes, 0, false);

  const eventList = jArray(v.events, 'events');
  const events: SpanEvent[] = new Array(eventList.length);
  for (let i = 0; i < eventList.length; i++) {
    const e = jObject(eventList[i], `events.${i}`) ?? {};
    const ev: SpanEvent = { name: jString(e.name, `events.${i}.name`), timestamp: jTime(e.timeUnixNano, `events.${i}.timeUnixNano`), attributes: {} };
    jKeyValues(e.attributes, `events.${i}.attributes`, ev.attributes, 0, false);
    events[i] = ev;
  }

  const linkList = jArray(v.links, 'links');
  const links: SpanLink[] = new Array(linkList.length);
  for (let i = 0; i < linkList.length; i++) {
    const l = jObject(linkList[i], `links.${i}`) ?? {};
    const link: SpanLink = {
      traceId: idFromHex(l.traceId, 16, `links.${i}.traceId`, 'link trace id', true),
      spanId: idFromHex(l.spanId, 8, `links.${i}.spanId`, 'link span id', true),
      attributes: {},
    };
    jKeyValues(l.attributes, `links.${i}.attributes`, link.attributes, 0, false);
    links[i] = link;
  }

  const status = jObject(v.status, 'status');
  return buildSpan(ctx, {
    traceId,
    spanId,
    parentSpanId,
    name: jString(v.name, 'name'),
    kind: jInt(v.kind, 'kind'),
    startMs: jTime(v.startTimeUnixNano, 'startTimeUnixNano'),
    endMs: jTime(v.endTimeUnixNano, 'endTimeUnixNano'),
    attributes,
    events,
    links,
    statusCode: jInt(status?.code, 'status.code'),
    statusMessage: jString(status?.message, 'status.message'),
  });
}
