import type { DecodedBatch, ExplicitHistogram, ExponentialHistogram, MetricPoint } from '../model.ts';
import { addTags, copyTags } from './convert.ts';
import { ItemFault } from './errors.ts';
import {
  type JsonObject,
  isObject,
  jArray,
  jBool,
  jCount,
  jDouble,
  jInt,
  jKeyValues,
  jObject,
  jResource,
  jString,
  jTime,
  parseJsonBody,
  requestLevel,
} from './json-common.ts';
import {
  FLAG_NO_RECORDED_VALUE,
  type MetricContext,
  type Temporality,
  emitExplicitHistogram,
  emitExponentialHistogram,
  emitNumber,
  emitSummary,
  temporalityOf,
} from './metrics.ts';
import { Sink } from './sink.ts';

/** ExportMetricsServiceRequest in OTLP/JSON; the same mapping as the protobuf decoder. */

const DATA_KEYS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;
type DataKey = (typeof DATA_KEYS)[number];

export function decodeMetricsJson(body: Uint8Array): DecodedBatch {
  const root = parseJsonBody(body);
  const sink = new Sink();
  requestLevel(() => {
    const resources = jArray(root.resourceMetrics, 'resourceMetrics');
    for (let i = 0; i < resources.length; i++) resourceMetrics(resources[i], sink, `resourceMetrics.${i}`);
  });
  return sink.batch;
}

function resourceMetrics(v: unknown, sink: Sink, path: string): void {
  const rm = jObject(v, path);
  if (!rm) return;
  const baseTags: Record<string, string> = {};
  addTags(baseTags, jResource(rm.resource, `${path}.resource`));
  const scopes = jArray(rm.scopeMetrics, `${path}.scopeMetrics`);
  for (let i = 0; i < scopes.length; i++) {
    const sPath = `${path}.scopeMetrics.${i}`;
    const sm = jObject(scopes[i], sPath);
    if (!sm) continue;
    const metrics = jArray(sm.metrics, `${sPath}.metrics`);
    for (let j = 0; j < metrics.length; j++) metric(metrics[j], sink, baseTags, `${sPath}.metrics.${j}`);
  }
}

function metric(v: unknown, sink: Sink, baseTags: Record<string, string>, path: string): void {
  const mo = jObject(v, path);
  if (!mo) return;
  let key: DataKey | undefined;
  let data: JsonObject | undefined;
  for (const k of DATA_KEYS) {
    const d = jObject(mo[k], `${path}.${k}`);
    if (d) {
      key = k;
      data = d;
    }
  }
  if (!key || !data) return;
  const points = jArray(data.dataPoints, `${path}.${key}.dataPoints`);
  const temporality = temporalityOf(key === 'gauge' || key === 'summary' ? 0 : jInt(data.aggregationTemporality, `${path}.${key}.aggregationTemporality`));
  const monotonic = key === 'sum' && jBool(data.isMonotonic, `${path}.sum.isMonotonic`);
  const unit = jString(mo.unit, `${path}.unit`);

  // Problems with the metric itself reject each of its points (the unit of OTLP's rejected count).
  let metricProblem: ItemFault | undefined;
  if (mo.name !== undefined && mo.name !== null && typeof mo.name !== 'string') metricProblem = new ItemFault('name', 'metric name must be a string');
  else if (!mo.name) metricProblem = new ItemFault('name', 'metric name is missing');
  else if (key === 'sum' && monotonic && temporality === undefined) {
    metricProblem = new ItemFault('sum.aggregationTemporality', 'a monotonic sum needs aggregation temporality 1 (delta) or 2 (cumulative)');
  }
  const m: MetricContext = { name: typeof mo.name === 'string' ? mo.name : '', unit, baseTags };
  const out = sink.batch.metrics;
  for (let i = 0; i < points.length; i++) {
    const index = sink.item();
    if (metricProblem) {
      sink.reject(index, path, metricProblem.field, metricProblem.message);
      continue;
    }
    const before = out.length;
    try {
      const dp = points[i];
      if (!isObject(dp)) throw new ItemFault('', 'expected a data point object');
      switch (key) {
        case 'gauge':
          numberPoint(dp, out, m, 'gauge', undefined);
          break;
        case 'sum':
          // A non-monotonic sum (up-down counter) is a level, not a count: a gauge.
          numberPoint(dp, out, m, monotonic ? 'counter' : 'gauge', monotonic ? temporality : undefined);
          break;
        case 'histogram':
          histogramPoint(dp, out, m, temporality);
          break;
        case 'exponentialHistogram':
          exponentialHistogramPoint(dp, out, m, temporality);
          break;
        case 'summary':
          summaryPoint(dp, out, m);
          break;
      }
      if (out.length > before) sink.origin(out, before, index, `${path}.${key}.dataPoints.${i}`);
    } catch (e) {
      sink.fault(e, index, `${path}.${key}.dataPoints.${i}`);
    }
  }
}

