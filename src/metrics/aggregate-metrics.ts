import { asServiceRole } from '../db/scoped.ts';
import type { Db, Queryable } from '../db/types.ts';
import { ingestHorizon } from '../db/ingest-horizon.ts';
import type { Job } from '../core/job.ts';
import { rollupHistogramMinutes } from './histogram-rollup.ts';
import { ORIGIN, RESOLUTIONS, TOTALS_RESOLUTIONS } from './resolutions.ts';
import { SKETCH_AGG_SQL, SKETCH_RANK_SQL, SKETCH_UNNEST_SQL } from './sketch.ts';

/**
 * The rollup job. Invariants (also in supabase/migrations/*_rollups.sql):
 * 1. A 1m rollup row is a pure function of the raw points in its minute; a 5m/1h/1d row of the finer
 *    rows inside it. Rows are recomputed whole and upserted, so running twice changes nothing, and a
 *    late point only needs the buckets around it recomputed.
 * 2. What to recompute comes from ingest_usage (one row per ingest transaction with the event-time
 *    range of its metric points). Rows are consumed in tx_id order and only below the oldest
 *    transaction still running in this database (ingestHorizon), so a transaction that commits late
 *    is never skipped; the watermark (rollup_state) is the last tx_id consumed.
 * 3. Bounded work per run: at most USAGE_ROWS_PER_RUN usage rows and the time budget; the next run
 *    resumes from the watermark.
 * Counter increase: for cumulative counters the sum of positive steps between consecutive points (a
 * drop is a reset: the new value is the increase), looking back up to COUNTER_LOOKBACK for the point
 * before the range; for delta counters the sum of values. Coarser buckets add finer increases.
 */
const USAGE_ROWS_PER_RUN = 2_000;
const COUNTER_LOOKBACK = '1 hour';
const STATE_KEY = 'aggregate-metrics';

/**
 * Rollup statements are long analytic queries: JIT adds ~0.5 s each without paying back, and a day of
 * points sorted and grouped within the default 4 MB of work_mem spills to disk.
 */
export const ROLLUP_SETTINGS: Readonly<Record<string, string>> = { jit: 'off', work_mem: '64MB' };

const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step;

interface Range {
  projectId: string;
  from: number;
  to: number;
}

/** Merges overlapping or touching minute ranges per project. */
export function mergeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => (a.projectId < b.projectId ? -1 : a.projectId > b.projectId ? 1 : a.from - b.from));
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.projectId === r.projectId && r.from <= last.to) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/**
 * Rows are recomputed whole and upserted; a row whose recomputed values equal the stored ones is not
 * rewritten (a rerun, or the coarse buckets around a late point that did not change them, cost a
 * read, not a new row version and its index entries). `returning` counts the rows written.
 */
const UPSERT = `on conflict (resolution, series_id, bucket) do update set
  count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last,
  last_time = excluded.last_time, increase = excluded.increase, sketch = excluded.sketch
  where (metric_rollups.count, metric_rollups.sum, metric_rollups.min, metric_rollups.max, metric_rollups.last,
         metric_rollups.last_time, metric_rollups.increase, metric_rollups.sketch)
        is distinct from (excluded.count, excluded.sum, excluded.min, excluded.max, excluded.last,
                          excluded.last_time, excluded.increase, excluded.sketch)`;

/**
 * 1m buckets in [from, to) from raw points, in one pass: the points (with each one's predecessor, for
 * counter increases) are grouped by (series, minute, sketch rank), which gives the sketch counts
 * and partial aggregates at once; a second, smaller grouping by (series, minute) merges them.
 * Writing the rows costs more than computing them (about 60% of a first rollup of a day, EXPLAIN
 * ANALYZE on bench:query's data); a rerun that changes nothing skips the writes and took 0.55 s
 * instead of 1.47 s for a day of 66,666 one-minute rows.
 */
export async function rollupMinutes(tx: Queryable, projectId: string, from: Date, to: Date): Promise<number> {
  const rows = await tx.query(
    `with pts as (
       select p.series_id, p.time, p.value, s.type, s.temporality,
              lag(p.value) over (partition by p.series_id order by p.time) as prev
       from public.metric_points p join public.metric_series s on s.id = p.series_id
       where p.project_id = $1 and p.time >= $2::timestamptz - interval '${COUNTER_LOOKBACK}' and p.time < $3
     ), parts as (
       select series_id, date_bin('1 minute', time, ${ORIGIN}) as bucket, ${SKETCH_RANK_SQL('value')} as k,
              count(*) as n, sum(value) as s, min(value) as mn, max(value) as mx,
              (array_agg(value order by time desc))[1] as last, max(time) as last_time,
              max(type) as type, max(temporality) as temporality,
              sum(case when prev is null then 0 when value >= prev then value - prev else value end) as cumulative_increase
       from pts where time >= $2
       group by 1, 2, 3
     )
     insert into public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, increase, sketch)
     select $1, series_id, '1m', bucket, sum(n), sum(s), min(mn), max(mx), (array_agg(last order by last_time desc))[1], max(last_time),
            case when max(type) = 'counter' then
              case when max(temporality) = 'delta' then sum(s) else sum(cumulative_increase) end
            end,
            ${SKETCH_AGG_SQL('k', 'n')}
     from parts
     group by series_id, bucket
     order by series_id, bucket
     ${UPSERT}
     returning 1`,
    [projectId, from, to],
  );
  return rows.length;
}

/**
 * Buckets of `target` in [from, to) merged from the `source` resolution, in one pass: every source
 * row is expanded into its sketch entries (with ordinality) and grouped by (series, target bucket,
 * sketch rank); the row's own aggregates ride on its first entry only, so each counts once.
 */
