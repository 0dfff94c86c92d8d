import type { Deps } from '../core/deps.ts';
import { AppError, forbidden } from '../core/errors.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { mergeIncidents } from './incidents.ts';
import { findIncident, lockIncidentKey, toCore, toIncidentView, withoutPaging, writeStep } from './views.ts';

/**
 * Merges an incident into another of the same project (whoever may change it): the source is
 * resolved by the caller and points at the target (`merged_into`), both timelines say so, and the
 * target goes on as it was. Events for the source's key afterwards follow it into the target while
 * the target is open (routeEvent's `follow`). Both incidents' keys are locked (in a fixed order, so
 * two merges cannot deadlock) and both steps are written under their version guards, or neither.
 */
export async function mergeIncident(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, sourceId: string, targetId: string) {
  const by = actor.sub;
  if (!by) throw forbidden('Incidents are merged by a signed-in user');
  if (sourceId === targetId) throw invalid('body.into', 'an incident cannot be merged into itself');
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const seenSource = await findIncident(tx, sourceId);
    const seenTarget = await findIncident(tx, targetId).catch((err) => {
      throw err instanceof AppError && err.code === 'NOT_FOUND' ? invalid('body.into', 'is not an incident you can see') : err;
    });
    if (seenTarget.project_id !== seenSource.project_id) throw invalid('body.into', 'must be an incident of the same project');
    const [w] = await tx.query<{ may: boolean }>('select $1::uuid in (select private.writable_project_ids()) as may', [seenSource.project_id]);
    if (!w!.may) throw forbidden('Only members who may change the project can merge its incidents');
    for (const i of [seenSource, seenTarget].sort((a, b) => (a.id < b.id ? -1 : 1))) await lockIncidentKey(tx, i.service_id, i.group_key);
    const source = await findIncident(tx, sourceId);
    const target = await findIncident(tx, targetId);
    const steps = mergeIncidents(toCore(source), toCore(target), by, deps.clock.now().getTime());
    if (steps.source.rejected !== null) throw new AppError('CONFLICT', `Cannot merge: ${steps.source.rejected}`);
    return asServiceRoleWithin(tx, actor, async () => {
      const s = await writeStep(tx, source, source.policy === null ? withoutPaging(steps.source) : steps.source);
      const t = await writeStep(tx, target, steps.target);
      if (!s || !t) throw new AppError('CONFLICT', 'The incidents changed meanwhile; read them again and retry');
      return { source: s, target: t };
    });
  });
  return { incident: toIncidentView(rows.source), into: toIncidentView(rows.target) };
}
