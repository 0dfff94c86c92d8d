import type { Queryable } from '../db/types.ts';
import { addToSketch, type Sketch, sketchLiteral } from './sketch.ts';

/**
 * 1-minute rollups of histogram points (OTLP histograms and native `type: histogram`), merged into the
 * same sketches as plain points so percentiles work alike. Invariants:
 * - Delta points contribute their buckets as they are. Cumulative points contribute the difference
 *   from the previous point of the series (bucket by bucket); a point whose count went down is a
 *   reset and contributes itself; the first point seen (no predecessor within the lookback)
 *   contributes nothing, as a counter's first value does.
 * - A bucket's observations enter the sketch at one representative value: the middle of the explicit
 *   bucket (the first and last open buckets are closed with the point's min/max when known), or the
 *   geometric middle of the exponential bucket. So percentile accuracy is the client's bucket
 *   resolution (for exponential scale s: about 2^(2^-s-1) - 1 relative), not the sketch's 0.5%.
 * - count and sum are the observations' count and sum; min and max come from the points when they
 *   carry them, else from the bucket representatives; last is the minute's mean.
 */
type Buckets =
  | { kind: 'explicit'; bounds: number[]; counts: number[] }
  | { kind: 'exponential'; scale: number; zeroCount: number; positive: { offset: number; counts: number[] }; negative: { offset: number; counts: number[] } };

interface HistRow {
  series_id: string | number;
  time: Date;
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
  buckets: Buckets;
  temporality: string | null;
}

interface Delta {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  buckets: Buckets;
}

function subtract(cur: HistRow, prev: HistRow): Delta | null {
  if (cur.count < prev.count) return { count: cur.count, sum: cur.sum ?? 0, min: cur.min, max: cur.max, buckets: cur.buckets };
  const a = cur.buckets;
  const b = prev.buckets;
  let buckets: Buckets;
  if (a.kind === 'explicit' && b.kind === 'explicit' && a.bounds.length === b.bounds.length && a.bounds.every((x, i) => x === b.bounds[i])) {
    buckets = { kind: 'explicit', bounds: a.bounds, counts: a.counts.map((c, i) => c - (b.counts[i] ?? 0)) };
  } else if (a.kind === 'exponential' && b.kind === 'exponential' && a.scale === b.scale) {
    const diff = (x: { offset: number; counts: number[] }, y: { offset: number; counts: number[] }) => ({
      offset: x.offset,
      counts: x.counts.map((c, i) => c - (y.counts[x.offset + i - y.offset] ?? 0)),
    });
    buckets = { kind: 'exponential', scale: a.scale, zeroCount: a.zeroCount - b.zeroCount, positive: diff(a.positive, b.positive), negative: diff(a.negative, b.negative) };
  } else {
    // The layout changed (a restarted client with other buckets): treat as a reset.
    return { count: cur.count, sum: cur.sum ?? 0, min: cur.min, max: cur.max, buckets: cur.buckets };
  }
  // Cumulative min/max cover all time, not this interval: leave them to the bucket representatives.
  return { count: cur.count - prev.count, sum: (cur.sum ?? 0) - (prev.sum ?? 0), min: null, max: null, buckets };
}

/** Adds a delta's buckets to a sketch; returns the smallest and largest representative used. */
function addBuckets(sketch: Sketch, d: Delta): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const add = (v: number, n: number) => {
    if (!(n > 0) || !Number.isFinite(v)) return;
    addToSketch(sketch, v, n);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  };
  const b = d.buckets;
  if (b.kind === 'explicit') {
    b.counts.forEach((n, i) => {
      const lower = i === 0 ? (d.min ?? (b.bounds[0]! > 0 ? 0 : b.bounds[0]!)) : b.bounds[i - 1]!;
      const upper = i === b.bounds.length ? (d.max ?? b.bounds[b.bounds.length - 1]!) : b.bounds[i]!;
      add(b.bounds.length === 0 ? (d.sum / Math.max(1, d.count)) : (lower + upper) / 2, n);
    });
  } else {
    const base = 2 ** (2 ** -b.scale);
    b.positive.counts.forEach((n, i) => add(base ** (b.positive.offset + i + 0.5), n));
    b.negative.counts.forEach((n, i) => add(-(base ** (b.negative.offset + i + 0.5)), n));
    add(0, b.zeroCount);
  }
  return [lo, hi];
}

export async function rollupHistogramMinutes(tx: Queryable, projectId: string, from: Date, to: Date): Promise<number> {
  const rows = await tx.query<HistRow>(
    `select h.series_id, h.time, h.count, h.sum, h.min, h.max, h.buckets, s.temporality
     from public.metric_histogram_points h join public.metric_series s on s.id = h.series_id
     where h.project_id = $1 and h.time >= $2::timestamptz - interval '1 hour' and h.time < $3
     order by h.series_id, h.time`,
    [projectId, from, to],
  );
  type Acc = { count: number; sum: number; min: number; max: number; sketch: Sketch; lastTime: Date };
  const minutes = new Map<string, Acc>();
  let prev: HistRow | undefined;
  for (const row of rows) {
    const samePrev = prev && String(prev.series_id) === String(row.series_id) ? prev : undefined;
    prev = row;
    if (new Date(row.time) < from) continue;
    const delta = row.temporality === 'cumulative' ? (samePrev ? subtract(row, samePrev) : null) : { count: row.count, sum: row.sum ?? 0, min: row.min, max: row.max, buckets: row.buckets };
    if (!delta || delta.count <= 0) continue;
    const bucket = Math.floor(new Date(row.time).getTime() / 60_000) * 60_000;
    const key = `${row.series_id}:${bucket}`;
    const acc = minutes.get(key) ?? { count: 0, sum: 0, min: Infinity, max: -Infinity, sketch: {}, lastTime: new Date(row.time) };
    const [lo, hi] = addBuckets(acc.sketch, delta);
    acc.count += delta.count;
    acc.sum += delta.sum;
    acc.min = Math.min(acc.min, delta.min ?? lo);
    acc.max = Math.max(acc.max, delta.max ?? hi);
    acc.lastTime = new Date(row.time);
    minutes.set(key, acc);
  }
  if (minutes.size === 0) return 0;
  const entries = [...minutes.entries()].map(([key, acc]) => ({ series: key.split(':')[0]!, bucket: Number(key.split(':')[1]), ...acc }));
  const inserted = await tx.query(
    `insert into public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, increase, sketch)
     select $1, r.series_id, '1m', to_timestamp(r.bucket / 1000.0), r.count, r.sum, r.min, r.max, r.sum / r.count, to_timestamp(r.last_time / 1000.0), null,
            r.sketch::bigint[]
     from unnest($2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::text[])
       as r(series_id, bucket, count, sum, min, max, last_time, sketch)
     on conflict (resolution, series_id, bucket) do update set
       count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last,
       last_time = excluded.last_time, increase = excluded.increase, sketch = excluded.sketch
     returning 1`,
    [
      projectId,
      entries.map((e) => e.series),
      entries.map((e) => e.bucket),
      entries.map((e) => e.count),
      entries.map((e) => e.sum),
      entries.map((e) => e.min),
      entries.map((e) => e.max),
      entries.map((e) => e.lastTime.getTime()),
      entries.map((e) => sketchLiteral(e.sketch)),
    ],
  );
  return inserted.length;
}
