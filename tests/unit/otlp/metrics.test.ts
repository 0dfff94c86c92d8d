import type { HrTime } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import { AggregationTemporality, AggregationType, DataPointType, type ExponentialHistogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import type { DecodedBatch, MetricPoint } from '../../../src/ingest/model.ts';
import { decodeOtlpMetrics } from '../../../src/ingest/otlp/index.ts';
import { any, concat, kv, metricsRequest, pb } from './pb.ts';
import { ENCODINGS, type Encoding, RESOURCE_TAGS, hrToMs, recordMetrics, serializeMetrics } from './sdk.ts';

/** Every data point gets this end time, so timestamps can be checked to the microsecond. */
const T: HrTime = [1_767_225_600, 123_456_789];
const T_MS = 1_767_225_600_123.456;

function at(rm: ResourceMetrics, time: HrTime = T): ResourceMetrics {
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) for (const dp of m.dataPoints) (dp as { endTime: HrTime }).endTime = time;
  return rm;
}

function decode(rm: ResourceMetrics, enc: Encoding): DecodedBatch {
  return decodeOtlpMetrics(serializeMetrics(rm, enc), enc);
}

function byName(batch: DecodedBatch, name: string): MetricPoint[] {
  return batch.metrics.filter((m) => m.name === name);
}

