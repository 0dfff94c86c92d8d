import { INGEST_LIMITS as L } from './limits.ts';
import type { LogLevel, LogRecord, MetricPoint, Span, SpanKind, SpanStatus } from './model.ts';
import { FORBIDDEN_KEYS } from './schemas.ts';

/**
 * A fast path for the common, well-formed native item. It accepts only items the zod schemas in
 * schemas.ts would accept and map to the same value; anything else (ISO timestamps, histograms,
 * unusual fields, any doubt) returns null and goes through zod, which decides and explains. So the
 * schemas stay the definition of the format; this only skips their cost where nothing can fail.
 * tests/unit/ingest/fast-path.test.ts checks the two agree on valid and invalid items.
 */
const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;
const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;
const METRIC_KEYS = new Set(['name', 'value', 'type', 'timestamp', 'tags', 'unit', 'temporality', 'id']);
const LOG_KEYS = new Set(['timestamp', 'level', 'message', 'service', 'attributes', 'trace_id', 'span_id', 'id']);
const SPAN_KEYS = new Set(['trace_id', 'span_id', 'parent_span_id', 'name', 'service', 'start', 'end', 'duration', 'status', 'status_message', 'kind', 'attributes', 'events', 'id']);
const SPAN_STATUSES = new Set<unknown>(['unset', 'ok', 'error']);
const SPAN_KINDS = new Set<unknown>(['unspecified', 'internal', 'server', 'client', 'producer', 'consumer']);
const LEVELS: Record<string, LogLevel> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'fatal',
  critical: 'fatal',
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const cleanString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max && !v.includes('\u0000');
const goodTimestamp = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
/** A service or span name: non-empty, at most maxNameLength, no NUL. */
const goodName = (v: unknown): v is string => cleanString(v, L.maxNameLength) && v.length > 0;
/** Attributes, when given: a plain object whose keys fit (values are checked by validateItems). */
function goodAttributes(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isPlainObject(v)) return false;
  for (const k in v) if (k.length > L.maxTagKeyLength) return false;
  return true;
}
const goodId = (v: unknown) => v === undefined || (typeof v === 'string' && v.length > 0 && v.length <= L.maxIdLength);

/**
 * Metric names already checked against METRIC_NAME: a batch repeats a few names many times, and the
 * regular expression was a tenth of the fast path's cost. Bounded: emptied when full.
 */
const goodNames = new Set<string>();
function goodMetricName(name: string): boolean {
  if (goodNames.has(name)) return true;
  if (name.length === 0 || name.length > L.maxNameLength || !METRIC_NAME.test(name)) return false;
  if (goodNames.size >= 10_000) goodNames.clear();
  goodNames.add(name);
  return true;
}

export function fastMetric(o: unknown): MetricPoint | null {
  if (!isPlainObject(o)) return null;
  for (const k in o) if (!METRIC_KEYS.has(k)) return null;
  const { name, value, type, timestamp, tags, unit, temporality, id } = o;
  if (typeof name !== 'string' || !goodMetricName(name)) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  if (type !== undefined && type !== 'gauge' && type !== 'counter') return null;
  if (!goodTimestamp(timestamp)) return null;
  if (unit !== undefined && !cleanString(unit, 50)) return null;
  if (temporality !== undefined && temporality !== 'cumulative' && temporality !== 'delta') return null;
  if (!goodId(id)) return null;
  let t: Record<string, string> = {};
  if (tags !== undefined) {
    if (!isPlainObject(tags)) return null;
    let n = 0;
    for (const k in tags) {
      if (++n > L.maxTags || k.length === 0 || k.length > L.maxTagKeyLength || FORBIDDEN_KEYS.has(k) || k.includes('\u0000')) return null;
      if (!cleanString(tags[k], L.maxTagValueLength)) return null;
    }
    t = tags as Record<string, string>;
  }
  const kind = type ?? 'gauge';
  // One object shape for every point (absent fields undefined, as the schema route leaves them
  // absent): the code downstream then sees one hidden class, and no spread builds throwaway objects.
  return {
    name,
    type: kind,
    value,
    timestamp,
    tags: t,
    unit: unit ? (unit as string) : undefined,
    temporality: kind === 'counter' ? ((temporality as MetricPoint['temporality']) ?? 'cumulative') : undefined,
    id: id ? (id as string) : undefined,
  };
}

