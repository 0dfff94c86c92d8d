import type { DecodedBatch, ExplicitHistogram, ExponentialHistogram } from '../model.ts';
import { addTags, copyTags, nanosToMs } from './convert.ts';
import { OtlpDecodeError } from './errors.ts';
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
import { readKeyValue, readResource } from './protobuf-common.ts';
import { Sink } from './sink.ts';
import { ProtoReader, WIRE_I64, WIRE_LEN, WIRE_VARINT, messageSpec, tagOf } from './wire.ts';

/** ExportMetricsServiceRequest (opentelemetry/proto/collector/metrics/v1, metrics/v1) in protobuf. */

const REQUEST = messageSpec('ExportMetricsServiceRequest', { 1: ['resource_metrics', WIRE_LEN] });
const RESOURCE_METRICS = messageSpec('ResourceMetrics', {
  1: ['resource', WIRE_LEN],
  2: ['scope_metrics', WIRE_LEN],
  3: ['schema_url', WIRE_LEN],
});
const SCOPE_METRICS = messageSpec('ScopeMetrics', {
  1: ['scope', WIRE_LEN],
  2: ['metrics', WIRE_LEN],
  3: ['schema_url', WIRE_LEN],
});
const METRIC = messageSpec('Metric', {
  1: ['name', WIRE_LEN],
  2: ['description', WIRE_LEN],
  3: ['unit', WIRE_LEN],
  5: ['gauge', WIRE_LEN],
  7: ['sum', WIRE_LEN],
  9: ['histogram', WIRE_LEN],
  10: ['exponential_histogram', WIRE_LEN],
  11: ['summary', WIRE_LEN],
  12: ['metadata', WIRE_LEN],
});
/** Gauge, Sum, Histogram, ExponentialHistogram and Summary share these field numbers. */
const SERIES = messageSpec('metric data', {
  1: ['data_points', WIRE_LEN],
  2: ['aggregation_temporality', WIRE_VARINT],
  3: ['is_monotonic', WIRE_VARINT],
});
const NUMBER_DP = messageSpec('NumberDataPoint', {
  2: ['start_time_unix_nano', WIRE_I64],
  3: ['time_unix_nano', WIRE_I64],
  4: ['as_double', WIRE_I64],
  5: ['exemplars', WIRE_LEN],
  6: ['as_int', WIRE_I64],
  7: ['attributes', WIRE_LEN],
  8: ['flags', WIRE_VARINT],
});
const HISTOGRAM_DP = messageSpec('HistogramDataPoint', {
  2: ['start_time_unix_nano', WIRE_I64],
  3: ['time_unix_nano', WIRE_I64],
  4: ['count', WIRE_I64],
  5: ['sum', WIRE_I64],
  6: ['bucket_counts', WIRE_LEN],
  7: ['explicit_bounds', WIRE_LEN],
  8: ['exemplars', WIRE_LEN],
  9: ['attributes', WIRE_LEN],
  10: ['flags', WIRE_VARINT],
  11: ['min', WIRE_I64],
  12: ['max', WIRE_I64],
});
const EXP_HISTOGRAM_DP = messageSpec('ExponentialHistogramDataPoint', {
  1: ['attributes', WIRE_LEN],
  2: ['start_time_unix_nano', WIRE_I64],
  3: ['time_unix_nano', WIRE_I64],
  4: ['count', WIRE_I64],
  5: ['sum', WIRE_I64],
  6: ['scale', WIRE_VARINT],
  7: ['zero_count', WIRE_I64],
  8: ['positive', WIRE_LEN],
  9: ['negative', WIRE_LEN],
  10: ['flags', WIRE_VARINT],
  11: ['exemplars', WIRE_LEN],
  12: ['min', WIRE_I64],
  13: ['max', WIRE_I64],
  14: ['zero_threshold', WIRE_I64],
});
const BUCKETS = messageSpec('ExponentialHistogramDataPoint.Buckets', {
  1: ['offset', WIRE_VARINT],
  2: ['bucket_counts', WIRE_LEN],
});
const SUMMARY_DP = messageSpec('SummaryDataPoint', {
  2: ['start_time_unix_nano', WIRE_I64],
  3: ['time_unix_nano', WIRE_I64],
  4: ['count', WIRE_I64],
  5: ['sum', WIRE_I64],
  6: ['quantile_values', WIRE_LEN],
  7: ['attributes', WIRE_LEN],
  8: ['flags', WIRE_VARINT],
});
const VALUE_AT_QUANTILE = messageSpec('SummaryDataPoint.ValueAtQuantile', {
  1: ['quantile', WIRE_I64],
  2: ['value', WIRE_I64],
});

