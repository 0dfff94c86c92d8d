import type { PlanQuota, Signal } from './quota.ts';

/** The billing_plans columns (alias `b`) that ingest reads with a project's settings. */
export const PLAN_QUOTA_COLUMNS = `b.id as plan_id, b.name as plan_name,
  b.metrics_events_limit::float8 as metrics_events_limit, b.metrics_policy,
  b.logs_events_limit::float8 as logs_events_limit, b.logs_policy,
  b.traces_events_limit::float8 as traces_events_limit, b.traces_policy,
  b.active_series_limit, b.api_requests_per_minute`;

export interface PlanQuotaRow {
  plan_id: string;
  plan_name: string;
  metrics_events_limit: number | null;
  metrics_policy: 'overage' | 'block';
  logs_events_limit: number | null;
  logs_policy: 'overage' | 'block';
  traces_events_limit: number | null;
  traces_policy: 'overage' | 'block';
  active_series_limit: number | null;
  api_requests_per_minute: number | null;
}

export function planQuotaOf(row: PlanQuotaRow): PlanQuota {
  const signal = (s: Signal) => ({ limit: row[`${s}_events_limit`], policy: row[`${s}_policy`] });
  return { planId: row.plan_id, planName: row.plan_name, signals: { metrics: signal('metrics'), logs: signal('logs'), traces: signal('traces') } };
}
