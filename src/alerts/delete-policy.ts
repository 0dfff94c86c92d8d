import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { lockAlertingConfig, managedProject } from './contact-point-views.ts';

/**
 * Removes a project's notification policy (owners and admins; audited): with no routing tree no
 * notification is sent, while rules still evaluate and instances and history are kept. Idempotent:
 * removing a policy that is not there is the same success.
 */
export async function deletePolicy(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, projectId: string | undefined): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    const project = await managedProject(tx, await resolveProject(tx, projectId, keyProjectId), 'notification policies');
    await lockAlertingConfig(tx, project.id);
    await tx.query('delete from public.notification_policies where project_id = $1', [project.id]);
  });
}