describe.each(ENCODINGS)('OTLP metrics over %s, from the JS SDK', (enc) => {
  it('decodes gauges (double and int) with resource and point attributes as tags, microsecond timestamps and the unit', async () => {
    const rm = at(
      await recordMetrics((meter) => {
        meter.createGauge('room.temperature', { unit: 'Cel' }).record(21.5, { room: 'kitchen', floor: 2, heated: true, ratio: 0.25 });
        meter.createGauge('queue.depth', { valueType: ValueType.INT }).record(-17, { queue: 'emails' });
      }),
    );
    const batch = decode(rm, enc);
    expect(batch.errors).toEqual([]);
    expect(byName(batch, 'room.temperature')).toEqual([
      {
        name: 'room.temperature',
        type: 'gauge',
        value: 21.5,
        timestamp: T_MS,
        unit: 'Cel',
        tags: { ...RESOURCE_TAGS, room: 'kitchen', floor: '2', heated: 'true', ratio: '0.25' },
      },
    ]);
    expect(byName(batch, 'queue.depth')).toEqual([
      { name: 'queue.depth', type: 'gauge', value: -17, timestamp: T_MS, tags: { ...RESOURCE_TAGS, queue: 'emails' } },
    ]);
  });

  it('keeps timestamps exact to the microsecond and truncates the nanoseconds', async () => {
    const cases: [HrTime, number][] = [
      [[1_767_225_600, 999_999_999], 1_767_225_600_999.999],
      [[1_700_000_000, 1_999], 1_700_000_000_000.001],
      [[4_102_444_800, 654_321_000], 4_102_444_800_654.321], // 2100-01-01
    ];
    for (const [time, ms] of cases) {
      const rm = at(await recordMetrics((meter) => meter.createGauge('g').record(1)), time);
      const [p] = decode(rm, enc).metrics;
      expect(p!.timestamp).toBe(ms);
      expect(p!.timestamp).toBe(hrToMs(time));
      expect(Math.round(p!.timestamp * 1000) % 1000).toBe(Math.floor(time[1] / 1000) % 1000);
    }
  });

  it.each([
    ['cumulative', AggregationTemporality.CUMULATIVE],
    ['delta', AggregationTemporality.DELTA],
  ] as const)('decodes a monotonic counter with %s temporality, one point per attribute set', async (temporality, sdkTemporality) => {
    const rm = at(
      await recordMetrics(
        (meter) => {
          const c = meter.createCounter('http.requests', { unit: '{request}' });
          c.add(5, { route: '/a' });
          c.add(2, { route: '/a' });
          c.add(1, { route: '/b' });
        },
        { temporality: sdkTemporality },
      ),
    );
    const points = decode(rm, enc).metrics;
    expect(points).toEqual([
      { name: 'http.requests', type: 'counter', temporality, value: 7, timestamp: T_MS, unit: '{request}', tags: { ...RESOURCE_TAGS, route: '/a' } },
      { name: 'http.requests', type: 'counter', temporality, value: 1, timestamp: T_MS, unit: '{request}', tags: { ...RESOURCE_TAGS, route: '/b' } },
    ]);
  });

  it('decodes an up-down counter (non-monotonic sum) as a gauge holding the level', async () => {
    const rm = at(
      await recordMetrics((meter) => {
        const c = meter.createUpDownCounter('pool.connections', { valueType: ValueType.INT });
        c.add(5);
        c.add(-8);
      }),
    );
    expect(decode(rm, enc).metrics).toEqual([{ name: 'pool.connections', type: 'gauge', value: -3, timestamp: T_MS, tags: RESOURCE_TAGS }]);
  });

  it('decodes an explicit-bucket histogram', async () => {
    const rm = at(
      await recordMetrics((meter) => {
        const h = meter.createHistogram('http.duration', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100] } });
        for (const v of [5, 50, 500, 50]) h.record(v, { route: '/a' });
      }),
    );
    expect(decode(rm, enc).metrics).toEqual([
      {
        name: 'http.duration',
        type: 'histogram',
        value: 605,
        timestamp: T_MS,
        unit: 'ms',
        temporality: 'cumulative',
        tags: { ...RESOURCE_TAGS, route: '/a' },
        histogram: { kind: 'explicit', count: 4, sum: 605, min: 5, max: 500, bounds: [10, 100], counts: [1, 2, 1] },
      },
    ]);
  });

  it('decodes an exponential histogram (View with ExponentialHistogram aggregation) exactly as the SDK aggregated it', async () => {
    // A range of 1e9 in 4 buckets forces a negative scale, and values below 1 a negative offset:
    // both travel zigzag-encoded (sint32).
    const rm = at(
      await recordMetrics(
        (meter) => {
          const h = meter.createHistogram('payload.size', { unit: 'By' });
          for (const v of [0, 0.001, 0.5, 3, 1e6, 1e6]) h.record(v, { kind: 'upload' });
        },
        { views: [{ instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 4 } } }], temporality: AggregationTemporality.DELTA },
      ),
    );
    const metric = rm.scopeMetrics[0]!.metrics[0]!;
    expect(metric.dataPointType).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);
    const sdk = metric.dataPoints[0]!.value as ExponentialHistogram;
    expect(sdk.scale).toBeLessThan(0);
    expect(sdk.positive.offset).toBeLessThan(0);

    const [p] = decode(rm, enc).metrics;
    expect(p).toEqual({
      name: 'payload.size',
      type: 'histogram',
      value: sdk.sum,
      timestamp: T_MS,
      unit: 'By',
      temporality: 'delta',
      tags: { ...RESOURCE_TAGS, kind: 'upload' },
      histogram: {
        kind: 'exponential',
        count: 6,
        sum: sdk.sum,
        min: 0,
        max: 1e6,
        scale: sdk.scale,
        zeroCount: 1,
        zeroThreshold: 0,
        positive: { offset: sdk.positive.offset, counts: sdk.positive.bucketCounts },
        negative: { offset: 0, counts: [] },
      },
    });
  });

  it('lets point attributes win over resource attributes, and leaves the instrumentation scope out of tags', async () => {
    const rm = at(await recordMetrics((meter) => meter.createGauge('g').record(1, { 'host.name': 'from-point', list: ['a', 'b'] })));
    const [p] = decode(rm, enc).metrics;
    expect(p!.tags).toEqual({ ...RESOURCE_TAGS, 'host.name': 'from-point', list: '["a","b"]' });
    expect(Object.keys(p!.tags)).not.toContain('otel.scope.name');
  });

  it('uses every metric kind in one request, numbering items (data points) in request order and recording their origin', async () => {
    const rm = at(
      await recordMetrics((meter) => {
        meter.createGauge('a').record(1, { i: 1 });
        meter.createGauge('a').record(2, { i: 2 });
        meter.createCounter('b').add(1);
        meter.createHistogram('c').record(3);
      }),
    );
    // A metric without a name: the SDK never makes one, so blank the counter's after collection.
    (rm.scopeMetrics[0]!.metrics[1]!.descriptor as { name: string }).name = '';
    const batch = decode(rm, enc);
    expect(batch.metrics.map((m) => [m.name, m.value])).toEqual([
      ['a', 1],
      ['a', 2],
      ['c', 3],
    ]);
    expect(batch.errors).toEqual([
      { index: 2, field: 'resourceMetrics.0.scopeMetrics.0.metrics.1.name', message: 'metric name is missing' },
    ]);
    expect(batch.origins?.get(batch.metrics[1]!)).toEqual({ index: 1, field: 'resourceMetrics.0.scopeMetrics.0.metrics.0.gauge.dataPoints.1' });
    expect(batch.origins?.get(batch.metrics[2]!)).toEqual({ index: 3, field: 'resourceMetrics.0.scopeMetrics.0.metrics.2.histogram.dataPoints.0' });
  });
});