const T1_LEN = tagOf(1, WIRE_LEN);
const T1_VARINT = tagOf(1, WIRE_VARINT);
const T1_I64 = tagOf(1, WIRE_I64);
const T2_LEN = tagOf(2, WIRE_LEN);
const T2_VARINT = tagOf(2, WIRE_VARINT);
const T2_I64 = tagOf(2, WIRE_I64);
const T3_LEN = tagOf(3, WIRE_LEN);
const T3_VARINT = tagOf(3, WIRE_VARINT);
const T3_I64 = tagOf(3, WIRE_I64);
const T4_I64 = tagOf(4, WIRE_I64);
const T5_I64 = tagOf(5, WIRE_I64);
const T5_LEN = tagOf(5, WIRE_LEN);
const T6_I64 = tagOf(6, WIRE_I64);
const T6_LEN = tagOf(6, WIRE_LEN);
const T6_VARINT = tagOf(6, WIRE_VARINT);
const T7_LEN = tagOf(7, WIRE_LEN);
const T7_I64 = tagOf(7, WIRE_I64);
const T8_LEN = tagOf(8, WIRE_LEN);
const T8_VARINT = tagOf(8, WIRE_VARINT);
const T9_LEN = tagOf(9, WIRE_LEN);
const T10_LEN = tagOf(10, WIRE_LEN);
const T10_VARINT = tagOf(10, WIRE_VARINT);
const T11_LEN = tagOf(11, WIRE_LEN);
const T11_I64 = tagOf(11, WIRE_I64);
const T12_I64 = tagOf(12, WIRE_I64);
const T13_I64 = tagOf(13, WIRE_I64);
const T14_I64 = tagOf(14, WIRE_I64);

/** Which of Metric's data oneof a metric carries (an index into DATA_KEYS). */
const Kind = { Gauge: 0, Sum: 1, Histogram: 2, ExponentialHistogram: 3, Summary: 4 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

const DATA_KEYS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'];

export function decodeMetricsProtobuf(body: Uint8Array): DecodedBatch {
  const r = new ProtoReader(body);
  const sink = new Sink();
  const end = r.length;
  let i = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T1_LEN) resourceMetrics(r, r.lengthEnd(end), sink, `resourceMetrics.${i++}`);
    else r.skip(t, end, REQUEST);
  }
  return sink.batch;
}

function resourceMetrics(r: ProtoReader, end: number, sink: Sink, path: string): void {
  // The resource may follow its scopes on the wire: read it first, then the scopes.
  const start = r.pos;
  const resource: Record<string, unknown> = {};
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T1_LEN) readResource(r, r.lengthEnd(end), resource);
    else r.skip(t, end, RESOURCE_METRICS);
  }
  const baseTags: Record<string, string> = {};
  addTags(baseTags, resource);
  r.pos = start;
  let i = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T2_LEN) scopeMetrics(r, r.lengthEnd(end), sink, baseTags, `${path}.scopeMetrics.${i++}`);
    else r.skip(t, end, RESOURCE_METRICS);
  }
}

function scopeMetrics(r: ProtoReader, end: number, sink: Sink, baseTags: Record<string, string>, path: string): void {
  let i = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T2_LEN) metric(r, r.lengthEnd(end), sink, baseTags, `${path}.metrics.${i++}`);
    else r.skip(t, end, SCOPE_METRICS);
  }
}

function metric(r: ProtoReader, end: number, sink: Sink, baseTags: Record<string, string>, path: string): void {
  // Name and unit may follow the data on the wire: find them and the data (a oneof: the last wins) first.
  let name = '';
  let unit = '';
  let kind: Kind | -1 = -1;
  let dataStart = 0;
  let dataEnd = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case T1_LEN:
        name = r.string(end);
        break;
      case T3_LEN:
        unit = r.string(end);
        break;
      case T5_LEN:
      case T7_LEN:
      case T9_LEN:
      case T10_LEN:
      case T11_LEN:
        kind = t === T5_LEN ? Kind.Gauge : t === T7_LEN ? Kind.Sum : t === T9_LEN ? Kind.Histogram : t === T10_LEN ? Kind.ExponentialHistogram : Kind.Summary;
        dataEnd = r.lengthEnd(end);
        dataStart = r.pos;
        r.pos = dataEnd;
        break;
      default:
        r.skip(t, end, METRIC);
    }
  }
  if (kind === -1) return;
  const after = r.pos;
  r.pos = dataStart;
  series(r, dataEnd, sink, { name, unit, baseTags }, kind, path);
  r.pos = after;
}

