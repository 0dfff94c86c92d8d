import { z } from 'zod';

export const AGGREGATIONS = ['avg', 'sum', 'min', 'max', 'count', 'p50', 'p90', 'p95', 'p99', 'rate'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/** Upper bounds that keep one request cheap (documented in docs/API.md). */
export const QUERY_LIMITS = {
  queriesPerRequest: 20,
  defaultMaxPoints: 1000,
  maxPointsPerSeries: 11_000,
  maxSeriesPerQuery: 1000,
  maxFilters: 20,
  maxGroupBy: 5,
} as const;

const TagKey = z.string().min(1).max(100);
const TagValue = z.string().max(1000);

export const TagFilter = z.discriminatedUnion('op', [
  z.strictObject({ key: TagKey, op: z.literal('='), value: TagValue }),
  z.strictObject({ key: TagKey, op: z.literal('!='), value: TagValue }),
  z.strictObject({ key: TagKey, op: z.literal('in'), values: z.array(TagValue).min(1).max(500) }),
  z.strictObject({ key: TagKey, op: z.literal('not_in'), values: z.array(TagValue).min(1).max(500) }),
  z.strictObject({ key: TagKey, op: z.literal('regex'), value: z.string().min(1).max(256) }),
]);
export type TagFilter = z.infer<typeof TagFilter>;

const Time = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

export const SeriesQuery = z
  .strictObject({
    id: z.string().min(1).max(64).optional(),
    metric: z.string().min(1).max(200),
    filters: z.array(TagFilter).max(QUERY_LIMITS.maxFilters).default([]),
    groupBy: z.array(TagKey).max(QUERY_LIMITS.maxGroupBy).default([]),
    /** Default: the metric definition's default aggregation (avg when it has none). */
    aggregation: z.enum(AGGREGATIONS).optional(),
    from: Time,
    to: Time,
    /** Seconds between points; at least 60 (the finest rollup). Chosen from maxPoints when absent. */
    step: z.number().int().min(60, 'must be at least 60 seconds (the finest rollup is 1 minute)').optional(),
    maxPoints: z.number().int().min(1).max(QUERY_LIMITS.maxPointsPerSeries).default(QUERY_LIMITS.defaultMaxPoints),
  })
  .refine((q) => q.to > q.from, { message: 'must be after from', path: ['to'] });
export type SeriesQuery = z.output<typeof SeriesQuery>;

export const QueryRequest = z.strictObject({
  projectId: z.uuid().optional(),
  queries: z.array(SeriesQuery).min(1).max(QUERY_LIMITS.queriesPerRequest),
});
export type QueryRequest = z.output<typeof QueryRequest>;

export const ProjectQuery = z.object({ projectId: z.uuid().optional() });
export const NamesQuery = z.strictObject({ projectId: z.uuid().optional(), prefix: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(1000).default(200) });
export const TagKeysQuery = z.strictObject({ projectId: z.uuid().optional(), metric: z.string().min(1).max(200) });
export const TagValuesQuery = z.strictObject({
  projectId: z.uuid().optional(),
  metric: z.string().min(1).max(200),
  key: TagKey,
  prefix: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export interface SeriesResult {
  tags: Record<string, string>;
  points: Array<[number, number | null]>;
}

export interface QueryResult {
  id: string;
  resolution: string;
  step: number;
  series: SeriesResult[];
  /** True when more groups matched than maxSeriesPerQuery; the first ones (by tag values) are returned. */
  truncated: boolean;
}

export const IngestLimits = z
  .strictObject({
    projectId: z.uuid(),
    maxSeries: z.number().int().min(0).max(10_000_000).optional(),
    requestsPerMinute: z.number().int().min(1).max(10_000_000).optional(),
    eventsPerMinute: z.number().int().min(1).max(2_000_000_000).optional(),
  })
  .refine((v) => v.maxSeries !== undefined || v.requestsPerMinute !== undefined || v.eventsPerMinute !== undefined, 'send at least one limit');

export const DefinitionsQuery = z.strictObject({ organizationId: z.uuid(), prefix: z.string().max(200).optional() });
/** Days a rollup resolution is kept: at least a day, at most ten years. */
const RetentionDays = z.number().int().min(1).max(3650);

export const PutDefinition = z
  .strictObject({
    organizationId: z.uuid(),
    type: z.enum(['gauge', 'counter', 'histogram']).optional(),
    unit: z.string().max(50).nullable().optional(),
    description: z.string().max(2000).nullable().optional(),
    defaultAggregation: z.enum(AGGREGATIONS).optional(),
    /** Days to keep each rollup resolution of this metric (absent: the default); null resets all to the defaults. */
    retention: z
      .strictObject({
        '1m': RetentionDays.optional(),
        '5m': RetentionDays.optional(),
        '1h': RetentionDays.optional(),
        '1d': RetentionDays.optional(),
      })
      .nullable()
      .optional(),
  });
export const DefinitionParams = z.object({ name: z.string().min(1).max(200) });