// ---- hand-built payloads ----------------------------------------------------------------------

const NS = 1_767_225_600_123_456_789n;
const NS_MS = 1_767_225_600_123.456;
const RES = { 'service.name': 'billing' };

/** The same request in both encodings. */
interface Pair {
  protobuf: Uint8Array;
  json: Uint8Array;
}

function json(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}

function jsonRequest(metrics: unknown[]): Uint8Array {
  return json({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'billing' } }] },
        scopeMetrics: [{ scope: { name: 'scope' }, metrics }],
      },
    ],
  });
}

function summaryPair(): Pair {
  const dp = (route: string, count: number, sum: number, qs: [number, number][], flags = 0) =>
    pb.message(
      1,
      pb.fixed64(2, NS - 10_000_000_000n),
      pb.fixed64(3, NS),
      pb.fixed64(4, BigInt(count)),
      pb.double(5, sum),
      ...qs.map(([q, v]) => pb.message(6, pb.double(1, q), pb.double(2, v))),
      pb.bytes(7, kv('route', any.str(route))),
      ...(flags ? [pb.varint(8, flags)] : []),
    );
  const protobuf = metricsRequest(
    RES,
    concat(
      pb.string(1, 'rpc.latency'),
      pb.string(3, 's'),
      pb.message(
        11,
        dp('/a', 10, 2.5, [
          [0.5, 0.2],
          [0.99, 0.9],
        ]),
        dp('/b', 0, 0, [], 1),
      ),
    ),
  );
  const jdp = (route: string, count: number, sum: number, qs: [number, number][], flags?: number) => ({
    attributes: [{ key: 'route', value: { stringValue: route } }],
    startTimeUnixNano: String(NS - 10_000_000_000n),
    timeUnixNano: String(NS),
    count: String(count),
    sum,
    quantileValues: qs.map(([quantile, value]) => ({ quantile, value })),
    ...(flags ? { flags } : {}),
  });
  const jsonBody = jsonRequest([
    {
      name: 'rpc.latency',
      unit: 's',
      summary: {
        dataPoints: [
          jdp('/a', 10, 2.5, [
            [0.5, 0.2],
            [0.99, 0.9],
          ]),
          jdp('/b', 0, 0, [], 1),
        ],
      },
    },
  ]);
  return { protobuf, json: jsonBody };
}

