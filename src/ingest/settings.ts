import type { PlanQuota } from '../billing/quota.ts';
import { planQuotaOf, PLAN_QUOTA_COLUMNS, type PlanQuotaRow } from '../billing/plan-quota.ts';
import type { Clock } from '../core/clock.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Db } from '../db/types.ts';

export interface IngestSettings {
  maxSeries: number;
  requestsPerMinute: number;
  eventsPerMinute: number;
  /** The organization's plan as ingest enforces it (monthly events per signal); null when unknown. */
  quota: PlanQuota | null;
}

export const DEFAULT_INGEST_SETTINGS: IngestSettings = { maxSeries: 10_000, requestsPerMinute: 6_000, eventsPerMinute: 6_000_000, quota: null };

/**
 * Per-project limits with the organization's plan, read at most once a minute per process (a changed
 * limit or plan applies within a minute). The plan caps the project's series and requests per minute
 * (its active-series and API-request limits) and brings the monthly quotas ingest checks.
 */
export function createSettingsCache(db: Db, clock: Clock, ttlMs = 60_000) {
  const cache = new Map<string, { at: number; value: IngestSettings }>();
  return async (projectId: string): Promise<IngestSettings> => {
    const now = clock.now().getTime();
    const hit = cache.get(projectId);
    if (hit && now - hit.at < ttlMs) return hit.value;
    const [row] = await asServiceRole(db, (tx) =>
      tx.query<{ max_series: number | null; requests_per_minute: number | null; events_per_minute: number | null } & PlanQuotaRow>(
        `select s.max_series, s.requests_per_minute, s.events_per_minute, ${PLAN_QUOTA_COLUMNS}
         from public.projects p
         join public.organizations o on o.id = p.organization_id
         join public.billing_plans b on b.id = o.plan
         left join public.project_ingest_settings s on s.project_id = p.id
         where p.id = $1`,
        [projectId],
      ),
    );
    const d = DEFAULT_INGEST_SETTINGS;
    const capped = (own: number, plan: number | null) => (plan === null ? own : Math.min(own, plan));
    const value: IngestSettings = row
      ? {
          maxSeries: capped(row.max_series ?? d.maxSeries, row.active_series_limit),
          requestsPerMinute: capped(row.requests_per_minute ?? d.requestsPerMinute, row.api_requests_per_minute),
          eventsPerMinute: row.events_per_minute ?? d.eventsPerMinute,
          quota: planQuotaOf(row),
        }
      : d;
    if (cache.size > 10_000) cache.clear();
    cache.set(projectId, { at: now, value });
    return value;
  };
}
