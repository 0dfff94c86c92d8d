import { AppError } from '../core/errors.ts';
import type { z } from 'zod';
import { INGEST_LIMITS } from './limits.ts';
import type { DecodedBatch, ItemError, LogRecord, MetricPoint, Span } from './model.ts';
import { fastLog, fastMetric, fastSpan } from './fast-path.ts';
import { FORBIDDEN_KEYS, NativeBatch, NativeLog, NativeMetric, NativeSpan } from './schemas.ts';
import { decodeUtf8 } from './read-body.ts';

type Kind = 'metrics' | 'logs' | 'spans';

/**
 * When and in which request a batch arrived: the time a log without its own `timestamp` is given (as
 * OTLP falls back to the observed time), and, with its position, that log's identity.
 */
export interface Received {
  at: number;
  requestId: string;
}

/**
 * Native JSON batch `{ metrics, logs, spans }` or NDJSON (one event per line with "type":
 * "metric" | "log" | "span"). Every item is validated on its own: bad ones become errors with their
 * index and field, good ones are kept (partial success).
 */
export function parseNative(body: Uint8Array, format: 'json' | 'ndjson', received: Received): DecodedBatch {
  const text = decodeUtf8(body);
  // Only when the text could hold one (cheap check) do items get the deep scan for reserved keys.
  const suspicious = /"(__proto__|constructor|prototype)"\s*:/.test(text);
  const out: DecodedBatch = { metrics: [], logs: [], spans: [], errors: [], origins: new WeakMap() };
  if (format === 'json') {
    const value = parseJson(text, 'The body is not valid JSON');
    const batch = NativeBatch.safeParse(value);
    if (!batch.success) {
      const issue = batch.error.issues[0]!;
      throw new AppError('VALIDATION_FAILED', `body${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`, {
        details: batch.error.issues.map((i) => ({ field: ['body', ...i.path.map(String)].join('.'), message: i.message })),
      });
    }
    countOrThrow((batch.data.metrics?.length ?? 0) + (batch.data.logs?.length ?? 0) + (batch.data.spans?.length ?? 0));
    batch.data.metrics?.forEach((item, i) => accept(out, 'metrics', item, i, 'metrics', suspicious, received));
    batch.data.logs?.forEach((item, i) => accept(out, 'logs', item, i, 'logs', suspicious, received));
    batch.data.spans?.forEach((item, i) => accept(out, 'spans', item, i, 'spans', suspicious, received));
    return out;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  countOrThrow(lines.length);
  lines.forEach((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      out.errors.push({ index: i, field: `${i}`, message: 'line is not valid JSON' });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.errors.push({ index: i, field: `${i}`, message: 'line must be a JSON object' });
      return;
    }
    const { type, ...rest } = value as Record<string, unknown>;
    const kind = type === 'metric' ? 'metrics' : type === 'log' ? 'logs' : type === 'span' ? 'spans' : undefined;
    if (!kind) {
      out.errors.push({ index: i, field: `${i}.type`, message: 'must be "metric", "log" or "span"' });
      return;
    }
    accept(out, kind, rest, i, '', suspicious, received);
  });
  return out;
}

function parseJson(text: string, message: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    // Includes a RangeError from absurdly deep nesting.
    throw new AppError('BAD_REQUEST', message, { cause: err });
  }
}

function countOrThrow(n: number) {
  if (n > INGEST_LIMITS.maxEvents) {
    throw new AppError('PAYLOAD_TOO_LARGE', `A request may carry at most ${INGEST_LIMITS.maxEvents} events; this one has ${n}`);
  }
}

const SCHEMAS = { metrics: NativeMetric, logs: NativeLog, spans: NativeSpan } as const;

/**
 * Decodes one item at `index` of the request; its path is `<prefix>.<index>` (`<index>` alone for
 * NDJSON lines), made only when needed: for an error, or for an origin that differs from where the
 * item lands (validateItems reports an item without an origin by its position in its own list, which
 * for a JSON batch with no item rejected before it is the same thing, so most items need none).
 */
