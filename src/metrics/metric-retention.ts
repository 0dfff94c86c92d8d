import { asServiceRole } from '../db/scoped.ts';
import type { Db } from '../db/types.ts';
import { TOTALS_RESOLUTIONS } from './resolutions.ts';

const DAY = 86_400_000;

/** Default retention per resolution (days); a metric definition may set its own per rollup resolution. */
export const METRIC_RETENTION_DAYS = { raw: 7, '1m': 30, '5m': 90, '1h': 365, '1d': 3 * 365 } as const;
export type RollupResolution = '1m' | '5m' | '1h' | '1d';
const BATCH = 5_000;

/**
 * One batch of a resolution's expired rows of `table` ($1 resolution, $2 the oldest horizon any metric
 * has, $3 now, $4 the default days), each row after its metric definition's retention_days or the
 * default. `join` brings in what names the row's project and metric (`project`, `name`).
 */
const trim = (table: string, key: string[], join: string, project: string, name: string) =>
  `delete from public.${table} where (${key.join(', ')}) in (
     select ${key.map((k) => `r.${k}`).join(', ')}
     from public.${table} r ${join}
     join public.projects p on p.id = ${project}
     left join public.metric_definitions d on d.organization_id = p.organization_id and d.name = ${name}
     where r.resolution = $1 and r.bucket < $2
       and r.bucket < $3::timestamptz - coalesce((d.retention_days ->> $1)::int, $4) * interval '1 day'
     limit ${BATCH})
   returning 1`;
const TRIM_ROLLUPS = trim('metric_rollups', ['resolution', 'series_id', 'bucket'], 'join public.metric_series s on s.id = r.series_id', 's.project_id', 's.name');
const TRIM_TOTALS = trim('metric_totals', ['project_id', 'resolution', 'name', 'bucket'], '', 'r.project_id', 'r.name');
// By (metric, bucket), every tag's groups at once: a key with the nullable tag_value would never
// match the rows of series without the tag.
const TRIM_GROUP_TOTALS = trim('metric_group_totals', ['project_id', 'resolution', 'name', 'bucket'], '', 'r.project_id', 'r.name');

/**
 * Raw points go by whole daily partitions (a day is dropped once all of it is older than the raw
 * retention); rollups and metric totals (whole and per tag value) are trimmed per resolution in
 * bounded batches, each metric after its definition's retention_days or the default. Nothing younger
 * than its retention is touched.
 * Returns what was removed (trimmedRollups counts series rollup and totals rows together) and whether
 * it finished within the deadline.
 */
export async function applyMetricRetention(db: Db, now: Date, deadline: number) {
  const cutoffDay = new Date(now.getTime() - METRIC_RETENTION_DAYS.raw * DAY).toISOString().slice(0, 10);
  const dropped: string[] = [];
  for (const table of ['metric_points', 'metric_histogram_points']) {
    const [row] = await asServiceRole(db, (tx) =>
      tx.query<{ dropped: string[] }>('select private.drop_telemetry_partitions_before($1, $2::date) as dropped', [table, cutoffDay]),
    );
    dropped.push(...(row?.dropped ?? []));
  }
  const trimmed: Record<string, number> = {};
  let complete = true;
  for (const resolution of ['1m', '5m', '1h', '1d'] as const) {
    // Each series keeps this resolution for its metric definition's days (retention_days) or the
    // default. Only buckets older than the shortest of those can go, which bounds the index range.
    const [shortest] = await asServiceRole(db, (tx) =>
      tx.query<{ days: number | null }>(
        `select min((retention_days ->> $1)::int) as days from public.metric_definitions where retention_days ? $1`,
        [resolution],
      ),
    );
    const defaultDays = METRIC_RETENTION_DAYS[resolution];
    const minDays = Math.min(defaultDays, shortest?.days ?? defaultDays);
    const horizon = new Date(now.getTime() - minDays * DAY);
    trimmed[resolution] = 0;
    // The series rollups at every resolution, the metric totals (whole and per tag value) where they are kept.
    for (const statement of TOTALS_RESOLUTIONS.includes(resolution) ? [TRIM_ROLLUPS, TRIM_TOTALS, TRIM_GROUP_TOTALS] : [TRIM_ROLLUPS]) {
      for (;;) {
        if (performance.now() > deadline) {
          complete = false;
          break;
        }
        const rows = await asServiceRole(db, (tx) => tx.query(statement, [resolution, horizon, now, defaultDays]));
        trimmed[resolution] += rows.length;
        if (rows.length < BATCH) break;
      }
    }
  }
  return { droppedPartitions: dropped, trimmedRollups: trimmed, complete };
}
