import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { PLAN_COLUMNS, type PlanRow, toPlanView } from './plans.ts';

/** The shared plans and the custom plans of the caller's organizations (RLS), cheapest first. */
export async function listPlans(deps: Pick<Deps, 'db'>, actor: Claims) {
  const rows = await withClaims(deps.db, actor, (tx) =>
    tx.query<PlanRow>(`select ${PLAN_COLUMNS} from public.billing_plans order by organization_id nulls first, base_price_cents, id`),
  );
  return rows.map(toPlanView);
}