function pointTags(dp: JsonObject, m: MetricContext, field: string): Record<string, string> {
  const tags = copyTags(m.baseTags);
  jKeyValues(dp[field], field, tags, 0, true);
  return tags;
}

function noRecordedValue(dp: JsonObject): boolean {
  return (jInt(dp.flags, 'flags') & FLAG_NO_RECORDED_VALUE) !== 0;
}

function numberPoint(dp: JsonObject, out: MetricPoint[], m: MetricContext, type: 'gauge' | 'counter', temporality: Temporality): void {
  if (noRecordedValue(dp)) return;
  let value = jDouble(dp.asDouble, 'asDouble');
  if (value === undefined && dp.asInt !== undefined && dp.asInt !== null) value = jInt(dp.asInt, 'asInt');
  emitNumber(out, m, type, temporality, pointTags(dp, m, 'attributes'), jTime(dp.timeUnixNano, 'timeUnixNano'), value);
}

function histogramPoint(dp: JsonObject, out: MetricPoint[], m: MetricContext, temporality: Temporality): void {
  if (noRecordedValue(dp)) return;
  const h: ExplicitHistogram = {
    kind: 'explicit',
    count: jCount(dp.count, 'count'),
    sum: jDouble(dp.sum, 'sum') ?? null,
    min: jDouble(dp.min, 'min') ?? null,
    max: jDouble(dp.max, 'max') ?? null,
    bounds: doubles(dp.explicitBounds, 'explicitBounds'),
    counts: counts(dp.bucketCounts, 'bucketCounts'),
  };
  emitExplicitHistogram(out, m, temporality, pointTags(dp, m, 'attributes'), jTime(dp.timeUnixNano, 'timeUnixNano'), h);
}

function exponentialHistogramPoint(dp: JsonObject, out: MetricPoint[], m: MetricContext, temporality: Temporality): void {
  if (noRecordedValue(dp)) return;
  const h: ExponentialHistogram = {
    kind: 'exponential',
    count: jCount(dp.count, 'count'),
    sum: jDouble(dp.sum, 'sum') ?? null,
    min: jDouble(dp.min, 'min') ?? null,
    max: jDouble(dp.max, 'max') ?? null,
    scale: jInt(dp.scale, 'scale'),
    zeroCount: jCount(dp.zeroCount, 'zeroCount'),
    zeroThreshold: jDouble(dp.zeroThreshold, 'zeroThreshold') ?? 0,
    positive: buckets(dp.positive, 'positive'),
    negative: buckets(dp.negative, 'negative'),
  };
  emitExponentialHistogram(out, m, temporality, pointTags(dp, m, 'attributes'), jTime(dp.timeUnixNano, 'timeUnixNano'), h);
}

function buckets(v: unknown, field: string): { offset: number; counts: number[] } {
  const b = jObject(v, field);
  if (!b) return { offset: 0, counts: [] };
  return { offset: jInt(b.offset, `${field}.offset`), counts: counts(b.bucketCounts, `${field}.bucketCounts`) };
}

function summaryPoint(dp: JsonObject, out: MetricPoint[], m: MetricContext): void {
  if (noRecordedValue(dp)) return;
  const list = jArray(dp.quantileValues, 'quantileValues');
  const quantiles: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const qv = jObject(list[i], `quantileValues.${i}`);
    quantiles.push(jDouble(qv?.quantile, `quantileValues.${i}.quantile`) ?? 0);
    values.push(jDouble(qv?.value, `quantileValues.${i}.value`) ?? 0);
  }
  const tags = pointTags(dp, m, 'attributes');
  emitSummary(out, m, tags, jTime(dp.timeUnixNano, 'timeUnixNano'), jCount(dp.count, 'count'), jDouble(dp.sum, 'sum') ?? 0, quantiles, values);
}

function doubles(v: unknown, field: string): number[] {
  const list = jArray(v, field);
  const out: number[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = jDouble(list[i], `${field}.${i}`) ?? 0;
  return out;
}

function counts(v: unknown, field: string): number[] {
  const list = jArray(v, field);
  const out: number[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = jCount(list[i], `${field}.${i}`);
  return out;
}
