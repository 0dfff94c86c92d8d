import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { toIso as iso } from '../core/time.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { rulesOrDefault } from './page-plan.ts';
import type { PutNotificationRules } from './schemas.ts';

/**
 * The caller's own notification rules: how and when a page reaches them (issue 20 item 3). Only
 * the signed-in person reads or writes their own (RLS: user_id = auth.uid()). The document is written
 * by the API as the service role after validating it (users hold no write grant: the escalation job
 * trusts it). Without rules a person is emailed at once at their account's address.
 */
function personOf(actor: Claims): string {
  if (!actor.sub) throw forbidden('Notification rules belong to a signed-in person');
  return actor.sub;
}

interface RulesRow {
  document: PutNotificationRules;
  updated_at: Date;
}

export async function getMyNotificationRules(deps: Pick<Deps, 'db'>, actor: Claims) {
  const userId = personOf(actor);
  return withClaims(deps.db, actor, async (tx) => {
    const [row] = await tx.query<RulesRow>('select document, updated_at from public.oncall_notification_rules where user_id = $1', [userId]);
    if (row) return { rules: row.document, default: false, updatedAt: iso(row.updated_at) };
    const [profile] = await tx.query<{ email: string | null }>('select email from public.profiles where id = $1', [userId]);
    return { rules: rulesOrDefault(null, profile?.email ?? null), default: true, updatedAt: null };
  });
}

export async function putMyNotificationRules(deps: Pick<Deps, 'db'>, actor: Claims, rules: PutNotificationRules) {
  const userId = personOf(actor);
  return withClaims(deps.db, actor, async (tx) => {
    const [row] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<RulesRow>(
        `insert into public.oncall_notification_rules (user_id, document) values ($1, $2::text::jsonb)
         on conflict (user_id) do update set document = excluded.document
         returning document, updated_at`,
        [userId, JSON.stringify(rules)],
      ),
    );
    return { rules: row!.document, default: false, updatedAt: iso(row!.updated_at) };
  });
}

/** Back to the default (email at once at the account's address). */
export async function deleteMyNotificationRules(deps: Pick<Deps, 'db'>, actor: Claims): Promise<void> {
  const userId = personOf(actor);
  await withClaims(deps.db, actor, (tx) => tx.query('delete from public.oncall_notification_rules where user_id = $1', [userId]));
}
