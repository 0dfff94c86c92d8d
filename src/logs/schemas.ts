import { z } from 'zod';
import { StreamTokenParam } from '../auth/stream-token.ts';
import { invalid, List } from '../http/validate.ts';
import { type AttributeFilter, LogId, MAX_ATTRIBUTE_FILTERS } from '../log-view/query.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Upper bounds that keep one request cheap (documented in docs/API.md). */
export const LOG_LIMITS = {
  defaultRangeMs: 24 * 3_600_000,
  maxRangeMs: 400 * 86_400_000,
  defaultLimit: 100,
  maxLimit: 1000,
  maxAttributeFilters: MAX_ATTRIBUTE_FILTERS,
  maxHistogramBuckets: 1000,
  defaultHistogramBuckets: 60,
  maxContext: 100,
  defaultTailRate: 50,
  maxTailRate: 500,
} as const;

const Hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${length}}$`), `must be ${length} hexadecimal characters`).transform((s) => s.toLowerCase());
const Time = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/** The filter every log read shares: search, histogram, tail. */
const FilterFields = {
  projectId: z.uuid().optional(),
  q: z.string().max(1000).optional(),
  level: List(z.enum(LOG_LEVELS), LOG_LEVELS.length).optional(),
  /** Levels at or above this one ("at least warn"). */
  minLevel: z.enum(LOG_LEVELS).optional(),
  service: List(z.string().min(1).max(200), 50).optional(),
  traceId: Hex(32).optional(),
  spanId: Hex(16).optional(),
  /** Attribute keys that must be present. */
  has: List(z.string().min(1).max(200), LOG_LIMITS.maxAttributeFilters).optional(),
};

const Range = {
  from: Time.optional(),
  to: Time.optional(),
};

export const SearchQuery = z.strictObject({
  ...FilterFields,
  ...Range,
  order: z.enum(['desc', 'asc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(LOG_LIMITS.maxLimit).default(LOG_LIMITS.defaultLimit),
  cursor: z.string().max(200).optional(),
});

export const HistogramQuery = z.strictObject({
  ...FilterFields,
  ...Range,
  /** Bucket width in seconds; chosen from `buckets` when absent. */
  step: z.coerce.number().int().min(1).max(86_400 * 31).optional(),
  buckets: z.coerce.number().int().min(1).max(LOG_LIMITS.maxHistogramBuckets).default(LOG_LIMITS.defaultHistogramBuckets),
});

export const TailQuery = z.strictObject({
  ...FilterFields,
  /** Most lines sent per second; more are skipped and reported in a `dropped` event. */
  rate: z.coerce.number().int().min(1).max(LOG_LIMITS.maxTailRate).default(LOG_LIMITS.defaultTailRate),
  /** Resume after this log id (the SSE Last-Event-ID header does the same). */
  lastId: LogId.optional(),
  ...StreamTokenParam,
});

export const LogParams = z.strictObject({ id: LogId });
export const ContextQuery = z.strictObject({
  projectId: z.uuid().optional(),
  before: z.coerce.number().int().min(0).max(LOG_LIMITS.maxContext).default(10),
  after: z.coerce.number().int().min(0).max(LOG_LIMITS.maxContext).default(10),
});

/**
 * A parsed log filter. Attribute equality comes as `attr.<key>=<value>` query parameters (keys may
 * contain dots: `attr.http.status_code=500`); the value matches the attribute's text form.
 */
export interface LogFilter {
  projectId?: string;
  q?: string;
  levels?: LogLevel[];
  services?: string[];
  traceId?: string;
  spanId?: string;
  has?: string[];
  attributes: AttributeFilter[];
}

/** The levels a filter selects: an explicit list, "at least" a level, or both (intersected). */
export function selectedLevels(level: LogLevel[] | undefined, minLevel: LogLevel | undefined): LogLevel[] | undefined {
  let levels = level;
  if (minLevel) {
    const atLeast = LOG_LEVELS.slice(LOG_LEVELS.indexOf(minLevel));
    levels = levels ? levels.filter((l) => atLeast.includes(l)) : [...atLeast];
  }
  return levels;
}

/** A time range from optional bounds: default the last 24 hours up to now. */
export function timeRange(now: number, from: number | undefined, to: number | undefined): { from: number; to: number } {
  const end = to ?? now;
  const start = from ?? end - LOG_LIMITS.defaultRangeMs;
  if (start >= end) throw invalid('query.to', 'must be after from');
  if (end - start > LOG_LIMITS.maxRangeMs) throw invalid('query.from', 'the range may span at most 400 days');
  return { from: start, to: end };
}
