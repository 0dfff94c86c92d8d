import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { asServiceRole } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { organizationFootprint, planShortfalls } from './plan-limits.ts';
import { findPlan, planFromInput, toPlanView, type PlanRow, PLAN_COLUMNS } from './plans.ts';
import { SIGNALS } from './quota.ts';
import type { PutPlan } from './schemas.ts';

/**
 * Creates or replaces a plan (service role only: a custom plan is a contract's terms, set by the
 * operator, never by the organization it serves; owners choose among the plans they can see).
 * Refused, with nothing written, when it contradicts itself (schema), when it would move a custom plan
 * to another organization, or when an organization on it no longer fits it (409 naming what must
 * change first). Audited in the organization of a custom plan (trigger).
 */
export async function putPlan(deps: Pick<Deps, 'db'>, planId: string, input: PutPlan) {
  const plan = planFromInput(planId, input);
  const row = await asServiceRole(deps.db, async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext('observai.plan:' || $1))`, [planId]);
    const existing = await findPlan(tx, planId).catch(() => null);
    if (existing && existing.organizationId !== input.organizationId) {
      throw invalid('body.organizationId', `plan ${planId} ${existing.organizationId ? `is custom to organization ${existing.organizationId}` : 'is a shared plan'}; a plan does not change hands`);
    }
    if (input.organizationId) {
      const [org] = await tx.query('select 1 from public.organizations where id = $1', [input.organizationId]);
      if (!org) throw invalid('body.organizationId', 'no such organization');
    }
    const users = await tx.query<{ id: string }>('select id from public.organizations where plan = $1 order by id for update', [planId]);
    for (const u of users) {
      const shortfalls = planShortfalls(plan, await organizationFootprint(tx, u.id));
      if (shortfalls.length > 0) {
        throw new AppError('CONFLICT', `Organization ${u.id} is on plan ${planId} and would not fit it: ${shortfalls[0]!.message}`, { details: shortfalls });
      }
    }
    const cols = [
      'id', 'name', 'organization_id', 'base_price_cents',
      ...SIGNALS.flatMap((s) => [`${s}_events_limit`, `${s}_events_included`, `${s}_price_per_million_cents`, `${s}_policy`]),
      'active_series_limit', 'members_limit', 'alert_rules_limit', 'webhook_endpoints_limit', 'api_requests_per_minute', 'retention_days_limit',
      'stripe_base_price_id', ...SIGNALS.map((s) => `${s}_stripe_price_id`),
    ];
    const values = [
      planId, input.name, input.organizationId, input.basePriceCents,
      ...SIGNALS.flatMap((s) => { const t = input.signals[s]; return [t.monthlyLimit, t.included, t.pricePerMillionCents, t.policy]; }),
      input.limits.activeSeries, input.limits.members, input.limits.alertRules, input.limits.webhookEndpoints, input.limits.apiRequestsPerMinute, input.limits.retentionDays,
      input.stripePrices.base, ...SIGNALS.map((s) => input.stripePrices[s]),
    ];
    const [saved] = await tx.query<PlanRow>(
      `insert into public.billing_plans (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})
       on conflict (id) do update set ${cols.slice(1).map((c) => `${c} = excluded.${c}`).join(', ')}
       returning ${PLAN_COLUMNS}`,
      values,
    );
    return { saved: saved!, created: !existing };
  });
  return { plan: toPlanView(row.saved), created: row.created };
}
