import type { LogLevel } from './core.ts';
import type { ObservAIError } from './errors.ts';
import type { LogRecord, Logger, LoggerOptions } from './logs.ts';
import type { Counter, Gauge, Histogram, HistogramOptions, InstrumentOptions } from './metrics.ts';
import type { RetryOptions } from './retry.ts';
import type { Span, SpanOptions } from './spans.ts';
import type { Tags } from './validate.ts';

export interface ClientOptions {
  /** The functions base (`https://<ref>.supabase.co/functions/v1`, `http://localhost:54321/functions/v1`) or the ingest URL itself. */
  url: string;
  /** An API key with the `ingest` scope. */
  apiKey: string;
  /** Service of logs and spans (default `unknown_service`, as the server). */
  service?: string;
  /** Tags on every metric point (host, region, version...). */
  tags?: Tags;
  /** Logs below this level are not sent (default `info`). */
  level?: LogLevel;

  /** A batch goes out when this many events are queued (default 1,000; at most 10,000, the server's limit). */
  maxBatchEvents?: number;
  /** ... or this many bytes of JSON (default 1 MiB; the server takes 5 MiB). */
  maxBatchBytes?: number;
  /** ... or this long after the last one (default 1,000 ms). */
  flushIntervalMs?: number;
  /** Queue bound in events (default 50,000): past it the oldest are dropped and counted. */
  maxQueueEvents?: number;
  /** Queue bound in bytes of JSON, estimated (default 8 MiB): past it the oldest are dropped and counted. */
  maxQueueBytes?: number;
  /** Requests in flight at once (default 2). */
  concurrency?: number;
  /** Gzip request bodies over 1 KiB (default true where CompressionStream exists). */
  gzip?: boolean;
  /** A request not answered within this is abandoned and retried (default 10,000 ms). */
  requestTimeoutMs?: number;
  retry?: RetryOptions;

  /** Invalid metric names, tags, values, log attributes: counted and dropped (default), or thrown at the call. */
  onInvalid?: 'drop' | 'throw';
  /** Everything the SDK would otherwise keep to itself (default: console.warn, once per code). Never called twice for INVALID_EVENT. */
  onError?: (err: ObservAIError) => void;
  /** Flush on Node beforeExit/SIGTERM/SIGINT, Deno beforeunload, a browser page hiding (default false). */
  shutdownHooks?: boolean;
  /** How long a shutdown hook waits for the flush (default 5,000 ms). */
  shutdownTimeoutMs?: number;

  /** The fetch to use (default globalThis.fetch). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Event timestamps in epoch ms (default Date.now); for tests. */
  now?: () => number;
}

export interface Stats {
  /** Valid events handed to the SDK. Always enqueued = sent + dropped + queued + inFlight. */
  enqueued: number;
  /** Events whose request the server answered (2xx, or 400 refusing them all): accepted + duplicates + rejected. */
  sent: number;
  accepted: number;
  /** Events the server already had (a retry of a request whose answer was lost): acknowledged, not stored again. */
  duplicates: number;
  /** Events the server refused one by one (reported to onError; never resent). */
  rejected: number;
  /** Events dropped by the SDK: droppedOverflow + droppedFailed + droppedClosed. */
  dropped: number;
  /** Oldest events pushed out of a full queue. */
  droppedOverflow: number;
  /** Events of requests refused for good (401, 403, 413...) or retried past retry.giveUpAfterMs. */
  droppedFailed: number;
  /** Events given after close(), or still queued when close() timed out. */
  droppedClosed: number;
  /** Calls refused at the call site (never queued). */
  invalid: number;
  /** Event sends after the first (an event in a batch sent three times counts 2). */
  retried: number;
  /** HTTP requests made, retries included. */
  requests: number;
  /** Events in the queue now. */
  queued: number;
  /** Estimated bytes in the queue now. */
  queuedBytes: number;
  /** Events taken from the queue and not yet answered (in a request, or waiting to be retried). */
  inFlight: number;
}

export interface FlushResult {
  /** True when everything queued was answered (or dropped) before the timeout. */
  ok: boolean;
  /** Events still queued or in flight. */
  pending: number;
}

export interface Client {
  counter(name: string, options?: InstrumentOptions): Counter;
  gauge(name: string, options?: InstrumentOptions): Gauge;
  histogram(name: string, options?: HistogramOptions): Histogram;
  logger(options?: LoggerOptions): Logger;
  /** One log line given whole (what integrations such as the pino transport use). */
  log(record: LogRecord): void;
  startSpan(name: string, options?: SpanOptions): Span;
  /** Runs fn in a span that ends when fn returns or its promise settles (an exception marks it error and is rethrown). */
  trace<T>(name: string, fn: (span: Span) => T, options?: SpanOptions): T;
  /** Sends everything queued now; resolves when it is answered or after timeoutMs (default 10,000). Never rejects. */
  flush(options?: { timeoutMs?: number }): Promise<FlushResult>;
  /**
   * For edge functions: hands flush() to the runtime's waitUntil (the given context's, or Supabase's
   * EdgeRuntime.waitUntil) so the response goes out now and the isolate lives until the events are sent.
   */
  flushInBackground(ctx?: { waitUntil(promise: Promise<unknown>): void }, options?: { timeoutMs?: number }): Promise<FlushResult>;
  /** Flushes, stops the timer and the shutdown hooks; later events are dropped (droppedClosed). */
  close(options?: { timeoutMs?: number }): Promise<FlushResult>;
  stats(): Stats;
}
