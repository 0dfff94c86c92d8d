import { z } from 'zod';
import { List } from '../http/validate.ts';

/** Upper bounds that keep one request cheap (documented in docs/API.md). */
export const TRACE_LIMITS = {
  /** Spans returned for one trace; the earliest ones are kept and `truncated` says so. */
  maxSpansPerTrace: 10_000,
  /** Nesting kept in one response; deeper subtrees become extra roots (JSON nesting has a stack limit). */
  maxTreeDepth: 500,
  maxSearchRangeDays: 31,
  maxAttributeFilters: 10,
  maxLogsPerPage: 1000,
  maxStatsGroups: 200,
  maxStatsBuckets: 1000,
} as const;

const DAY_MS = 86_400_000;

const Time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

/** W3C trace ids: 32 hex characters, not all zero; answered lowercase as ingest stores them. */
export const TraceId = z
  .string()
  .regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hex characters')
  .transform((s) => s.toLowerCase())
  .refine((s) => !/^0+$/.test(s), 'must not be all zeros');
const SpanId = z
  .string()
  .regex(/^[0-9a-fA-F]{16}$/, 'must be 16 hex characters')
  .transform((s) => s.toLowerCase());

export const TraceParams = z.object({ traceId: TraceId });

/** A non-negative number of milliseconds from a query string. */
const Millis = z.coerce.number().finite().nonnegative();

export const GetTraceQuery = z
  .strictObject({
    projectId: z.uuid().optional(),
    /** Optional hints: only spans starting in [from, to] are read, so Postgres skips the other days. */
    from: Time.optional(),
    to: Time.optional(),
  })
  .refine((q) => !q.from || !q.to || q.to > q.from, { message: 'must be after from', path: ['to'] });
export type GetTraceQuery = z.output<typeof GetTraceQuery>;

export const TraceLogsQuery = z
  .strictObject({
    projectId: z.uuid().optional(),
    spanId: SpanId.optional(),
    from: Time.optional(),
    to: Time.optional(),
    limit: z.coerce.number().int().min(1).max(TRACE_LIMITS.maxLogsPerPage).default(100),
    cursor: z.string().max(200).optional(),
  })
  .refine((q) => !q.from || !q.to || q.to > q.from, { message: 'must be after from', path: ['to'] });
export type TraceLogsQuery = z.output<typeof TraceLogsQuery>;

/**
 * An attribute condition, as log search takes them: `attr.<key>=<value>` (the attribute's text equals
 * the value) or `has=<key>,...` (the attribute exists); parsed by parseLogQuery (src/logs/schemas.ts).
 */
export interface AttributeFilter {
  key: string;
  value: string | undefined;
}

/**
 * Zod runs object refinements even when a field failed (`to=0` is an issue on `to`, and the refinement
 * still sees the raw string): a refinement over the times checks first that both are Dates, so a bad
 * time is one 400 naming the field, never a TypeError and a 500.
 */
const times = (q: { from: unknown; to: unknown }): q is { from: Date; to: Date } => q.from instanceof Date && q.to instanceof Date;

/** A required time range of at most maxSearchRangeDays, to after from. */
function range<S extends z.ZodType<{ from: Date; to: Date }>>(schema: S) {
  return schema
    .refine((q) => !times(q) || q.to > q.from, { message: 'must be after from', path: ['to'] })
    .refine((q) => !times(q) || q.to.getTime() - q.from.getTime() <= TRACE_LIMITS.maxSearchRangeDays * DAY_MS, {
      message: `the range may span at most ${TRACE_LIMITS.maxSearchRangeDays} days`,
      path: ['to'],
    });
}