export function fastLog(o: unknown): LogRecord | null {
  if (!isPlainObject(o)) return null;
  for (const k in o) if (!LOG_KEYS.has(k)) return null;
  const { timestamp, level, message, service, attributes, trace_id, span_id, id } = o;
  if (!goodTimestamp(timestamp)) return null;
  const lvl = level === undefined ? 'info' : typeof level === 'string' ? LEVELS[level.toLowerCase()] : undefined;
  if (!lvl) return null;
  if (!cleanString(message, L.maxMessageLength)) return null;
  if (service !== undefined && !goodName(service)) return null;
  if (!goodAttributes(attributes)) return null;
  if (trace_id !== undefined && !(typeof trace_id === 'string' && HEX32.test(trace_id))) return null;
  if (span_id !== undefined && !(typeof span_id === 'string' && HEX16.test(span_id))) return null;
  if (!goodId(id)) return null;
  return {
    timestamp,
    level: lvl,
    message,
    service: (service as string | undefined) ?? 'unknown_service',
    attributes: (attributes as Record<string, unknown> | undefined) ?? {},
    ...(trace_id ? { traceId: (trace_id as string).toLowerCase() } : {}),
    ...(span_id ? { spanId: (span_id as string).toLowerCase() } : {}),
    ...(id ? { id: id as string } : {}),
  };
}

/** A span without events (spans with events, ISO times or anything unusual go through zod). */
export function fastSpan(o: unknown): Span | null {
  if (!isPlainObject(o)) return null;
  for (const k in o) if (!SPAN_KEYS.has(k)) return null;
  const { trace_id, span_id, parent_span_id, name, service, start, end, duration, status, status_message, kind, attributes, events, id } = o;
  if (!(typeof trace_id === 'string' && HEX32.test(trace_id))) return null;
  if (!(typeof span_id === 'string' && HEX16.test(span_id))) return null;
  if (parent_span_id !== undefined && parent_span_id !== null && !(typeof parent_span_id === 'string' && HEX16.test(parent_span_id))) return null;
  if (!goodName(name)) return null;
  if (service !== undefined && !goodName(service)) return null;
  if (!goodTimestamp(start)) return null;
  if ((end === undefined) === (duration === undefined)) return null;
  if (end !== undefined && !goodTimestamp(end)) return null;
  if (duration !== undefined && !goodTimestamp(duration)) return null;
  if (status !== undefined && !SPAN_STATUSES.has(status)) return null;
  if (status_message !== undefined && !cleanString(status_message, L.maxMessageLength)) return null;
  if (kind !== undefined && !SPAN_KINDS.has(kind)) return null;
  if (!goodAttributes(attributes)) return null;
  if (events !== undefined && !(Array.isArray(events) && events.length === 0)) return null;
  if (!goodId(id)) return null;
  return {
    traceId: trace_id.toLowerCase(),
    spanId: span_id.toLowerCase(),
    parentSpanId: parent_span_id ? (parent_span_id as string).toLowerCase() : undefined,
    name,
    service: (service as string | undefined) ?? 'unknown_service',
    start,
    end: end !== undefined ? (end as number) : start + (duration as number),
    status: (status as SpanStatus | undefined) ?? 'unset',
    statusMessage: status_message ? (status_message as string) : undefined,
    kind: (kind as SpanKind | undefined) ?? 'internal',
    attributes: (attributes as Record<string, unknown> | undefined) ?? {},
    events: [],
    links: [],
    id: id ? (id as string) : undefined,
  };
}
