import type { Queryable } from '../db/types.ts';
import { SIGNALS, type Signal, type SignalCounts } from './quota.ts';

/** The meter's watermark row in private.rollup_state (the rollups' table of job watermarks). */
export const METER_STATE_KEY = 'meter-usage';

/**
 * One meter step over an append-only usage table read in transaction-id order (ingest_usage,
 * query_usage): the next whole transactions (at most $3, below the horizon $2) past the watermark
 * of key $1 are `picked`; `counted` (the caller's CTEs after `picked`) adds them to usage_daily, and
 * the watermark moves past them in the same statement, so every row is counted exactly once.
 */
function meterStep(table: string, counted: string): string {
  return `with state as (
       select coalesce((select watermark from private.rollup_state where key = $1), '0'::xid8) as wm
     ), txs as (
       select u.tx_id from ${table} u, state where u.tx_id > state.wm and u.tx_id < $2::xid8 order by u.tx_id limit $3
     ), bound as (
       select max(tx_id) as hi from txs
     ), picked as (
       select u.* from ${table} u, state, bound where u.tx_id > state.wm and u.tx_id <= bound.hi
     ), ${counted}
     ), moved as (
       insert into private.rollup_state (key, watermark, updated_at) select $1, hi, now() from bound where hi is not null
       on conflict (key) do update set watermark = excluded.watermark, updated_at = excluded.updated_at
       returning 1
     )
     select (select count(*)::int from picked) as rows, (select hi::text from bound) as hi, (select count(*) from counted) as c, (select count(*) from moved) as w`;
}

async function runMeterStep(tx: Queryable, sql: string, key: string, horizon: string, maxTx: number): Promise<{ rows: number; watermark: string | null }> {
  const [r] = await tx.query<{ rows: number; hi: string | null }>(sql, [key, horizon, maxTx]);
  return { rows: r!.rows, watermark: r!.hi };
}

/** ingest_usage into usage_daily per signal (meterNextTransactions). */
const INGEST_STEP = meterStep(
  'public.ingest_usage',
  `shares as (
       select organization_id, project_id, api_key_id, (at at time zone 'utc')::date as day, bytes::bigint as bytes,
              (metric_events + greatest(events - metric_events - log_events - span_events, 0))::bigint as m,
              log_events::bigint as l, span_events::bigint as t
       from picked
     ), split as (
       select organization_id, project_id, api_key_id, day, s.signal, s.events, s.bytes
       from shares
       cross join lateral (select m + l + t as total) n
       cross join lateral (select case when n.total = 0 then shares.bytes else shares.bytes * m / n.total end as mb,
                                  case when n.total = 0 then 0 else shares.bytes * l / n.total end as lb) b
       cross join lateral (values ('metrics', m, b.mb), ('logs', l, b.lb), ('traces', t, shares.bytes - b.mb - b.lb)) s(signal, events, bytes)
       where s.events > 0 or s.bytes > 0
     ), agg as (
       select organization_id, project_id, api_key_id, day, signal, sum(events)::bigint as events, sum(bytes)::bigint as bytes,
              count(*) filter (where events > 0)::bigint as requests
       from split group by organization_id, project_id, api_key_id, day, signal
     ), counted as (
       insert into public.usage_daily (organization_id, project_id, api_key_id, day, signal, events, bytes, requests)
       select a.organization_id, a.project_id, a.api_key_id, a.day, a.signal, a.events, a.bytes, a.requests
       from agg a join public.organizations o on o.id = a.organization_id
       on conflict on constraint usage_daily_key do update set
         events = public.usage_daily.events + excluded.events,
         bytes = public.usage_daily.bytes + excluded.bytes,
         requests = public.usage_daily.requests + excluded.requests
       returning 1`,
);

/**
 * Adds the next ingest transactions (at most `maxTx`, whole transactions, tx_id order, below the
 * horizon) to usage_daily and moves the watermark past them, in one statement: the counts and the
 * watermark commit together, so every ingest_usage row is counted exactly once. A request's bytes
 * are shared among its signals in proportion to their events (integer shares, the remainder to
 * spans, so they sum to the request's bytes); events of rows written before the per-signal columns
 * existed count as metrics.
 */
export async function meterNextTransactions(tx: Queryable, horizon: string, maxTx: number): Promise<{ rows: number; watermark: string | null }> {
  return runMeterStep(tx, INGEST_STEP, METER_STATE_KEY, horizon, maxTx);
}

/** The query meter's watermark row in private.rollup_state. */
export const QUERY_METER_STATE_KEY = 'meter-queries';

