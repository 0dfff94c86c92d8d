import { z } from 'zod';

/** What the logs function answers (src/logs/http/routes.ts); the OpenAPI document is built from these. */

/** ISO 8601 UTC, to the microsecond where the stored time has them. */
const Time = z.iso.datetime();
const Count = z.number().int().min(0);

export const LogLine = z
  .object({
    /** Public id: the value for `/logs/{id}`, `lastId` and `Last-Event-ID`. */
    id: z.string(),
    time: Time,
    level: z.string(),
    severityNumber: z.number().int().nullable(),
    service: z.string(),
    message: z.string(),
    attributes: z.record(z.string(), z.unknown()),
    resource: z.record(z.string(), z.unknown()),
    traceId: z.string().nullable(),
    spanId: z.string().nullable(),
  })
  .meta({ id: 'LogLine' });

export const LogSearchResponse = z.object({
  logs: z.array(LogLine),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: z.string().nullable(),
  from: Time,
  to: Time,
});

export const LogHistogramResponse = z.object({
  step: z.number().int(),
  from: Time,
  to: Time,
  total: Count,
  /** Lines per level over the whole range. */
  totals: z.record(z.string(), Count),
  buckets: z.array(z.object({ start: Time, total: Count, counts: z.record(z.string(), Count) })),
});

export const LogContextResponse = z.object({
  log: LogLine.extend({ projectId: z.uuid() }),
  /** Lines of the same service just before and after it. */
  before: z.array(LogLine),
  after: z.array(LogLine),
});

/** The live tail: `log` events (data: a LogLine), heartbeats as comments, `end` when the stream closes. */
export const TAIL_STREAM = {
  description: 'Server-sent events: `log` (data: a LogLine as JSON, id: its id), `error`, and `end` (data: the reason) before the stream closes.',
  content: { 'text/event-stream': undefined },
} as const;
