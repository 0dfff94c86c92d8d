import { AppError } from '../core/errors.ts';
import { asServiceRoleWithin, type Claims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { invalid } from '../http/validate.ts';
import { LOG_RETENTION_DEFAULTS } from '../retention/log-retention.ts';
import { organizationPlan, type PlanView } from './plans.ts';

/** What an organization holds that a plan limits (counted across the whole organization). */
export interface Footprint {
  members: number;
  alertRules: number;
  webhookEndpoints: number;
  /** The longest log or span retention any of its projects keeps (defaults for projects without settings). */
  retentionDays: number;
}

const DEFAULT_MAX_RETENTION = Math.max(...Object.values(LOG_RETENTION_DEFAULTS.levels), LOG_RETENTION_DEFAULTS.spans);

/** Counts the organization's footprint; `tx` must see the whole organization (the service role). */
export async function organizationFootprint(tx: Queryable, orgId: string): Promise<Footprint> {
  const [row] = await tx.query<{ members: number; alert_rules: number; webhook_endpoints: number; retention_days: number; default_projects: number }>(
    `select
       (select count(*)::int from public.organization_members where organization_id = $1) as members,
       (select count(*)::int from public.alert_rules where organization_id = $1) as alert_rules,
       (select count(*)::int from public.webhook_endpoints where organization_id = $1) as webhook_endpoints,
       (select coalesce(max(greatest(trace_days, debug_days, info_days, warn_days, error_days, fatal_days, span_days)), 0)::int
          from public.log_retention_settings where organization_id = $1) as retention_days,
       (select count(*)::int from public.projects p where p.organization_id = $1
          and not exists (select 1 from public.log_retention_settings s where s.project_id = p.id)) as default_projects`,
    [orgId],
  );
  const r = row!;
  return {
    members: r.members,
    alertRules: r.alert_rules,
    webhookEndpoints: r.webhook_endpoints,
    retentionDays: Math.max(r.retention_days, r.default_projects > 0 ? DEFAULT_MAX_RETENTION : 0),
  };
}

/**
 * What must change before the organization fits `plan`, one sentence per limit it exceeds (empty:
 * it fits). Pure, so the downgrade rules are tested without a database.
 */
export function planShortfalls(plan: PlanView, f: Footprint): Array<{ field: string; message: string }> {
  const out: Array<{ field: string; message: string }> = [];
  const over = (field: string, have: number, limit: number | null, noun: string, fix: (excess: number) => string) => {
    if (limit !== null && have > limit) out.push({ field, message: `the organization has ${have} ${noun}; the ${plan.name} plan allows ${limit}: ${fix(have - limit)} first` });
  };
  over('limits.members', f.members, plan.limits.members, 'members', (n) => `remove ${n}`);
  over('limits.alertRules', f.alertRules, plan.limits.alertRules, 'alert rules', (n) => `delete ${n}`);
  over('limits.webhookEndpoints', f.webhookEndpoints, plan.limits.webhookEndpoints, 'webhook endpoints', (n) => `delete ${n}`);
  if (f.retentionDays > plan.limits.retentionDays) {
    out.push({
      field: 'limits.retentionDays',
      message: `a project of the organization keeps logs or spans ${f.retentionDays} days; the ${plan.name} plan allows ${plan.limits.retentionDays}: lower its retention (PUT /logs/retention) first`,
    });
  }
  return out;
}

/** 409 naming everything that must change before the organization may be on `plan`. */
export async function assertPlanFits(tx: Queryable, actor: Claims, orgId: string, plan: PlanView): Promise<void> {
  const footprint = await asServiceRoleWithin(tx, actor, () => organizationFootprint(tx, orgId));
  const shortfalls = planShortfalls(plan, footprint);
  if (shortfalls.length > 0) {
    throw new AppError('CONFLICT', `The organization does not fit the ${plan.name} plan: ${shortfalls[0]!.message}`, { details: shortfalls });
  }
}

type CountedLimit = 'alertRules' | 'webhookEndpoints';
const COUNTED: Record<CountedLimit, { table: string; noun: string }> = {
  alertRules: { table: 'public.alert_rules', noun: 'alert rules' },
  webhookEndpoints: { table: 'public.webhook_endpoints', noun: 'webhook endpoints' },
};

/**
 * Before creating `adding` more of something the plan counts (one rule, or the net new rules of a
 * rules file): 400 naming the plan's limit when the organization would go past it. Serialised per
 * organization and kind (an advisory lock held to the end of the transaction), so concurrent
 * creations cannot both take the last place; counted as the service role, since the limit is the
 * organization's whatever the caller sees.
 */
export async function assertWithinPlan(tx: Queryable, actor: Claims, orgId: string, what: CountedLimit, field: string, adding = 1): Promise<void> {
  const { table, noun } = COUNTED[what];
  await tx.query(`select pg_advisory_xact_lock(hashtext('observai.plan:' || $1::text || ':' || $2::text))`, [what, orgId]);
  const { plan, have } = await asServiceRoleWithin(tx, actor, async () => {
    const plan = await organizationPlan(tx, orgId);
    const [row] = await tx.query<{ n: number }>(`select count(*)::int as n from ${table} where organization_id = $1`, [orgId]);
    return { plan, have: row!.n };
  });
  const limit = plan.limits[what];
  if (limit !== null && have + adding > limit) {
    const excess = have + adding - limit;
    throw invalid(
      field,
      `the organization already has ${have} ${noun}${adding > 1 ? ` and this would add ${adding}` : ''}, and its ${plan.name} plan allows ${limit}; remove ${excess === 1 ? 'one' : excess} or upgrade the plan first`,
    );
  }
}

/** 400 when a retention setting asks for more days than the organization's plan keeps. */
export async function assertRetentionWithinPlan(tx: Queryable, actor: Claims, orgId: string, days: Array<{ field: string; days: number | null | undefined }>): Promise<void> {
  const plan = await asServiceRoleWithin(tx, actor, () => organizationPlan(tx, orgId));
  const over = days.find((d) => d.days != null && d.days > plan.limits.retentionDays);
  if (over) throw invalid(over.field, `is ${over.days} days; the organization's ${plan.name} plan keeps data at most ${plan.limits.retentionDays} days`);
}
