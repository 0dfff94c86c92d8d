import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findRule } from './find-rule.ts';

/**
 * Removes a rule (audited by trigger). Its instances keep their history and resolve at the next
 * evaluation (rule_id is set null), so an alert that paged someone still gets its resolved notice.
 */
export async function deleteRule(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    await findRule(tx, id);
    const deleted = await tx.query('delete from public.alert_rules where id = $1 returning id', [id]);
    if (deleted.length === 0) throw forbidden('Only owners, admins and members assigned to the project can remove its alert rules');
  });
}
