import { asServiceRole } from '../db/scoped.ts';
import type { Db } from '../db/types.ts';

const DAY = 86_400_000;

/** Default retention per resolution (days). */
export const METRIC_RETENTION_DAYS = { raw: 7, '1m': 30, '5m': 90, '1h': 365, '1d': 3 * 365 } as const;
const BATCH = 5_000;

/**
 * Raw points go by whole daily partitions (a day is dropped once all of it is older than the raw
 * retention); rollups are trimmed per resolution in bounded batches. Nothing younger than its
 * retention is touched. Returns what was removed and whether it finished within the deadline.
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
    const cutoff = new Date(now.getTime() - METRIC_RETENTION_DAYS[resolution] * DAY);
    trimmed[resolution] = 0;
    for (;;) {
      if (performance.now() > deadline) {
        complete = false;
        break;
      }
      const rows = await asServiceRole(db, (tx) =>
        tx.query(
          `delete from public.metric_rollups where (resolution, series_id, bucket) in (
             select resolution, series_id, bucket from public.metric_rollups where resolution = $1 and bucket < $2 limit ${BATCH})
           returning 1`,
          [resolution, cutoff],
        ),
      );
      trimmed[resolution] += rows.length;
      if (rows.length < BATCH) break;
    }
  }
  return { droppedPartitions: dropped, trimmedRollups: trimmed, complete };
}
