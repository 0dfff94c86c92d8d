import { randomToken, sha256Hex } from '../core/ids.ts';
import type { Deps } from '../core/deps.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { type CreateService, ONCALL_LIMITS } from './schemas.ts';
import { requireOrgManager, SERVICE_COLUMNS, type ServiceRow, toServiceView } from './views.ts';

/**
 * Adds a service to a project (owners and admins of its organization; audited by trigger, never the
 * key). Its Events v2 routing key (32 characters, as PagerDuty's integration keys) is generated here,
 * stored as its sha256 only, and returned this once. The policy, when given, must be one of the
 * project's organization's (a foreign key on (policy, organization) holds it).
 */
export async function createService(deps: Pick<Deps, 'db'>, actor: Claims, input: CreateService) {
  const integrationKey = randomToken(32);
  const hash = await sha256Hex(integrationKey);
  const row = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, input.projectId, undefined, 'body.projectId');
    const [p] = await tx.query<{ organization_id: string }>('select organization_id from public.projects where id = $1', [projectId]);
    await requireOrgManager(tx, p!.organization_id);
    if (input.escalationPolicyId !== null) {
      const [policy] = await tx.query('select 1 from public.escalation_policies where id = $1 and organization_id = $2', [input.escalationPolicyId, p!.organization_id]);
      if (!policy) throw invalid('body.escalationPolicyId', "is not an escalation policy of the project's organization");
    }
    await tx.query(`select pg_advisory_xact_lock(hashtext('observai.oncall_services:' || $1::text))`, [projectId]);
    return asServiceRoleWithin(tx, actor, async () => {
      const [count] = await tx.query<{ n: number }>('select count(*)::int as n from public.oncall_services where project_id = $1', [projectId]);
      if (count!.n >= ONCALL_LIMITS.servicesPerProject) throw invalid('body', `the project already has ${ONCALL_LIMITS.servicesPerProject} services (the limit)`);
      const [inserted] = await tx.query<ServiceRow>(
        `insert into public.oncall_services (organization_id, project_id, name, escalation_policy_id, urgency, reopen_window_seconds, integration_key_hash, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${SERVICE_COLUMNS}`,
        [p!.organization_id, projectId, input.name, input.escalationPolicyId, input.urgency, input.reopenWindowSeconds, hash, actor.sub ?? null],
      );
      return inserted!;
    });
  });
  return { service: toServiceView(row), integrationKey };
}