/** query_usage into usage_daily as the signal 'queries' (meterNextQueries). */
const QUERY_STEP = meterStep(
  'public.query_usage',
  `agg as (
       select organization_id, project_id, api_key_id, (at at time zone 'utc')::date as day, count(*)::bigint as reads
       from picked group by organization_id, project_id, api_key_id, day
     ), counted as (
       insert into public.usage_daily (organization_id, project_id, api_key_id, day, signal, events, bytes, requests)
       select a.organization_id, a.project_id, a.api_key_id, a.day, 'queries', a.reads, 0, a.reads
       from agg a join public.organizations o on o.id = a.organization_id
       on conflict on constraint usage_daily_key do update set
         events = public.usage_daily.events + excluded.events,
         requests = public.usage_daily.requests + excluded.requests
       returning 1`,
);

/**
 * As meterNextTransactions, for query_usage: adds the next query transactions (at most `maxTx`, tx_id
 * order, below the horizon) to usage_daily as the signal 'queries' (events and requests: reads; bytes
 * 0) and moves its own watermark, in one statement: each query row is counted exactly once.
 */
export async function meterNextQueries(tx: Queryable, horizon: string, maxTx: number): Promise<{ rows: number; watermark: string | null }> {
  return runMeterStep(tx, QUERY_STEP, QUERY_METER_STATE_KEY, horizon, maxTx);
}

/** Active series per project for `day`: series that received a point since the period began. */
export async function recordActiveSeries(tx: Queryable, day: string, periodStart: Date): Promise<number> {
  const rows = await tx.query(
    `insert into public.usage_series_daily (organization_id, project_id, day, active_series)
     select p.organization_id, s.project_id, $1::date, count(*)::int
     from public.metric_series s join public.projects p on p.id = s.project_id
     where s.last_seen_at >= $2
     group by p.organization_id, s.project_id
     on conflict (organization_id, day, project_id) do update set active_series = excluded.active_series
     returning 1`,
    [day, periodStart],
  );
  return rows.length;
}

export interface PeriodUsage {
  organizationId: string;
  planId: string;
  limits: Record<Signal, number | null>;
  policies: Record<Signal, 'overage' | 'block'>;
  used: SignalCounts;
  sent: Array<{ signal: Signal; threshold: number }>;
}

/**
 * Organizations with metered usage in the period whose plan limits some signal: their totals per
 * signal, the plan's limits and policies, and the warnings already sent this period.
 */
export async function periodUsage(tx: Queryable, periodStart: string, periodEnd: string): Promise<PeriodUsage[]> {
  const rows = await tx.query<{
    organization_id: string;
    plan_id: string;
    totals: Record<string, number>;
    limits: Record<Signal, number | null>;
    policies: Record<Signal, 'overage' | 'block'>;
    sent: Array<{ signal: Signal; threshold: number }> | null;
  }>(
    `with totals as (
       select organization_id, jsonb_object_agg(signal, events) as totals
       from (select organization_id, signal, sum(events)::float8 as events from public.usage_daily
             where day >= $1::date and day < $2::date group by organization_id, signal) s
       group by organization_id
     )
     select t.organization_id, b.id as plan_id, t.totals,
            jsonb_build_object('metrics', b.metrics_events_limit::float8, 'logs', b.logs_events_limit::float8, 'traces', b.traces_events_limit::float8) as limits,
            jsonb_build_object('metrics', b.metrics_policy, 'logs', b.logs_policy, 'traces', b.traces_policy) as policies,
            (select jsonb_agg(jsonb_build_object('signal', w.signal, 'threshold', w.threshold)) from public.billing_quota_warnings w
             where w.organization_id = t.organization_id and w.period = $1::date) as sent
     from totals t
     join public.organizations o on o.id = t.organization_id
     join public.billing_plans b on b.id = o.plan
     where coalesce(b.metrics_events_limit, b.logs_events_limit, b.traces_events_limit) is not null`,
    [periodStart, periodEnd],
  );
  return rows.map((r) => ({
    organizationId: r.organization_id,
    planId: r.plan_id,
    limits: r.limits,
    policies: r.policies,
    used: { metrics: Number(r.totals.metrics ?? 0), logs: Number(r.totals.logs ?? 0), traces: Number(r.totals.traces ?? 0) },
    sent: r.sent ?? [],
  }));
}

/**
 * Records warnings; one already recorded (a concurrent run) is skipped. Each row emits its webhook
 * event (trigger), and becomes a notification to each contact point the owners route warnings to
 * (organization_billing.warning_contact_point_ids), on the alerting notification log: the one
 * delivery engine sends it with its retries, once per contact point (the log's unique key).
 */
