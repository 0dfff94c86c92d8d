import type { ExplicitHistogram, ExponentialHistogram, MetricPoint } from '../model.ts';
import { copyTags } from './convert.ts';
import { ItemFault } from './errors.ts';

/**
 * OTLP metrics to MetricPoints, shared by the protobuf and JSON decoders (which read the wire
 * values and call these once per data point).
 *
 * - Gauge -> gauge; monotonic Sum -> counter with its temporality; non-monotonic Sum (up-down
 *   counter) -> gauge; Histogram -> histogram (explicit); ExponentialHistogram -> histogram
 *   (exponential); Summary -> a gauge per quantile (tag "quantile") plus <name>_count and
 *   <name>_sum cumulative counters.
 * - Tags: resource attributes, then data point attributes (which win), all as strings. The
 *   instrumentation scope is not a tag: it would multiply series without identifying anything new.
 * - A data point flagged NO_RECORDED_VALUE is skipped without an error.
 */

/** DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK */
export const FLAG_NO_RECORDED_VALUE = 1;

export type Temporality = 'delta' | 'cumulative' | undefined;

/** AggregationTemporality: 1 delta, 2 cumulative, anything else unknown. */
export function temporalityOf(v: number): Temporality {
  return v === 1 ? 'delta' : v === 2 ? 'cumulative' : undefined;
}

/** The metric a data point belongs to. */
export interface MetricContext {
  name: string;
  unit: string;
  /** Resource attributes as tags, copied into each point's tags. */
  baseTags: Record<string, string>;
}

function point(unit: string, name: string, type: MetricPoint['type'], value: number, timestamp: number, tags: Record<string, string>): MetricPoint {
  const p: MetricPoint = { name, type, value, timestamp, tags };
  if (unit !== '') p.unit = unit;
  return p;
}

function requireTime(timeMs: number): void {
  if (timeMs === 0) throw new ItemFault('timeUnixNano', 'timestamp missing');
}

/** A NumberDataPoint of a Gauge or Sum. `value` is undefined when neither as_double nor as_int was set. */
export function emitNumber(
  out: MetricPoint[],
  m: MetricContext,
  type: 'gauge' | 'counter',
  temporality: Temporality,
  tags: Record<string, string>,
  timeMs: number,
  value: number | undefined,
): void {
  requireTime(timeMs);
  if (value === undefined) throw new ItemFault('value', 'data point has neither asDouble nor asInt');
  const p = point(m.unit, m.name, type, value, timeMs, tags);
  if (temporality !== undefined) p.temporality = temporality;
  out.push(p);
}

/**
 * A HistogramDataPoint. Without bucket counts (allowed by OTLP) the histogram is one bucket
 * holding every observation: bounds [], counts [count].
 */
export function emitExplicitHistogram(
  out: MetricPoint[],
  m: MetricContext,
  temporality: Temporality,
  tags: Record<string, string>,
  timeMs: number,
  h: ExplicitHistogram,
): void {
  requireTime(timeMs);
  if (h.counts.length === 0) {
    h.bounds = [];
    h.counts = [h.count];
  } else if (h.counts.length !== h.bounds.length + 1) {
    throw new ItemFault(
      'bucketCounts',
      `must have explicitBounds.length + 1 entries (got ${h.counts.length} counts for ${h.bounds.length} bounds)`,
    );
  }
  emitHistogram(out, m, temporality, tags, timeMs, h);
}

/** An ExponentialHistogramDataPoint. */
export function emitExponentialHistogram(
  out: MetricPoint[],
  m: MetricContext,
  temporality: Temporality,
  tags: Record<string, string>,
  timeMs: number,
  h: ExponentialHistogram,
): void {
  requireTime(timeMs);
  emitHistogram(out, m, temporality, tags, timeMs, h);
}

function emitHistogram(
  out: MetricPoint[],
  m: MetricContext,
  temporality: Temporality,
  tags: Record<string, string>,
  timeMs: number,
  h: ExplicitHistogram | ExponentialHistogram,
): void {
  const p = point(m.unit, m.name, 'histogram', h.sum ?? h.count, timeMs, tags);
  // Histograms carry a temporality too (delta or cumulative buckets); keep it for the consumer.
  if (temporality !== undefined) p.temporality = temporality;
  p.histogram = h;
  out.push(p);
}

/** A SummaryDataPoint: quantiles as gauges, count and sum as cumulative counters (Prometheus style). */
export function emitSummary(
  out: MetricPoint[],
  m: MetricContext,
  tags: Record<string, string>,
  timeMs: number,
  count: number,
  sum: number,
  quantiles: number[],
  values: number[],
): void {
  requireTime(timeMs);
  for (let i = 0; i < quantiles.length; i++) {
    const qTags = copyTags(tags);
    qTags.quantile = String(quantiles[i]);
    out.push(point(m.unit, m.name, 'gauge', values[i]!, timeMs, qTags));
  }
  // A count has no unit even when the observations have one.
  const c = point('', `${m.name}_count`, 'counter', count, timeMs, copyTags(tags));
  c.temporality = 'cumulative';
  const s = point(m.unit, `${m.name}_sum`, 'counter', sum, timeMs, tags);
  s.temporality = 'cumulative';
  out.push(c, s);
}
