import type { Deps } from '../core/deps.ts';
import { AppError, forbidden } from '../core/errors.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import type { EscalationTarget } from './escalation.ts';
import { applyEvent, type IncidentEvent } from './incidents.ts';
import { checkTargets } from './policy-targets.ts';
import { findIncident, lockIncidentKey, toCore, toIncidentView, withoutPaging, writeStep } from './views.ts';

export type IncidentAction =
  | { type: 'acknowledge' }
  | { type: 'unacknowledge' }
  | { type: 'resolve' }
  | { type: 'note'; text: string }
  | { type: 'snooze'; until: number }
  | { type: 'reassign'; targets: EscalationTarget[] };

/**
 * Acknowledges (or takes back the acknowledgement), snoozes, reassigns, resolves or adds a note to
 * an incident, by the signed-in user: whoever may change
 * its project (owners, admins, the members assigned to it). 404 when the caller cannot see the
 * incident, 403 when they can but may not change it (a viewer). The incident core decides; the state,
 * the version and the timeline are written together as the service role (users hold no write grant),
 * guarded by the version read: a racing change is serialised by the incident's lock, so a second
 * acknowledge finds the incident acknowledged and changes nothing (200, no second timeline row).
 * Acting on a resolved incident is a 409 naming the reason (a note is still recorded).
 */
export async function actOnIncident(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string, action: IncidentAction) {
  // The escalation job holds an incident's row while it steps it: an action that waited on it finds
  // a new version and is applied again to what the job wrote (once; a second change is a 409).
  for (let attempt = 1; ; attempt++) {
    const view = await actOnce(deps, actor, id, action);
    if (view !== STALE) return view;
    if (attempt >= 2) throw new AppError('CONFLICT', 'The incident changed meanwhile; read it again and retry');
  }
}

const STALE = Symbol('stale');

async function actOnce(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string, action: IncidentAction) {
  const by = actor.sub;
  if (!by) throw forbidden('Incidents are acknowledged and resolved by a signed-in user');
  const row = await withClaims(deps.db, actor, async (tx) => {
    const seen = await findIncident(tx, id);
    const [w] = await tx.query<{ may: boolean }>('select $1::uuid in (select private.writable_project_ids()) as may', [seen.project_id]);
    if (!w!.may) throw forbidden('Only members who may change the project can act on its incidents');
    if (action.type === 'reassign') {
      await checkTargets(tx, { organizationId: seen.organization_id, projectId: seen.project_id }, action.targets.map((target, i) => ({ field: `body.targets.${i}.id`, target })));
    }
    await lockIncidentKey(tx, seen.service_id, seen.group_key);
    const current = await findIncident(tx, id);
    const event: IncidentEvent = { ...action, by };
    const step = applyEvent(toCore(current), event, deps.clock.now().getTime());
    if (step.rejected !== null) throw new AppError('CONFLICT', `Cannot ${action.type} this incident: ${step.rejected}`);
    if (step.timeline.length === 0) return current;
    const written = await asServiceRoleWithin(tx, actor, () => writeStep(tx, current, current.policy === null ? withoutPaging(step) : step));
    return written ?? STALE;
  });
  return row === STALE ? STALE : toIncidentView(row);
}
