import { z } from 'zod';
import { NativeLog, NativeMetric, NativeSpan } from './schemas.ts';

/**
 * What the ingest function takes and answers, for the OpenAPI document (src/ingest/http/routes.ts).
 * The native batch is validated item by item with the same schemas (partial success).
 */

/** A native JSON batch: each array optional; each item validated alone. */
export const NativeBatchBody = z
  .object({ metrics: z.array(NativeMetric).optional(), logs: z.array(NativeLog).optional(), spans: z.array(NativeSpan).optional() })
  .meta({ id: 'NativeBatch', description: 'Items are validated one by one: valid ones are stored, invalid ones are listed in errors.' });

export const IngestResult = z.object({
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
  /** Events seen before (same content or id): acknowledged, not stored twice. */
  duplicates: z.number().int().min(0),
  /** One per rejected item (at most 1000), by its index in the request. */
  errors: z.array(z.object({ index: z.number().int().min(0), field: z.string(), message: z.string() })),
});

export const IngestStatsResponse = z.object({
  dedupDegraded: z.number().int(),
  rateLimitDegraded: z.number().int(),
  requests: z.number().int(),
  events: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  confirmed: z.number().int(),
  rewrites: z.number().int(),
  breaker: z.enum(['closed', 'open', 'half-open']),
  writesInFlight: z.number().int(),
});

/** OTLP/JSON Export*ServiceResponse: `{}` when everything was stored. int64 counts are decimal strings (proto3 JSON). */
export const OtlpExportResponse = z.object({
  partialSuccess: z
    .object({
      rejectedDataPoints: z.string().optional(),
      rejectedLogRecords: z.string().optional(),
      rejectedSpans: z.string().optional(),
      errorMessage: z.string().optional(),
    })
    .optional(),
});

/** google.rpc.Status, the error body of OTLP/HTTP. */
export const OtlpStatus = z.object({ code: z.number().int(), message: z.string() }).meta({ id: 'OtlpStatus' });

/** An OTLP/JSON export request (opentelemetry-proto); its items are validated one by one. */
export const otlpJsonBody = (field: 'resourceMetrics' | 'resourceLogs' | 'resourceSpans') => z.looseObject({ [field]: z.array(z.looseObject({})).optional() });
