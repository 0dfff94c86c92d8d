/**
 * @observai/sdk: metrics, logs and spans to ObservAI's ingest endpoint from Node 20+, Deno, browsers
 * and edge functions (fetch only). See README.md.
 */
export { createClient } from './client.ts';
export type { Client, ClientOptions, FlushResult, Stats } from './types.ts';
export type { LogLevel } from './core.ts';
export { ObservAIError, type ObservAIErrorCode } from './errors.ts';
export type { Counter, Gauge, Histogram, HistogramOptions, InstrumentOptions } from './metrics.ts';
export { DEFAULT_BUCKETS } from './metrics.ts';
export type { Attributes, Logger, LoggerOptions, LogRecord } from './logs.ts';
export type { Span, SpanContext, SpanKind, SpanOptions, SpanStatus } from './spans.ts';
export type { RetryOptions } from './retry.ts';
export type { Tags, TagValue } from './validate.ts';
export { createQueryClient, QueryError } from './query.ts';
export type { ApiPaths, HttpMethod, PathsFor, QueryClient, QueryClientOptions, SuccessBody } from './query.ts';
export type { components as ApiComponents, operations as ApiOperations } from './api-types.ts';
