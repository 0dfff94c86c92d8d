import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { lockAlertingConfig, managedProject } from './contact-point-views.ts';
import { receiverPaths, toPolicyView } from './get-policy.ts';
import type { PutPolicy } from './schemas.ts';

/**
 * Sets a project's notification policy (owners and admins; audited by trigger). The document was
 * validated by routing.ts's PolicyDocument (PutPolicy); here every receiver the tree names must be
 * the name of one of the project's contact points, so the tree never routes to nothing: a 400
 * naming each route that does (body.policy.route.routes.0.receiver). The document is stored as it
 * was sent.
 */
export async function putPolicy(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, input: PutPolicy) {
  return withClaims(deps.db, actor, async (tx) => {
    const project = await managedProject(tx, await resolveProject(tx, input.projectId, keyProjectId, 'body.projectId'), 'notification policies');
    await lockAlertingConfig(tx, project.id);
    const named = receiverPaths(input.policy.raw);
    const known = await tx.query<{ name: string }>('select distinct name from public.contact_points where project_id = $1 and name = any($2::text[])', [
      project.id,
      [...new Set(named.map((n) => n.receiver))],
    ]);
    const names = new Set(known.map((k) => k.name));
    const details = named
      .filter((n) => !names.has(n.receiver))
      .map((n) => ({ field: `body.policy.${n.path}`, message: `no contact point of this project is named '${n.receiver}'` }));
    if (details.length > 0) throw new AppError('VALIDATION_FAILED', `${details[0]!.field}: ${details[0]!.message}`, { details });
    // updated_by is stamped by a trigger (the writing user); users are granted `document` only.
    const [row] = await tx.query<{ document: Record<string, unknown>; updated_by: string | null; updated_at: Date }>(
      `insert into public.notification_policies (project_id, organization_id, document) values ($1, $2, $3::text::jsonb)
       on conflict (project_id) do update set document = excluded.document
       returning document, updated_by, updated_at`,
      [project.id, project.organization_id, JSON.stringify(input.policy.raw)],
    );
    return toPolicyView(project.id, row!);
  });
}
