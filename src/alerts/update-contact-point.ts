import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { createSecretBox, requireEncryptionKey } from '../core/secret-box.ts';
import {
  assertNotLastReceiver,
  CONTACT_POINT_COLUMNS,
  type ContactPointRow,
  checkDestinations,
  checkOncallService,
  findContactPoint,
  lockAlertingConfig,
  parseSecret,
  parseSettings,
  sealedParts,
  secretRequired,
  toContactPointView,
} from './contact-point-views.ts';
import { NOTIFIERS } from './notifiers/index.ts';
import type { UpdateContactPoint } from './schemas.ts';

/**
 * Changes a contact point (owners and admins; audited). Its kind is fixed (a new kind is a new contact
 * point); settings are replaced whole and checked by the kind's notifier; a new secret is sealed
 * bound to the row, `secret: null` removes an optional one. `enabled: true` clears a disable (a
 * receiver's 410 Gone), `enabled: false` sets one. A rename that would leave the policy routing to
 * nothing is a 409, as a delete is.
 */
export async function updateContactPoint(deps: Pick<Deps, 'db' | 'config' | 'outbound' | 'clock'>, actor: Claims, id: string, input: UpdateContactPoint) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    const cp = await findContactPoint(tx, id);
    if (!cp.may_manage) throw forbidden('Only owners and admins can manage contact points');
    const kind = cp.kind;
    const settings = input.settings === undefined ? undefined : parseSettings(kind, input.settings);
    const secret = typeof input.secret === 'string' ? parseSecret(kind, input.secret) : undefined;
    if (input.secret === null && NOTIFIERS[kind].secret.required) throw secretRequired(kind);
    checkDestinations(deps.outbound, kind, settings, secret);
    await checkOncallService(tx, kind, settings, cp.project_id);

    // Only the columns that change: reading secret_ciphertext (even `set x = x`) is not granted.
    const sets: string[] = [];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown, cast = '') => sets.push(`${column} = $${params.push(value)}${cast}`);
    if (input.name !== undefined && input.name !== cp.name) {
      await lockAlertingConfig(tx, cp.project_id);
      await assertNotLastReceiver(tx, cp, 'rename');
      set('name', input.name);
    }
    if (settings !== undefined) set('settings', JSON.stringify(settings), '::text::jsonb');
    if (secret !== undefined) set('secret_ciphertext', await (await createSecretBox(requireEncryptionKey(deps.config, 'Contact points'))).seal(secret, cp.id));
    if (input.secret === null) sets.push('secret_ciphertext = null');
    if (input.sendResolved !== undefined) set('send_resolved', input.sendResolved);
    if (input.enabled === true) sets.push('disabled_at = null', 'disabled_reason = null');
    if (input.enabled === false && cp.disabled_at === null) {
      set('disabled_at', deps.clock.now());
      set('disabled_reason', 'Disabled by a user');
    }
    if (sets.length === 0) return cp;
    const [updated] = await tx.query<ContactPointRow>(`update public.contact_points set ${sets.join(', ')} where id = $1 returning ${CONTACT_POINT_COLUMNS}`, params);
    if (!updated) throw forbidden('Only owners and admins can manage contact points');
    return updated;
  });
  return toContactPointView(row, (await sealedParts(deps, [row.id])).get(row.id)!, true);
}

