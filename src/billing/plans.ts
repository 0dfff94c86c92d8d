import { notFound } from '../core/errors.ts';
import type { Queryable } from '../db/types.ts';
import { SIGNALS, type Signal } from './quota.ts';
import type { PutPlan } from './schemas.ts';

/** Every column of billing_plans, bigints read as numbers (all below 2^53: the API bounds them). */
export const PLAN_COLUMNS = `id, name, organization_id, base_price_cents::float8 as base_price_cents,
  ${SIGNALS.map((s) => `${s}_events_limit::float8 as ${s}_events_limit, ${s}_events_included::float8 as ${s}_events_included, ${s}_price_per_million_cents::float8 as ${s}_price_per_million_cents, ${s}_policy`).join(',\n  ')},
  active_series_limit, members_limit, alert_rules_limit, webhook_endpoints_limit, api_requests_per_minute, retention_days_limit,
  stripe_base_price_id, metrics_stripe_price_id, logs_stripe_price_id, traces_stripe_price_id`;

export type PlanRow = {
  id: string;
  name: string;
  organization_id: string | null;
  base_price_cents: number;
  active_series_limit: number | null;
  members_limit: number | null;
  alert_rules_limit: number | null;
  webhook_endpoints_limit: number | null;
  api_requests_per_minute: number | null;
  retention_days_limit: number;
  stripe_base_price_id: string | null;
} & Record<`${Signal}_stripe_price_id`, string | null> &
  Record<`${Signal}_events_limit`, number | null> &
  Record<`${Signal}_events_included` | `${Signal}_price_per_million_cents`, number> &
  Record<`${Signal}_policy`, 'overage' | 'block'>;

export interface SignalTerms {
  monthlyLimit: number | null;
  included: number;
  pricePerMillionCents: number;
  policy: 'overage' | 'block';
}

export interface PlanView {
  id: string;
  name: string;
  custom: boolean;
  organizationId: string | null;
  basePriceCents: number;
  signals: Record<Signal, SignalTerms>;
  limits: {
    activeSeries: number | null;
    members: number | null;
    alertRules: number | null;
    webhookEndpoints: number | null;
    apiRequestsPerMinute: number | null;
    retentionDays: number;
  };
  /** The Stripe prices of its subscription (all null: not billed through Stripe). */
  stripePrices: StripePrices;
}

export interface StripePrices {
  base: string | null;
  metrics: string | null;
  logs: string | null;
  traces: string | null;
}

/** The prices a subscription to the plan carries, base first; empty: the plan is not billed through Stripe. */
export function subscriptionPrices(plan: PlanView): string[] {
  const p = plan.stripePrices;
  return [p.base, p.metrics, p.logs, p.traces].filter((id): id is string => id !== null);
}

export function toPlanView(r: PlanRow): PlanView {
  const terms = (s: Signal): SignalTerms => ({
    monthlyLimit: r[`${s}_events_limit`],
    included: r[`${s}_events_included`],
    pricePerMillionCents: r[`${s}_price_per_million_cents`],
    policy: r[`${s}_policy`],
  });
  return {
    id: r.id,
    name: r.name,
    custom: r.organization_id !== null,
    organizationId: r.organization_id,
    basePriceCents: r.base_price_cents,
    signals: { metrics: terms('metrics'), logs: terms('logs'), traces: terms('traces') },
    limits: {
      activeSeries: r.active_series_limit,
      members: r.members_limit,
      alertRules: r.alert_rules_limit,
      webhookEndpoints: r.webhook_endpoints_limit,
      apiRequestsPerMinute: r.api_requests_per_minute,
      retentionDays: r.retention_days_limit,
    },
    stripePrices: { base: r.stripe_base_price_id, metrics: r.metrics_stripe_price_id, logs: r.logs_stripe_price_id, traces: r.traces_stripe_price_id },
  };
}

/** A plan as written by PutPlan, in PlanView's shape (what the downgrade check compares against). */
export function planFromInput(id: string, input: PutPlan): PlanView {
  return { id, name: input.name, custom: input.organizationId !== null, organizationId: input.organizationId, basePriceCents: input.basePriceCents, signals: input.signals, limits: input.limits, stripePrices: input.stripePrices };
}

/** The plan the caller may see (shared, or their organization's custom one): 404 otherwise. */
export async function findPlan(tx: Queryable, planId: string): Promise<PlanView> {
  const [row] = await tx.query<PlanRow>(`select ${PLAN_COLUMNS} from public.billing_plans where id = $1`, [planId]);
  if (!row) throw notFound('Plan');
  return toPlanView(row);
}

/** An organization's current plan (read as the service role by callers that check limits). */
export async function organizationPlan(tx: Queryable, orgId: string): Promise<PlanView> {
  const [row] = await tx.query<PlanRow>(`select ${PLAN_COLUMNS} from public.billing_plans where id = (select plan from public.organizations where id = $1)`, [orgId]);
  if (!row) throw notFound('Organization');
  return toPlanView(row);
}