describe.each(ENCODINGS)('hand-built OTLP metrics over %s', (enc) => {
  it('turns a summary into quantile gauges plus cumulative _count and _sum counters, skipping a NO_RECORDED_VALUE point', () => {
    const batch = decodeOtlpMetrics(summaryPair()[enc], enc);
    const tags = { 'service.name': 'billing', route: '/a' };
    expect(batch.errors).toEqual([]);
    expect(batch.metrics).toEqual([
      { name: 'rpc.latency', type: 'gauge', value: 0.2, timestamp: NS_MS, unit: 's', tags: { ...tags, quantile: '0.5' } },
      { name: 'rpc.latency', type: 'gauge', value: 0.9, timestamp: NS_MS, unit: 's', tags: { ...tags, quantile: '0.99' } },
      { name: 'rpc.latency_count', type: 'counter', temporality: 'cumulative', value: 10, timestamp: NS_MS, tags },
      { name: 'rpc.latency_sum', type: 'counter', temporality: 'cumulative', value: 2.5, timestamp: NS_MS, unit: 's', tags },
    ]);
    const origin = { index: 0, field: 'resourceMetrics.0.scopeMetrics.0.metrics.0.summary.dataPoints.0' };
    for (const p of batch.metrics) expect(batch.origins?.get(p)).toEqual(origin);
  });

  it('rejects per item: missing timestamp, missing value, bucket count mismatch, unspecified counter temporality; accepts a bucketless histogram', () => {
    const bodies: Pair = {
      protobuf: metricsRequest(
        RES,
        concat(
          pb.string(1, 'g'),
          pb.message(
            5,
            pb.message(1, pb.double(4, 1)), // no time
            pb.message(1, pb.fixed64(3, NS)), // no value
            pb.message(1, pb.fixed64(3, NS), pb.varint(8, 1)), // no recorded value: skipped, still item 2
            pb.message(1, pb.fixed64(3, NS), pb.fixed64(6, -(2n ** 40n))),
          ),
        ),
        concat(pb.string(1, 'c'), pb.message(7, pb.message(1, pb.fixed64(3, NS), pb.double(4, 1)), pb.varint(3, 1))),
        concat(
          pb.string(1, 'h'),
          pb.message(
            9,
            pb.message(1, pb.fixed64(3, NS), pb.fixed64(4, 3n), pb.packedFixed64(6, [1, 2]), pb.packedDoubles(7, [1, 2])),
            pb.message(1, pb.fixed64(3, NS), pb.fixed64(4, 3n), pb.double(5, 7.5)),
            pb.varint(2, 1),
          ),
        ),
      ),
      json: jsonRequest([
        {
          name: 'g',
          gauge: {
            dataPoints: [{ asDouble: 1 }, { timeUnixNano: String(NS) }, { timeUnixNano: String(NS), flags: 1 }, { timeUnixNano: String(NS), asInt: String(-(2n ** 40n)) }],
          },
        },
        { name: 'c', sum: { isMonotonic: true, dataPoints: [{ timeUnixNano: String(NS), asDouble: 1 }] } },
        {
          name: 'h',
          histogram: {
            aggregationTemporality: 1,
            dataPoints: [
              { timeUnixNano: String(NS), count: '3', bucketCounts: ['1', '2'], explicitBounds: [1, 2] },
              { timeUnixNano: String(NS), count: 3, sum: 7.5 },
            ],
          },
        },
      ]),
    };
    const batch = decodeOtlpMetrics(bodies[enc], enc);
    const m = 'resourceMetrics.0.scopeMetrics.0.metrics';
    expect(batch.errors).toEqual([
      { index: 0, field: `${m}.0.gauge.dataPoints.0.timeUnixNano`, message: 'timestamp missing' },
      { index: 1, field: `${m}.0.gauge.dataPoints.1.value`, message: 'data point has neither asDouble nor asInt' },
      { index: 4, field: `${m}.1.sum.aggregationTemporality`, message: expect.stringContaining('aggregation temporality') },
      { index: 5, field: `${m}.2.histogram.dataPoints.0.bucketCounts`, message: expect.stringContaining('explicitBounds.length + 1') },
    ]);
    expect(batch.metrics).toEqual([
      { name: 'g', type: 'gauge', value: -(2 ** 40), timestamp: NS_MS, tags: RES },
      {
        name: 'h',
        type: 'histogram',
        value: 7.5,
        temporality: 'delta',
        timestamp: NS_MS,
        tags: RES,
        histogram: { kind: 'explicit', count: 3, sum: 7.5, min: null, max: null, bounds: [], counts: [3] },
      },
    ]);
    expect(batch.origins?.get(batch.metrics[0]!)).toEqual({ index: 3, field: `${m}.0.gauge.dataPoints.3` });
  });

  it('decodes an exponential histogram with negative buckets and a zero threshold', () => {
    const bodies: Pair = {
      protobuf: metricsRequest(
        RES,
        concat(
          pb.string(1, 'e'),
          pb.message(
            10,
            pb.message(
              1,
              pb.fixed64(3, NS),
              pb.fixed64(4, 7n),
              pb.double(5, -4.5),
              pb.sint32(6, -2),
              pb.fixed64(7, 1n),
              pb.message(8, pb.sint32(1, 3), pb.bytes(2, Uint8Array.of(1, 2))),
              pb.message(9, pb.sint32(1, -5), pb.bytes(2, Uint8Array.of(0, 0x81, 0x01))), // packed varints 0, 129
              pb.double(12, -30),
              pb.double(13, 20),
              pb.double(14, 1e-9),
            ),
            pb.varint(2, 2),
          ),
        ),
      ),
      json: jsonRequest([
        {
          name: 'e',
          exponentialHistogram: {
            aggregationTemporality: 2,
            dataPoints: [
              {
                timeUnixNano: String(NS),
                count: '7',
                sum: -4.5,
                scale: -2,
                zeroCount: '1',
                positive: { offset: 3, bucketCounts: ['1', '2'] },
                negative: { offset: -5, bucketCounts: [0, '129'] },
                min: -30,
                max: 20,
                zeroThreshold: 1e-9,
              },
            ],
          },
        },
      ]),
    };
    expect(decodeOtlpMetrics(bodies[enc], enc).metrics).toEqual([
      {
        name: 'e',
        type: 'histogram',
        value: -4.5,
        temporality: 'cumulative',
        timestamp: NS_MS,
        tags: RES,
        histogram: {
          kind: 'exponential',
          count: 7,
          sum: -4.5,
          min: -30,
          max: 20,
          scale: -2,
          zeroCount: 1,
          zeroThreshold: 1e-9,
          positive: { offset: 3, counts: [1, 2] },
          negative: { offset: -5, counts: [0, 129] },
        },
      },
    ]);
  });

  it('reads an empty request as an empty batch', () => {
    const body = enc === 'json' ? json({}) : new Uint8Array(0);
    expect(decodeOtlpMetrics(body, enc)).toMatchObject({ metrics: [], logs: [], spans: [], errors: [] });
  });
});