export async function recordWarnings(
  tx: Queryable,
  organizationId: string,
  periodStart: string,
  warnings: ReadonlyArray<{ signal: Signal; threshold: number; used: number; limit: number }>,
  at: { now: Date; dashboardUrl?: string | null } = { now: new Date() },
): Promise<number> {
  if (warnings.length === 0) return 0;
  const rows = await tx.query<{ signal: Signal; threshold: number; used: string; events_limit: string }>(
    `insert into public.billing_quota_warnings (organization_id, period, signal, threshold, used, events_limit)
     select $1, $2::date, w.signal, w.threshold, w.used, w."limit"
     from jsonb_to_recordset($3::text::jsonb) as w(signal text, threshold smallint, used bigint, "limit" bigint)
     on conflict do nothing returning signal, threshold, used::text, events_limit::text`,
    [organizationId, periodStart, JSON.stringify(warnings)],
  );
  if (rows.length > 0) await notifyWarnings(tx, organizationId, periodStart, rows, at);
  return rows.length;
}

const SIGNAL_NAMES: Record<Signal, string> = { metrics: 'Metric', logs: 'Log', traces: 'Span' };

/** The warnings as notifications to the organization's warning contact points (none routed: nothing). */
async function notifyWarnings(
  tx: Queryable,
  organizationId: string,
  periodStart: string,
  warnings: ReadonlyArray<{ signal: Signal; threshold: number; used: string; events_limit: string }>,
  at: { now: Date; dashboardUrl?: string | null },
): Promise<void> {
  const targets = await tx.query<{ id: string; name: string; project_id: string; project_name: string; plan_name: string; policy: Record<Signal, string> }>(
    `select cp.id, cp.name, cp.project_id, p.name as project_name, bp.name as plan_name,
       jsonb_build_object('metrics', bp.metrics_policy, 'logs', bp.logs_policy, 'traces', bp.traces_policy) as policy
     from public.organization_billing ob
     join public.contact_points cp on cp.id = any(ob.warning_contact_point_ids) and cp.organization_id = ob.organization_id
     join public.projects p on p.id = cp.project_id
     join public.organizations o on o.id = ob.organization_id
     join public.billing_plans bp on bp.id = o.plan
     where ob.organization_id = $1 and cp.disabled_at is null`,
    [organizationId],
  );
  if (targets.length === 0) return;
  const period = periodStart.slice(0, 7);
  const next = new Date(Date.UTC(Number(period.slice(0, 4)), Number(period.slice(5, 7)), 1)).toISOString().slice(0, 10);
  const createdAt = at.now.toISOString();
  const n = (v: string) => Number(v).toLocaleString('en-US');
  const notifications = warnings.flatMap((w) =>
    targets.map((cp) => {
      const id = crypto.randomUUID();
      const signal = SIGNAL_NAMES[w.signal];
      const past =
        cp.policy[w.signal] === 'block'
          ? `Past the limit the plan refuses new ${w.signal} (429 QUOTA_EXCEEDED) until ${next}.`
          : `Past the limit the plan keeps accepting and bills the overage.`;
      const labels = { alertname: 'QuotaWarning', signal: w.signal, threshold: `${w.threshold}%`, plan: cp.plan_name, severity: w.threshold >= 100 ? 'critical' : 'warning' };
      const annotations = {
        summary: `${signal} events at ${w.threshold} % of the ${cp.plan_name} plan's monthly limit`,
        description: `${n(w.used)} of ${n(w.events_limit)} ${w.signal} events used in ${period}. ${past}`,
      };
      const key = `billing-quota:${organizationId}:${period}:${w.signal}`;
      return {
        id,
        project_id: cp.project_id,
        contact_point_id: cp.id,
        group_key: `${key}:${w.threshold}`,
        receiver: cp.name,
        payload: {
          id,
          groupKey: key,
          status: 'firing',
          receiver: cp.name,
          groupLabels: { alertname: 'QuotaWarning' },
          commonLabels: labels,
          commonAnnotations: annotations,
          alerts: [{ fingerprint: `${key}:${w.threshold}`, status: 'firing', labels, annotations, startsAt: createdAt, endsAt: null, value: Number(w.used), url: null }],
          truncatedAlerts: 0,
          externalUrl: at.dashboardUrl ?? null,
          project: { id: cp.project_id, name: cp.project_name },
          createdAt,
        },
      };
    }),
  );
  await tx.query(
    `insert into public.alert_notifications (id, project_id, organization_id, contact_point_id, group_key, seq, receiver, payload,
       firing_count, resolved_count, status, next_attempt_at, created_at)
     select x.id, x.project_id, $2, x.contact_point_id, x.group_key, 1, x.receiver, x.payload, 1, 0, 'pending', $3, $3
     from jsonb_to_recordset($1::text::jsonb) as x(id uuid, project_id uuid, contact_point_id uuid, group_key text, receiver text, payload jsonb)
     on conflict (contact_point_id, md5(group_key), seq) do nothing`,
    [JSON.stringify(notifications), organizationId, at.now],
  );
}

export { SIGNALS };