function accept(out: DecodedBatch, kind: Kind, item: unknown, index: number, prefix: string, suspicious: boolean, received: Received) {
  // No closures here: tsx (esbuild keepNames) wraps each one created in a naming call, and this
  // runs for every item.
  const reserved = suspicious ? findReservedKey(item, itemPath(prefix, index), 0) : undefined;
  if (reserved) {
    out.errors.push({ index, field: reserved, message: 'is a reserved key (__proto__, constructor, prototype)' });
    return;
  }
  const fast = kind === 'metrics' ? fastMetric(item) : kind === 'logs' ? fastLog(item) : fastSpan(item);
  if (fast) return keep(out, kind, fast, index, prefix);
  const parsed = (SCHEMAS[kind] as z.ZodType).safeParse(item);
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, 5)) {
      out.errors.push({ index, field: [itemPath(prefix, index), ...issue.path.map(String)].join('.'), message: issue.message });
    }
    return;
  }
  const decoded =
    kind === 'metrics'
      ? toMetric(parsed.data as NativeMetric)
      : kind === 'logs'
        ? toLog(parsed.data as z.output<typeof NativeLog>, received, index)
        : toSpan(parsed.data as z.output<typeof NativeSpan>);
  keep(out, kind, decoded, index, prefix);
}

const itemPath = (prefix: string, index: number) => (prefix === '' ? `${index}` : `${prefix}.${index}`);

function keep(out: DecodedBatch, kind: Kind, decoded: object, index: number, prefix: string) {
  const list = out[kind] as object[];
  if (prefix !== kind || list.length !== index) out.origins!.set(decoded, { index, field: itemPath(prefix, index) });
  list.push(decoded);
}

/** The schema route alone (no fast path): the reference the fast path is tested against. */
export function decodeWithSchema(kind: Kind, item: unknown, received: Received = { at: 0, requestId: '' }): MetricPoint | LogRecord | Span | null {
  const parsed = (SCHEMAS[kind] as z.ZodType).safeParse(item);
  if (!parsed.success) return null;
  return kind === 'metrics'
    ? toMetric(parsed.data as NativeMetric)
    : kind === 'logs'
      ? toLog(parsed.data as z.output<typeof NativeLog>, received, 0)
      : toSpan(parsed.data as z.output<typeof NativeSpan>);
}

/** JSON.parse keeps "__proto__" as an own key; schema parsing would silently drop it. Refuse it instead. */
function findReservedKey(v: unknown, path: string, depth: number): string | undefined {
  if (depth > 32 || typeof v !== 'object' || v === null) return undefined;
  for (const k of Object.keys(v)) {
    if (FORBIDDEN_KEYS.has(k)) return `${path}.${k}`;
    const found = findReservedKey((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function toMetric(m: NativeMetric): MetricPoint {
  const h = m.histogram;
  return {
    name: m.name,
    type: m.type,
    value: m.value ?? h?.sum ?? h?.count ?? 0,
    timestamp: m.timestamp,
    tags: m.tags,
    ...(m.unit ? { unit: m.unit } : {}),
    ...(m.type === 'counter' ? { temporality: m.temporality ?? 'cumulative' } : {}),
    ...(h ? { histogram: { kind: 'explicit' as const, count: h.count, sum: h.sum, min: h.min, max: h.max, bounds: h.bounds, counts: h.counts } } : {}),
    ...(m.id ? { id: m.id } : {}),
  };
}

/**
 * A log without a timestamp gets the time it was received. Its identity (event-key.ts) cannot be its
 * content then: two identical lines sent in one request, or in two requests in the same millisecond,
 * would collapse into one. It is its request and position instead, given as its id unless the client
 * gave one: every such line is stored, and a retry (received later, in another request) is stored
 * again. Exactly-once needs the client's own timestamp (and, for real repeats, its own id).
 */
function toLog(l: z.output<typeof NativeLog>, received: Received, index: number): LogRecord {
  const id = l.id ?? (l.timestamp === undefined ? `\u0003received\u0002${received.requestId}\u0002${index}` : undefined);
  return {
    timestamp: l.timestamp ?? received.at,
    level: l.level,
    message: l.message,
    service: l.service,
    attributes: l.attributes,
    ...(l.trace_id ? { traceId: l.trace_id } : {}),
    ...(l.span_id ? { spanId: l.span_id } : {}),
    ...(id ? { id } : {}),
  };
}

function toSpan(s: z.output<typeof NativeSpan>): Span {
  return {
    traceId: s.trace_id,
    spanId: s.span_id,
    ...(s.parent_span_id ? { parentSpanId: s.parent_span_id } : {}),
    name: s.name,
    service: s.service,
    start: s.start,
    end: s.end ?? s.start + (s.duration ?? 0),
    status: s.status,
    ...(s.status_message ? { statusMessage: s.status_message } : {}),
    kind: s.kind,
    attributes: s.attributes,
    events: s.events.map((e) => ({ name: e.name, timestamp: e.timestamp, attributes: e.attributes })),
    links: [],
    ...(s.id ? { id: s.id } : {}),
  };
}

export type { ItemError };