export async function rollupFrom(tx: Queryable, projectId: string, source: string, target: (typeof RESOLUTIONS)[number], from: Date, to: Date): Promise<number> {
  const rows = await tx.query(
    `with parts as (
       select r.series_id, date_bin('${target.interval}', r.bucket, ${ORIGIN}) as b, e.k, sum(e.n)::bigint as n,
              sum(r.count) filter (where e.ord = 1) as c, sum(r.sum) filter (where e.ord = 1) as s,
              min(r.min) as mn, max(r.max) as mx,
              (array_agg(r.last order by r.last_time desc))[1] as last, max(r.last_time) as last_time,
              sum(r.increase) filter (where e.ord = 1) as increase
       from public.metric_rollups r, ${SKETCH_UNNEST_SQL('r.sketch')} with ordinality as e(k, n, ord)
       where r.resolution = $4 and r.project_id = $1 and r.bucket >= $2 and r.bucket < $3
       group by 1, 2, 3
     )
     insert into public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, increase, sketch)
     select $1, series_id, '${target.name}', b, sum(c)::bigint, sum(s), min(mn), max(mx), (array_agg(last order by last_time desc))[1], max(last_time),
            sum(increase), ${SKETCH_AGG_SQL('k', 'n')}
     from parts
     group by series_id, b
     order by series_id, b
     ${UPSERT}
     returning 1`,
    [projectId, from, to, source],
  );
  return rows.length;
}


/**
 * Metric totals (every series of a metric name merged) of `target` in [from, to), by
 * `private.rollup_metric_totals` (migration ..2300, whose backfill runs the same function): the first
 * totals resolution from the series' rows of the same resolution (source null), a coarser one from
 * the finer totals. Run after the series rows of the same buckets are written, in the same transaction.
 */
export async function rollupTotals(tx: Queryable, projectId: string, source: string | null, target: (typeof RESOLUTIONS)[number], from: Date, to: Date): Promise<number> {
  const [row] = await tx.query<{ written: number }>('select private.rollup_metric_totals($1, $2, $3, $4::interval, $5, $6) as written', [
    projectId,
    source,
    target.name,
    target.interval,
    from,
    to,
  ]);
  return row!.written;
}

/** Recomputes every resolution, series rollups then metric totals, over the buckets that cover [fromMs, toMs). */
export async function rollupRange(tx: Queryable, projectId: string, fromMs: number, toMs: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = { totals: 0 };
  let prev: (typeof RESOLUTIONS)[number] | undefined;
  for (const r of RESOLUTIONS) {
    const from = new Date(floorTo(fromMs, r.ms));
    const to = new Date(floorTo(toMs - 1, r.ms) + r.ms);
    counts[r.name] = prev
      ? await rollupFrom(tx, projectId, prev.name, r, from, to)
      : (await rollupMinutes(tx, projectId, from, to)) + (await rollupHistogramMinutes(tx, projectId, from, to));
    if (TOTALS_RESOLUTIONS.includes(r.name)) {
      counts.totals! += await rollupTotals(tx, projectId, prev && TOTALS_RESOLUTIONS.includes(prev.name) ? prev.name : null, r, from, to);
    }
    prev = r;
  }
  return counts;
}


export const aggregateMetrics: Job = {
  name: 'aggregate-metrics',
  intervalSeconds: 60,
  lockKey: 7_100_001,
  async run(deps, { budgetMs }) {
    const deadline = performance.now() + budgetMs;
    const horizon = await ingestHorizon(deps.db);
    const { usage, watermark } = await asServiceRole(deps.db, async (tx) => {
      const [state] = await tx.query<{ watermark: string }>('select watermark::text as watermark from private.rollup_state where key = $1', [STATE_KEY]);
      const wm = state?.watermark ?? '0';
      const rows = await tx.query<{ tx_id: string; project_id: string; min_t: Date; max_t: Date }>(
        `select tx_id::text as tx_id, project_id, metric_min_time as min_t, metric_max_time as max_t
         from public.ingest_usage
         where metric_min_time is not null and tx_id > $1::xid8 and tx_id < $2::xid8
         order by tx_id limit ${USAGE_ROWS_PER_RUN}`,
        [wm, horizon],
      );
      return { usage: rows, watermark: wm };
    });
    if (usage.length === 0) return { usageRows: 0, ranges: 0, rows: {}, watermark };
    const ranges = mergeRanges(
      usage.map((u) => ({ projectId: u.project_id, from: floorTo(new Date(u.min_t).getTime(), 60_000), to: floorTo(new Date(u.max_t).getTime(), 60_000) + 60_000 })),
    );
    const rows: Record<string, number> = {};
    let done = 0;
    for (const r of ranges) {
      if (performance.now() > deadline) break;
      const counts = await asServiceRole(deps.db, (tx) => rollupRange(tx, r.projectId, r.from, r.to), ROLLUP_SETTINGS);
      for (const [k, v] of Object.entries(counts)) rows[k] = (rows[k] ?? 0) + v;
      done += 1;
    }
    // Only when every range is rolled up does the watermark move past these usage rows; a partial
    // run redoes the finished ranges next time (idempotent) rather than skipping unfinished ones.
    const complete = done === ranges.length;
    const newWatermark = complete ? usage[usage.length - 1]!.tx_id : watermark;
    if (complete) {
      await asServiceRole(deps.db, (tx) =>
        tx.query(
          `insert into private.rollup_state (key, watermark, updated_at) values ($1, $2::xid8, now())
           on conflict (key) do update set watermark = excluded.watermark, updated_at = excluded.updated_at`,
          [STATE_KEY, newWatermark],
        ),
      );
    }
    return { usageRows: usage.length, ranges: ranges.length, rangesDone: done, complete, rows, watermark: newWatermark };
  },
};
