import { z } from 'zod';
import { INGEST_LIMITS as L } from './limits.ts';

/**
 * The native ingest format (docs/API.md). Timestamps are epoch milliseconds or ISO 8601 strings
 * with an offset. Structural checks live here; checks that need the clock (the acceptance window)
 * or apply to OTLP too live in validate-items.ts.
 */
const Timestamp = z.union([
  z.number().finite().nonnegative(),
  z.iso.datetime({ offset: true, precision: undefined }).transform((s) => Date.parse(s) + microFraction(s)),
]);

/** Keeps microseconds that Date.parse drops: "…:00.123456Z" -> 0.456 ms. */
function microFraction(iso: string): number {
  const m = /\.\d{3}(\d{1,3})/.exec(iso);
  return m ? Number(`0.${m[1]!.padEnd(3, '0')}`) : 0;
}

const NoNul = (s: string) => !s.includes('\u0000');
const Str = (max: number) => z.string().max(max).refine(NoNul, 'must not contain NUL characters');

export const MetricName = z
  .string()
  .min(1)
  .max(L.maxNameLength)
  .regex(/^[A-Za-z_][A-Za-z0-9_.:/-]*$/, 'must start with a letter or "_" and contain only letters, digits and _ . : / -');

const TagKey = z
  .string()
  .min(1)
  .max(L.maxTagKeyLength)
  .refine((k) => !FORBIDDEN_KEYS.has(k), 'is a reserved key')
  .refine(NoNul, 'must not contain NUL characters');

export const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const Tags = z
  .record(TagKey, Str(L.maxTagValueLength))
  .refine((t) => Object.keys(t).length <= L.maxTags, `at most ${L.maxTags} tags`)
  .default({});

const EventId = z.string().min(1).max(L.maxIdLength);

const ExplicitHistogram = z
  .strictObject({
    kind: z.literal('explicit').default('explicit'),
    count: z.number().finite().nonnegative(),
    sum: z.number().finite().nullable().default(null),
    min: z.number().finite().nullable().default(null),
    max: z.number().finite().nullable().default(null),
    bounds: z.array(z.number().finite()).max(500),
    counts: z.array(z.number().finite().nonnegative()).max(501),
  })
  .refine((h) => h.counts.length === h.bounds.length + 1, { message: 'counts must have bounds.length + 1 entries', path: ['counts'] })
  .refine((h) => h.bounds.every((b, i) => i === 0 || b > h.bounds[i - 1]!), { message: 'bounds must be strictly increasing', path: ['bounds'] });

export const NativeMetric = z
  .strictObject({
    name: MetricName,
    value: z.number().finite().optional(),
    type: z.enum(['gauge', 'counter', 'histogram']).default('gauge'),
    timestamp: Timestamp,
    tags: Tags,
    unit: Str(50).optional(),
    temporality: z.enum(['cumulative', 'delta']).optional(),
    histogram: ExplicitHistogram.optional(),
    id: EventId.optional(),
  })
  .refine((m) => (m.type === 'histogram') === (m.histogram !== undefined), { message: 'histogram is required for, and only for, type histogram', path: ['histogram'] })
  .refine((m) => m.type === 'histogram' || m.value !== undefined, { message: 'is required', path: ['value'] });
export type NativeMetric = z.output<typeof NativeMetric>;

const Attributes = z.record(z.string().max(L.maxTagKeyLength), z.unknown()).default({});

const HexId = (bytes: number) =>
  z
    .string()
    .regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `must be ${bytes * 2} hex characters`)
    .transform((s) => s.toLowerCase());

export const NativeLog = z.strictObject({
  /** Optional: a log without one is given the time it was received (parse-native.ts, docs/API.md). */
  timestamp: Timestamp.optional(),
  level: z
    .string()
    .transform((l) => l.toLowerCase())
    .pipe(z.enum(['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'critical']))
    .transform((l) => (l === 'warning' ? 'warn' : l === 'critical' ? 'fatal' : l) as 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal')
    .default('info'),
  message: Str(L.maxMessageLength),
  service: Str(L.maxNameLength).min(1).default('unknown_service'),
  attributes: Attributes,
  trace_id: HexId(16).optional(),
  span_id: HexId(8).optional(),
  id: EventId.optional(),
});
export type NativeLog = z.output<typeof NativeLog>;

export const NativeSpan = z
  .strictObject({
    trace_id: HexId(16),
    span_id: HexId(8),
    parent_span_id: HexId(8).nullable().optional(),
    name: Str(L.maxNameLength).min(1),
    service: Str(L.maxNameLength).min(1).default('unknown_service'),
    start: Timestamp,
    end: Timestamp.optional(),
    duration: z.number().finite().nonnegative().optional(),
    status: z.enum(['unset', 'ok', 'error']).default('unset'),
    status_message: Str(L.maxMessageLength).optional(),
    kind: z.enum(['unspecified', 'internal', 'server', 'client', 'producer', 'consumer']).default('internal'),
    attributes: Attributes,
    events: z
      .array(z.strictObject({ name: Str(L.maxNameLength).min(1), timestamp: Timestamp, attributes: Attributes }))
      .max(1000)
      .default([]),
    id: EventId.optional(),
  })
  .refine((s) => (s.end === undefined) !== (s.duration === undefined), { message: 'give exactly one of end or duration (ms)', path: ['end'] });
export type NativeSpan = z.output<typeof NativeSpan>;

/** A JSON batch: each array optional. Items are validated one by one (partial success). */
export const NativeBatch = z.strictObject({
  metrics: z.array(z.unknown()).optional(),
  logs: z.array(z.unknown()).optional(),
  spans: z.array(z.unknown()).optional(),
});
