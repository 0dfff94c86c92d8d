import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { POLICY_COLUMNS, type PolicyRow, toPolicyView } from './views.ts';

/** An organization's escalation policies (every member reads them), by name. */
export async function listEscalationPolicies(deps: Pick<Deps, 'db'>, actor: Claims, organizationId: string) {
  return withClaims(deps.db, actor, async (tx) => {
    const [org] = await tx.query('select 1 from public.organizations where id = $1', [organizationId]);
    if (!org) throw notFound('Organization');
    const rows = await tx.query<PolicyRow>(`select ${POLICY_COLUMNS} from public.escalation_policies where organization_id = $1 order by name, id`, [organizationId]);
    return rows.map(toPolicyView);
  });
}
