import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../metrics/query-metrics.ts';
import { logConditions, VISIBLE_LOGS } from './filter.ts';
import { invalid, LOG_LEVELS, LOG_LIMITS, type LogFilter, timeRange } from './schemas.ts';

/** Bucket widths (seconds) a histogram snaps to when the caller gives none. */
const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

export interface HistogramBucket {
  start: string;
  total: number;
  counts: Record<string, number>;
}

/**
 * Matching lines per time bucket per level, for the chart above search results. Buckets are aligned
 * to multiples of the step since the Unix epoch (UTC), cover the whole range (empty ones included so
 * charts show gaps as zeros) and the first and last may be partial.
 */
export async function logHistogram(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Claims,
  keyProjectId: string | undefined,
  input: { filter: LogFilter; from?: number; to?: number; step?: number; buckets: number },
) {
  const range = timeRange(deps.clock.now().getTime(), input.from, input.to);
  const spanSec = (range.to - range.from) / 1000;
  const step = input.step ?? NICE_STEPS.find((s) => spanSec / s <= input.buckets) ?? NICE_STEPS[NICE_STEPS.length - 1]!;
  const first = Math.floor(range.from / 1000 / step);
  const last = Math.floor((range.to - 1) / 1000 / step);
  if (last - first + 1 > LOG_LIMITS.maxHistogramBuckets) throw invalid('query.step', `gives more than ${LOG_LIMITS.maxHistogramBuckets} buckets for this range; use a larger step`);
  return withClaims(deps.db, actor, async (tx) => {
    await tx.query(`set local statement_timeout = '15s'`);
    await tx.query(`set local jit = off`);
    const projectId = await resolveProject(tx, input.filter.projectId, keyProjectId);
    const params: unknown[] = [];
    // Without a level filter, naming every level lets Postgres count from the (project_id, level, time)
    // index alone (one range per level, no heap visits once the visibility map is set); the check
    // constraint makes it the same set of rows.
    const filter = input.filter.levels ? input.filter : { ...input.filter, levels: [...LOG_LEVELS] };
    const where = logConditions(projectId, filter, range, params);
    params.push(step);
    // date_bin on timestamps, not numeric epoch arithmetic: measured about a third cheaper per row.
    const rows = await tx.query<{ b: string | number; level: string; n: string | number }>(
      `select (extract(epoch from date_bin(make_interval(secs => $${params.length}), l.time, timestamptz 'epoch')) / $${params.length})::int8 as b,
              l.level, count(*) as n
       from ${VISIBLE_LOGS} l where ${where.join(' and ')} group by date_bin(make_interval(secs => $${params.length}), l.time, timestamptz 'epoch'), l.level`,
      params,
    );
    const buckets: HistogramBucket[] = [];
    for (let b = first; b <= last; b++) buckets.push({ start: new Date(b * step * 1000).toISOString(), total: 0, counts: {} });
    const totals: Record<string, number> = Object.fromEntries(LOG_LEVELS.map((l) => [l, 0]));
    let total = 0;
    for (const r of rows) {
      const bucket = buckets[Number(r.b) - first];
      const n = Number(r.n);
      if (!bucket) continue;
      bucket.counts[r.level] = n;
      bucket.total += n;
      totals[r.level] = (totals[r.level] ?? 0) + n;
      total += n;
    }
    return { step, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), total, totals, buckets };
  });
}
