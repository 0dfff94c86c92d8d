import { z } from 'zod';
import { AGGREGATIONS } from './schemas.ts';

/** What the metrics function answers (src/metrics/http/routes.ts); the OpenAPI document is built from these. */

const Time = z.iso.datetime();
const Count = z.number().int().min(0);

export const MetricName = z
  .object({
    name: z.string(),
    /** Every instrument type the metric was sent as (usually one). */
    types: z.array(z.enum(['gauge', 'counter', 'histogram'])),
    unit: z.string().nullable(),
    description: z.string().nullable(),
    defaultAggregation: z.enum(AGGREGATIONS),
    series: Count,
    lastSeenAt: Time,
  })
  .meta({ id: 'MetricName' });

export const MetricNamesResponse = z.object({ metrics: z.array(MetricName) });
export const TagKeysResponse = z.object({ tags: z.array(z.object({ key: z.string(), values: Count })) });
export const TagValuesResponse = z.object({ values: z.array(z.string()) });

export const QueryResult = z
  .object({
    id: z.string(),
    resolution: z.enum(['1m', '5m', '1h', '1d']),
    step: z.number().int(),
    series: z.array(
      z.object({
        tags: z.record(z.string(), z.string()),
        /** [epoch seconds, value]; null where the bucket has no data. */
        points: z.array(z.tuple([z.number(), z.number().nullable()])),
      }),
    ),
    truncated: z.boolean(),
  })
  .meta({ id: 'MetricQueryResult' });
export const QueryResponse = z.object({ results: z.array(QueryResult) });

const Retention = z.object({ '1m': Count, '5m': Count, '1h': Count, '1d': Count });
export const MetricDefinition = z
  .object({
    organizationId: z.uuid(),
    name: z.string(),
    type: z.enum(['gauge', 'counter', 'histogram']),
    unit: z.string().nullable(),
    description: z.string().nullable(),
    defaultAggregation: z.enum(AGGREGATIONS),
    autoRegistered: z.boolean(),
    /** Days each rollup resolution is kept. */
    retention: Retention,
    updatedAt: Time,
  })
  .meta({ id: 'MetricDefinition' });
export const DefinitionsResponse = z.object({ definitions: z.array(MetricDefinition) });
export const DefinitionResponse = z.object({ definition: MetricDefinition });

export const CardinalityResponse = z.object({
  projectId: z.uuid(),
  limit: Count,
  totalSeries: Count,
  activeSeries: Count,
  topMetrics: z.array(z.object({ name: z.string(), series: Count })),
  topTagKeys: z.array(z.object({ key: z.string(), values: Count, series: Count })),
  rejections: z.array(
    z.object({
      day: z.iso.date(),
      metric: z.string(),
      rejectedPoints: Count,
      sampleTags: z.record(z.string(), z.unknown()),
      lastRejectedAt: Time,
    }),
  ),
});

export const IngestLimitsResponse = z.object({
  limits: z.object({ projectId: z.uuid(), maxSeries: Count, requestsPerMinute: Count, eventsPerMinute: Count }),
});
