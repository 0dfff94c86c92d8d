import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { DEFAULT_INGEST_SETTINGS } from '../ingest/settings.ts';
import { resolveProject } from '../orgs/lookup.ts';

/**
 * Where a project's series come from: totals against the limit, series active in the last hour,
 * the metrics and tag keys with the most series/values, and the points refused by the limit.
 */
export async function getCardinality(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, keyProjectId: string | undefined, q: { projectId?: string }) {
  const now = deps.clock.now();
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    const [limits] = await tx.query<{ max_series: number }>('select max_series from public.project_ingest_settings where project_id = $1', [projectId]);
    const [totals] = await tx.query<{ total: string | number }>('select count(*) as total from public.metric_series where project_id = $1', [projectId]);
    const [active] = await tx.query<{ active: string | number }>(
      `select count(distinct series_id) as active from public.metric_rollups
       where project_id = $1 and resolution = '1m' and bucket >= $2::timestamptz - interval '1 hour'`,
      [projectId, now],
    );
    const metrics = await tx.query<{ name: string; series: string | number }>(
      `select name, count(*) as series from public.metric_series where project_id = $1 group by name order by 2 desc, 1 limit 20`,
      [projectId],
    );
    const tagKeys = await tx.query<{ key: string; values: string | number; series: string | number }>(
      `select t.key, count(distinct t.value) as values, count(*) as series
       from public.metric_series s, jsonb_each_text(s.tags) t where s.project_id = $1
       group by t.key order by 2 desc, 1 limit 20`,
      [projectId],
    );
    const rejections = await tx.query<{ day: string | Date; metric_name: string; rejected_points: string | number; sample_tags: unknown; last_rejected_at: Date }>(
      `select day, metric_name, rejected_points, sample_tags, last_rejected_at from public.series_rejections
       where project_id = $1 and day >= ($2::timestamptz - interval '7 days')::date order by last_rejected_at desc limit 100`,
      [projectId, now],
    );
    return {
      projectId,
      limit: limits?.max_series ?? DEFAULT_INGEST_SETTINGS.maxSeries,
      totalSeries: Number(totals!.total),
      activeSeries: Number(active!.active),
      topMetrics: metrics.map((m) => ({ name: m.name, series: Number(m.series) })),
      topTagKeys: tagKeys.map((k) => ({ key: k.key, values: Number(k.values), series: Number(k.series) })),
      rejections: rejections.map((r) => ({
        day: typeof r.day === 'string' ? r.day.slice(0, 10) : new Date(r.day).toISOString().slice(0, 10),
        metric: r.metric_name,
        rejectedPoints: Number(r.rejected_points),
        sampleTags: r.sample_tags,
        lastRejectedAt: new Date(r.last_rejected_at).toISOString(),
      })),
    };
  });
}
