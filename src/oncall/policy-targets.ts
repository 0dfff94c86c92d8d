import type { Queryable } from '../db/types.ts';
import { invalid } from '../http/validate.ts';
import type { EscalationPolicy, EscalationTarget } from './escalation.ts';

/**
 * Whether every target a policy (or a reassignment) names is there to be paged, checked when it is
 * saved: a user must be a member of the organization, a schedule one of its schedules, a contact
 * point one of its projects' (of the incident's project, for a reassignment). Read under the
 * caller's claims, so a target of another tenant reads as absent, with the same words as one that
 * does not exist: nothing tells one tenant another's ids.
 *
 * The job checks again when it pages (a member may leave, a contact point be removed after the
 * save) and records a target that reaches nobody on the timeline; this check is for the typo and
 * the copied id, refused at once with the field that names it.
 */
export async function checkTargets(
  tx: Queryable,
  scope: { organizationId: string; projectId?: string },
  targets: ReadonlyArray<{ field: string; target: EscalationTarget }>,
): Promise<void> {
  const ids = (type: EscalationTarget['type']) => [...new Set(targets.filter((t) => t.target.type === type).map((t) => t.target.id))];
  const [users, schedules, contactPoints] = [ids('user'), ids('schedule'), ids('contact_point')];
  // Ids are free text in the document (a stand-in person in a test is 'u1'): compared as text, never cast.
  const [members, known, cps] = await Promise.all([
    users.length === 0
      ? []
      : tx.query<{ id: string }>('select user_id::text as id from public.organization_members where organization_id = $1 and user_id::text = any($2::text[])', [scope.organizationId, users]),
    schedules.length === 0
      ? []
      : tx.query<{ id: string }>('select id::text as id from public.oncall_schedules where organization_id = $1 and id::text = any($2::text[])', [scope.organizationId, schedules]),
    contactPoints.length === 0
      ? []
      : tx.query<{ id: string }>(
          `select id::text as id from public.contact_points where organization_id = $1 and id::text = any($2::text[]) and ($3::uuid is null or project_id = $3::uuid)`,
          [scope.organizationId, contactPoints, scope.projectId ?? null],
        ),
  ]);
  const found = { user: new Set(members.map((r) => r.id)), schedule: new Set(known.map((r) => r.id)), contact_point: new Set(cps.map((r) => r.id)) };
  const missing = targets.find((t) => !found[t.target.type].has(t.target.id));
  if (!missing) return;
  const what = {
    user: 'is not a member of the organization',
    schedule: "is not one of the organization's on-call schedules",
    contact_point: scope.projectId ? "is not a contact point of the incident's project" : "is not a contact point of the organization's projects",
  }[missing.target.type];
  throw invalid(missing.field, what);
}

/** A policy's targets, each with the request field that names it. */
export function policyTargets(policy: EscalationPolicy, at: string): Array<{ field: string; target: EscalationTarget }> {
  return policy.levels.flatMap((level, l) => level.targets.map((target, i) => ({ field: `${at}.levels.${l}.targets.${i}.id`, target })));
}
