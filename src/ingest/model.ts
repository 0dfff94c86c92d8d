/**
 * The ingest domain's internal model: what native JSON/NDJSON and OTLP (JSON and protobuf) are
 * decoded into before validation limits, dedup and the write path. Times are Unix epoch
 * milliseconds as numbers; fractional parts carry microseconds (Postgres keeps microseconds).
 */

export type MetricType = 'gauge' | 'counter' | 'histogram';

/** Explicit-bucket histogram (OTLP Histogram): counts[i] counts values in (bounds[i-1], bounds[i]]. */
export interface ExplicitHistogram {
  kind: 'explicit';
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
  /** Upper bounds, strictly increasing; counts has bounds.length + 1 entries (the last is +Inf). */
  bounds: number[];
  counts: number[];
}

/**
 * Exponential histogram (OTLP ExponentialHistogram): base = 2^(2^-scale); bucket index i covers
 * (base^i, base^(i+1)]; positive/negative buckets start at `offset`.
 */
export interface ExponentialHistogram {
  kind: 'exponential';
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
  scale: number;
  zeroCount: number;
  zeroThreshold: number;
  positive: { offset: number; counts: number[] };
  negative: { offset: number; counts: number[] };
}

export interface MetricPoint {
  name: string;
  type: MetricType;
  /** gauge: the value; counter: the (cumulative or delta) count; histogram: the sum of observations (or count when no sum). */
  value: number;
  timestamp: number;
  /** Identifies the series together with the name. Resource attributes (service.name, ...) are folded in. */
  tags: Record<string, string>;
  unit?: string;
  /** For counters: cumulative (monotonic running total, resets allowed) or delta (per interval). */
  temporality?: 'cumulative' | 'delta';
  histogram?: ExplicitHistogram | ExponentialHistogram;
  /** Client-supplied event id for dedup; a content fingerprint is used when absent. */
  id?: string;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LogRecord {
  timestamp: number;
  level: LogLevel;
  /** OTLP severity number (1-24) when known. */
  severityNumber?: number;
  message: string;
  service: string;
  attributes: Record<string, unknown>;
  /** Resource attributes (service.name, host.name, ...), kept apart from record attributes. */
  resource?: Record<string, unknown>;
  /** 32 lowercase hex characters. */
  traceId?: string;
  /** 16 lowercase hex characters. */
  spanId?: string;
  id?: string;
}

export type SpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type SpanStatus = 'unset' | 'ok' | 'error';

export interface SpanEvent {
  name: string;
  timestamp: number;
  attributes: Record<string, unknown>;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes: Record<string, unknown>;
}

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  start: number;
  end: number;
  status: SpanStatus;
  statusMessage?: string;
  kind: SpanKind;
  attributes: Record<string, unknown>;
  resource?: Record<string, unknown>;
  events: SpanEvent[];
  links: SpanLink[];
  id?: string;
}

/** One item that could not be accepted, by its position in the request. */
export interface ItemError {
  index: number;
  /** Dotted path inside the item, e.g. "metrics.3.value". */
  field: string;
  message: string;
}

export interface DecodedBatch {
  metrics: MetricPoint[];
  logs: LogRecord[];
  spans: Span[];
  /** Items rejected while decoding (the rest of the batch is still accepted). */
  errors: ItemError[];
  /**
   * Where each decoded item sits in the request, for errors found after decoding (acceptance window,
   * series limit). Without it, items are reported by their position in their own list.
   */
  origins?: WeakMap<object, ItemOrigin>;
}

export interface ItemOrigin {
  index: number;
  field: string;
}
