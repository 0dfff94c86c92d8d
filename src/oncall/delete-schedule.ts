import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findSchedule, requireScheduleManager } from './schedule-store.ts';

/**
 * Removes a schedule (owners and admins) with its feeds. Refused (409, naming them) while an
 * escalation policy of the organization targets it: the policy would page nobody at that level.
 * Open incidents keep the policy they snapshotted; a schedule gone from under one has nobody on call.
 */
export async function deleteSchedule(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    const schedule = await findSchedule(tx, id);
    await requireScheduleManager(tx, schedule.organization_id);
    const target = { levels: [{ targets: [{ type: 'schedule', id }] }] };
    const users = await tx.query<{ name: string }>(
      'select name from public.escalation_policies where organization_id = $1 and document @> $2::text::jsonb order by name limit 5',
      [schedule.organization_id, JSON.stringify(target)],
    );
    if (users.length > 0) {
      throw new AppError('CONFLICT', `The schedule is a target of escalation policies (${users.map((u) => u.name).join(', ')}); remove it from them first`);
    }
    await tx.query('delete from public.oncall_schedules where id = $1', [id]);
  });
}