export const SearchTracesQuery = range(
  z.strictObject({
    projectId: z.uuid().optional(),
    service: z.string().min(1).max(200).optional(),
    /** The span name. */
    operation: z.string().min(1).max(200).optional(),
    minDurationMs: Millis.optional(),
    maxDurationMs: Millis.optional(),
    status: z.enum(['error', 'ok', 'unset']).optional(),
    /** Attribute keys that must exist on the matching span. */
    has: List(z.string().min(1).max(200), TRACE_LIMITS.maxAttributeFilters).optional(),
    from: Time,
    to: Time,
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  }),
).refine((q) => q.minDurationMs === undefined || q.maxDurationMs === undefined || q.maxDurationMs >= q.minDurationMs, {
  message: 'must be at least minDurationMs',
  path: ['maxDurationMs'],
});
/** The search with its attribute conditions (`attr.<key>=value` and `has=`) joined. */
export type SearchTracesQuery = z.output<typeof SearchTracesQuery> & { attr: AttributeFilter[] };

export const ServiceStatsQuery = range(
  z.strictObject({
    projectId: z.uuid().optional(),
    /** With a service: one row per operation (span name) of it; without: one row per service. */
    service: z.string().min(1).max(200).optional(),
    /** Count only spans of this kind (e.g. server: the requests a service answered). */
    kind: z.enum(['unspecified', 'internal', 'server', 'client', 'producer', 'consumer']).optional(),
    /** Seconds per bucket: adds a time series per row. */
    step: z.coerce.number().int().min(1).max(31 * 86_400).optional(),
    from: Time,
    to: Time,
    limit: z.coerce.number().int().min(1).max(TRACE_LIMITS.maxStatsGroups).default(50),
  }),
).refine((q) => q.step === undefined || !times(q) || (q.to.getTime() - q.from.getTime()) / (q.step * 1000) <= TRACE_LIMITS.maxStatsBuckets, {
  message: `at most ${TRACE_LIMITS.maxStatsBuckets} buckets: use a larger step`,
  path: ['step'],
});
export type ServiceStatsQuery = z.output<typeof ServiceStatsQuery>;

export interface SpanEventView {
  name: string;
  /** Null when the stored event has no usable timestamp (rows written by other means than ingest). */
  time: string | null;
  /** From the start of the trace, like the spans' offsetMs. */
  offsetMs: number | null;
  attributes: Record<string, unknown>;
}

export interface SpanNode {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  service: string;
  kind: string;
  start: string;
  end: string;
  durationMs: number;
  /** From the start of the trace (its earliest span). */
  offsetMs: number;
  status: 'unset' | 'ok' | 'error';
  statusMessage: string | null;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  events: SpanEventView[];
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, unknown> }>;
  depth: number;
  /** The parent span is not in the trace (not received yet, dropped, or a cycle of parents). */
  orphan: boolean;
  children: SpanNode[];
}

export interface ServiceCount {
  service: string;
  spanCount: number;
  errorCount: number;
}

export interface TraceSummary {
  traceId: string;
  projectIds: string[];
  start: string;
  end: string;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  logCount: number;
  services: ServiceCount[];
  /** The earliest span without a parent; null when every span has one (the root has not arrived). */
  root: { spanId: string; service: string; name: string } | null;
  /** The span ids of the tree's roots (true roots, orphans, subtrees past the depth limit), in start order. */
  roots: string[];
  orphanCount: number;
  /** More than maxSpansPerTrace spans: the earliest ones are returned. */
  truncated: boolean;
}

/** One trace found by search: its summary and the span that matched the filters. */
export interface TraceHit {
  traceId: string;
  root: { spanId: string; service: string; name: string } | null;
  start: string;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  services: ServiceCount[];
  /** The newest span of the trace that matched every filter; results are ordered by its start. */
  matched: { spanId: string; service: string; name: string; start: string; durationMs: number; status: string };
}

export interface DurationPercentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface StatsPoint extends DurationPercentiles {
  /** Start of the bucket. */
  time: string;
  requests: number;
  errors: number;
}

/** Span statistics of one service (or one operation of a service) over the range. */
export interface StatsRow {
  service: string;
  /** Only when the statistics are per operation of one service. */
  operation?: string;
  requests: number;
  ratePerSecond: number;
  errors: number;
  errorRate: number;
  durationMs: DurationPercentiles;
  /** With `step`: one point per bucket from `from`, empty buckets included (0 requests, null percentiles). */
  series?: StatsPoint[];
}
