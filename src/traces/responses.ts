import { z } from 'zod';
import { LogLine } from '../logs/responses.ts';

/** What the trace routes answer (src/traces/http/routes.ts, under /logs/traces). */

const Time = z.iso.datetime();
const Count = z.number().int().min(0);
const Attributes = z.record(z.string(), z.unknown());

const ServiceCount = z.object({ service: z.string(), spanCount: Count, errorCount: Count });
const SpanRef = z.object({ spanId: z.string(), service: z.string(), name: z.string() });

export const SpanNode = z
  .object({
    spanId: z.string(),
    parentSpanId: z.string().nullable(),
    name: z.string(),
    service: z.string(),
    kind: z.string(),
    start: Time,
    end: Time,
    durationMs: z.number(),
    /** From the start of the trace (its earliest span). */
    offsetMs: z.number(),
    status: z.enum(['unset', 'ok', 'error']),
    statusMessage: z.string().nullable(),
    attributes: Attributes,
    resource: Attributes,
    events: z.array(z.object({ name: z.string(), time: Time.nullable(), offsetMs: z.number().nullable(), attributes: Attributes })),
    links: z.array(z.object({ traceId: z.string(), spanId: z.string(), attributes: Attributes })),
    depth: Count,
    /** The parent span is not in the trace (not received yet, dropped, or a cycle of parents). */
    orphan: z.boolean(),
    get children(): z.ZodArray<typeof SpanNode> {
      return z.array(SpanNode);
    },
  })
  .meta({ id: 'SpanNode' });

export const TraceResponse = z.object({
  trace: z.object({
    traceId: z.string(),
    projectIds: z.array(z.uuid()),
    start: Time,
    end: Time,
    durationMs: z.number(),
    spanCount: Count,
    errorCount: Count,
    logCount: Count,
    services: z.array(ServiceCount),
    root: SpanRef.nullable(),
    roots: z.array(z.string()),
    orphanCount: Count,
    truncated: z.boolean(),
  }),
  /** The span tree: roots in start order, children nested. */
  spans: z.array(SpanNode),
});

export const TraceSearchResponse = z.object({
  traces: z.array(
    z.object({
      traceId: z.string(),
      root: SpanRef.nullable(),
      start: Time,
      durationMs: z.number(),
      spanCount: Count,
      errorCount: Count,
      services: z.array(ServiceCount),
      matched: SpanRef.extend({ start: Time, durationMs: z.number(), status: z.string() }),
    }),
  ),
  nextCursor: z.string().nullable(),
});

const Percentiles = z.object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });
const StatsRow = z.object({
  service: z.string(),
  operation: z.string().optional(),
  requests: Count,
  ratePerSecond: z.number(),
  errors: Count,
  errorRate: z.number(),
  durationMs: Percentiles,
  /** With `step`: one point per bucket from `from`, empty buckets included. */
  series: z.array(Percentiles.extend({ time: Time, requests: Count, errors: Count })).optional(),
});
/** Per service (no `service` asked), or per operation of the service asked. */
export const ServiceStatsResponse = z.object({
  from: Time,
  to: Time,
  step: z.number().int().nullable(),
  truncated: z.boolean(),
  services: z.array(StatsRow).optional(),
  service: z.string().optional(),
  operations: z.array(StatsRow).optional(),
});

export const TraceLogsResponse = z.object({ logs: z.array(LogLine), nextCursor: z.string().nullable() });