function series(r: ProtoReader, end: number, sink: Sink, m: MetricContext, kind: Kind, metricPath: string): void {
  // Temporality and monotonicity may follow the points: read them first.
  const start = r.pos;
  let temporalityCode = 0;
  let monotonic = false;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T2_VARINT) temporalityCode = r.int32(end);
    else if (t === T3_VARINT) monotonic = r.bool(end);
    else r.skip(t, end, SERIES);
  }
  const temporality = temporalityOf(temporalityCode);
  const pointsPath = `${metricPath}.${DATA_KEYS[kind]}.dataPoints`;
  const out = sink.batch.metrics;
  r.pos = start;
  let i = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    if (t !== T1_LEN) {
      r.skip(t, end, SERIES);
      continue;
    }
    const dpEnd = r.lengthEnd(end);
    const index = sink.item();
    const k = i++;
    if (m.name === '') {
      sink.reject(index, metricPath, 'name', 'metric name is missing');
      r.pos = dpEnd;
      continue;
    }
    if (kind === Kind.Sum && monotonic && temporality === undefined) {
      sink.reject(index, metricPath, 'sum.aggregationTemporality', 'a monotonic sum needs aggregation temporality 1 (delta) or 2 (cumulative)');
      r.pos = dpEnd;
      continue;
    }
    const before = out.length;
    try {
      switch (kind) {
        case Kind.Gauge:
          numberPoint(r, dpEnd, out, m, 'gauge', undefined);
          break;
        case Kind.Sum:
          // A non-monotonic sum (up-down counter) is a level, not a count: a gauge.
          numberPoint(r, dpEnd, out, m, monotonic ? 'counter' : 'gauge', monotonic ? temporality : undefined);
          break;
        case Kind.Histogram:
          histogramPoint(r, dpEnd, out, m, temporality);
          break;
        case Kind.ExponentialHistogram:
          exponentialHistogramPoint(r, dpEnd, out, m, temporality);
          break;
        case Kind.Summary:
          summaryPoint(r, dpEnd, out, m);
          break;
      }
      if (out.length > before) sink.origin(out, before, index, `${pointsPath}.${k}`);
    } catch (e) {
      sink.fault(e, index, `${pointsPath}.${k}`);
      r.pos = dpEnd;
    }
  }
}

function numberPoint(
  r: ProtoReader,
  end: number,
  out: DecodedBatch['metrics'],
  m: MetricContext,
  type: 'gauge' | 'counter',
  temporality: Temporality,
): void {
  const tags = copyTags(m.baseTags);
  let timeMs = 0;
  let value: number | undefined;
  let flags = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case T3_I64:
        r.fixed64(end);
        timeMs = nanosToMs(r.lo, r.hi);
        break;
      case T4_I64:
        value = r.double(end);
        break;
      case T6_I64:
        value = r.sfixed64Number(end);
        break;
      case T7_LEN:
        readKeyValue(r, r.lengthEnd(end), tags, 0, true);
        break;
      case T8_VARINT:
        flags = r.varint(end);
        break;
      default:
        r.skip(t, end, NUMBER_DP);
    }
  }
  if (flags & FLAG_NO_RECORDED_VALUE) return;
  emitNumber(out, m, type, temporality, tags, timeMs, value);
}

function histogramPoint(r: ProtoReader, end: number, out: DecodedBatch['metrics'], m: MetricContext, temporality: Temporality): void {
  const tags = copyTags(m.baseTags);
  const h: ExplicitHistogram = { kind: 'explicit', count: 0, sum: null, min: null, max: null, bounds: [], counts: [] };
  let timeMs = 0;
  let flags = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case T3_I64:
        r.fixed64(end);
        timeMs = nanosToMs(r.lo, r.hi);
        break;
      case T4_I64:
        h.count = r.fixed64Number(end);
        break;
      case T5_I64:
        h.sum = r.double(end);
        break;
      case T6_LEN:
        packedFixed64(r, r.lengthEnd(end), h.counts);
        break;
      case T6_I64:
        h.counts.push(r.fixed64Number(end));
        break;
      case T7_LEN:
        packedDouble(r, r.lengthEnd(end), h.bounds);
        break;
      case T7_I64:
        h.bounds.push(r.double(end));
        break;
      case T9_LEN:
        readKeyValue(r, r.lengthEnd(end), tags, 0, true);
        break;
      case T10_VARINT:
        flags = r.varint(end);
        break;
      case T11_I64:
        h.min = r.double(end);
        break;
      case T12_I64:
        h.max = r.double(end);
        break;
      default:
        r.skip(t, end, HISTOGRAM_DP);
    }
  }
  if (flags & FLAG_NO_RECORDED_VALUE) return;
  emitExplicitHistogram(out, m, temporality, tags, timeMs, h);
}