describe('protobuf field order', () => {
  it('does not depend on the order fields arrive in (resource after scopes, name and unit after data, temporality after points)', () => {
    const metric = concat(
      pb.message(7, pb.message(1, pb.fixed64(3, NS), pb.double(4, 2)), pb.varint(3, 1), pb.varint(2, 1)),
      pb.string(3, 'By'),
      pb.string(1, 'bytes.sent'),
    );
    const body = pb.message(1, pb.message(2, pb.bytes(2, metric)), pb.message(1, pb.bytes(1, kv('service.name', any.str('late')))));
    expect(decodeOtlpMetrics(body, 'protobuf').metrics).toEqual([
      { name: 'bytes.sent', type: 'counter', temporality: 'delta', value: 2, unit: 'By', timestamp: NS_MS, tags: { 'service.name': 'late' } },
    ]);
  });
});

describe('OTLP/JSON metric specifics', () => {
  it('accepts 64-bit integers as numbers or strings, doubles as "NaN"/"Infinity", and ignores unknown fields', () => {
    const body = jsonRequest([
      {
        name: 'g',
        somethingNew: { x: 1 },
        gauge: {
          dataPoints: [
            { timeUnixNano: Number(1_700_000_000_000_000_000n), asInt: 5 },
            { timeUnixNano: '1700000000000001000', asInt: '9007199254740993' },
            { timeUnixNano: '1700000000000001000', asDouble: 'NaN', extra: true },
            { timeUnixNano: '1700000000000001000', asDouble: '-Infinity' },
            { timeUnixNano: '1700000000000001000', asDouble: '1.5e3' },
          ],
        },
      },
    ]);
    const batch = decodeOtlpMetrics(body, 'json');
    expect(batch.errors).toEqual([]);
    expect(batch.metrics.map((m) => [m.timestamp, m.value])).toEqual([
      [1_700_000_000_000, 5],
      [1_700_000_000_000.001, 9007199254740992],
      [1_700_000_000_000.001, Number.NaN],
      [1_700_000_000_000.001, Number.NEGATIVE_INFINITY],
      [1_700_000_000_000.001, 1500],
    ]);
  });

  it('rejects a data point whose fields have the wrong JSON type, but not its neighbours', () => {
    const body = jsonRequest([
      {
        name: 'g',
        gauge: {
          dataPoints: [
            { timeUnixNano: 'yesterday', asDouble: 1 },
            { timeUnixNano: '1700000000000001000', asDouble: true },
            'not an object',
            { timeUnixNano: '1700000000000001000', asDouble: 2, attributes: [{ key: 'k', value: { intValue: 'x' } }] },
            { timeUnixNano: '1700000000000001000', asDouble: '0x10' },
            { timeUnixNano: '1700000000000001000', asDouble: 3 },
          ],
        },
      },
    ]);
    const batch = decodeOtlpMetrics(body, 'json');
    const dp = 'resourceMetrics.0.scopeMetrics.0.metrics.0.gauge.dataPoints';
    expect(batch.errors.map((e) => [e.index, e.field])).toEqual([
      [0, `${dp}.0.timeUnixNano`],
      [1, `${dp}.1.asDouble`],
      [2, `${dp}.2`],
      [3, `${dp}.3.attributes.0.value.intValue`],
      [4, `${dp}.4.asDouble`],
    ]);
    expect(batch.metrics.map((m) => m.value)).toEqual([3]);
  });

  it('rejects the whole request when its structure (not an item) is wrong', async () => {
    const { OtlpDecodeError } = await import('../../../src/ingest/otlp/index.ts');
    for (const bad of [{ resourceMetrics: {} }, { resourceMetrics: [{ scopeMetrics: 'x' }] }, [1, 2], { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: 7 } }] }] }] }]) {
      expect(() => decodeOtlpMetrics(json(bad), 'json')).toThrow(OtlpDecodeError);
    }
    expect(() => decodeOtlpMetrics(json({ resourceMetrics: [{ scopeMetrics: 'x' }] }), 'json')).toThrow(/resourceMetrics\.0\.scopeMetrics: expected an array, got string/);
  });
});
