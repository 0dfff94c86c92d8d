import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { createSecretBox, requireEncryptionKey } from '../core/secret-box.ts';
import {
  CONTACT_POINT_COLUMNS,
  type ContactPointRow,
  checkDestinations,
  checkOncallService,
  lockAlertingConfig,
  managedProject,
  parseSecret,
  parseSettings,
  secretRequired,
  toContactPointView,
} from './contact-point-views.ts';
import { generateWebhookSecret, NOTIFIERS } from './notifiers/index.ts';
import { ALERT_LIMITS, type CreateContactPoint } from './schemas.ts';

/**
 * Adds a contact point to a project (owners and admins; audited by trigger). Settings and secret are
 * checked by the kind's notifier, every URL by the outbound guard's URL check. The secret is sealed
 * bound to the new row's id (so a ciphertext copied to another row does not open) and never
 * returned, except a webhook's generated signing secret, shown once here as Standard Webhooks
 * endpoints do: the receiver needs it to verify signatures.
 */
export async function createContactPoint(deps: Pick<Deps, 'db' | 'config' | 'outbound'>, actor: Claims, keyProjectId: string | undefined, input: CreateContactPoint) {
  const settings = parseSettings(input.kind, input.settings);
  let secret = input.secret === undefined ? undefined : parseSecret(input.kind, input.secret);
  checkDestinations(deps.outbound, input.kind, settings, secret);
  let generated: string | undefined;
  if (secret === undefined && input.kind === 'webhook') secret = generated = generateWebhookSecret();
  if (secret === undefined && NOTIFIERS[input.kind].secret.required) throw secretRequired(input.kind);

  const id = crypto.randomUUID();
  const sealed = secret === undefined ? null : await (await createSecretBox(requireEncryptionKey(deps.config, 'Contact points'))).seal(secret, id);
  const row = await withClaims(deps.db, actor, async (tx) => {
    const project = await managedProject(tx, await resolveProject(tx, input.projectId, keyProjectId, 'body.projectId'), 'contact points');
    await checkOncallService(tx, input.kind, settings, project.id);
    await lockAlertingConfig(tx, project.id);
    const [count] = await tx.query<{ n: number }>('select count(*)::int as n from public.contact_points where project_id = $1', [project.id]);
    if (count!.n >= ALERT_LIMITS.contactPointsPerProject) {
      throw invalid('body', `the project already has ${ALERT_LIMITS.contactPointsPerProject} contact points (the limit); remove one first`);
    }
    const [inserted] = await tx.query<ContactPointRow>(
      `insert into public.contact_points (id, project_id, organization_id, name, kind, settings, secret_ciphertext, send_resolved)
       values ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8)
       returning ${CONTACT_POINT_COLUMNS}`,
      [id, project.id, project.organization_id, input.name, input.kind, JSON.stringify(settings), sealed, input.sendResolved],
    );
    return inserted!;
  });
  return { contactPoint: toContactPointView(row, { settings, hasSecret: sealed !== null }, true), ...(generated ? { secret: generated } : {}) };
}