function exponentialHistogramPoint(r: ProtoReader, end: number, out: DecodedBatch['metrics'], m: MetricContext, temporality: Temporality): void {
  const tags = copyTags(m.baseTags);
  const h: ExponentialHistogram = {
    kind: 'exponential',
    count: 0,
    sum: null,
    min: null,
    max: null,
    scale: 0,
    zeroCount: 0,
    zeroThreshold: 0,
    positive: { offset: 0, counts: [] },
    negative: { offset: 0, counts: [] },
  };
  let timeMs = 0;
  let flags = 0;
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case T1_LEN:
        readKeyValue(r, r.lengthEnd(end), tags, 0, true);
        break;
      case T3_I64:
        r.fixed64(end);
        timeMs = nanosToMs(r.lo, r.hi);
        break;
      case T4_I64:
        h.count = r.fixed64Number(end);
        break;
      case T5_I64:
        h.sum = r.double(end);
        break;
      case T6_VARINT:
        h.scale = r.sint32(end);
        break;
      case T7_I64:
        h.zeroCount = r.fixed64Number(end);
        break;
      case T8_LEN:
        buckets(r, r.lengthEnd(end), h.positive);
        break;
      case T9_LEN:
        buckets(r, r.lengthEnd(end), h.negative);
        break;
      case T10_VARINT:
        flags = r.varint(end);
        break;
      case T12_I64:
        h.min = r.double(end);
        break;
      case T13_I64:
        h.max = r.double(end);
        break;
      case T14_I64:
        h.zeroThreshold = r.double(end);
        break;
      default:
        r.skip(t, end, EXP_HISTOGRAM_DP);
    }
  }
  if (flags & FLAG_NO_RECORDED_VALUE) return;
  emitExponentialHistogram(out, m, temporality, tags, timeMs, h);
}

function buckets(r: ProtoReader, end: number, into: { offset: number; counts: number[] }): void {
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === T1_VARINT) {
      into.offset = r.sint32(end);
    } else if (t === T2_LEN) {
      const e = r.lengthEnd(end);
      while (r.pos < e) into.counts.push(r.uint64(e));
    } else if (t === T2_VARINT) {
      into.counts.push(r.uint64(end));
    } else {
      r.skip(t, end, BUCKETS);
    }
  }
}

function summaryPoint(r: ProtoReader, end: number, out: DecodedBatch['metrics'], m: MetricContext): void {
  const tags = copyTags(m.baseTags);
  let timeMs = 0;
  let flags = 0;
  let count = 0;
  let sum = 0;
  const quantiles: number[] = [];
  const values: number[] = [];
  while (r.pos < end) {
    const t = r.tag(end);
    switch (t) {
      case T3_I64:
        r.fixed64(end);
        timeMs = nanosToMs(r.lo, r.hi);
        break;
      case T4_I64:
        count = r.fixed64Number(end);
        break;
      case T5_I64:
        sum = r.double(end);
        break;
      case T6_LEN: {
        const e = r.lengthEnd(end);
        let q = 0;
        let v = 0;
        while (r.pos < e) {
          const t2 = r.tag(e);
          if (t2 === T1_I64) q = r.double(e);
          else if (t2 === T2_I64) v = r.double(e);
          else r.skip(t2, e, VALUE_AT_QUANTILE);
        }
        quantiles.push(q);
        values.push(v);
        break;
      }
      case T7_LEN:
        readKeyValue(r, r.lengthEnd(end), tags, 0, true);
        break;
      case T8_VARINT:
        flags = r.varint(end);
        break;
      default:
        r.skip(t, end, SUMMARY_DP);
    }
  }
  if (flags & FLAG_NO_RECORDED_VALUE) return;
  emitSummary(out, m, tags, timeMs, count, sum, quantiles, values);
}

function packedFixed64(r: ProtoReader, end: number, into: number[]): void {
  if ((end - r.pos) % 8 !== 0) throw new OtlpDecodeError(`packed fixed64 field of ${end - r.pos} bytes (not a multiple of 8) at byte ${r.pos}`);
  while (r.pos < end) into.push(r.fixed64Number(end));
}

function packedDouble(r: ProtoReader, end: number, into: number[]): void {
  if ((end - r.pos) % 8 !== 0) throw new OtlpDecodeError(`packed double field of ${end - r.pos} bytes (not a multiple of 8) at byte ${r.pos}`);
  while (r.pos < end) into.push(r.double(end));
}
