import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';

/** Stops a daily export (owners and admins; audited). Runs it already created stay, unlinked. */
export async function deleteSchedule(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    const [visible] = await tx.query('select id from public.export_schedules where id = $1', [id]);
    if (!visible) throw notFound('Export schedule');
    const deleted = await tx.query('delete from public.export_schedules where id = $1 returning id', [id]);
    if (deleted.length === 0) throw forbidden('Only owners and admins can remove export schedules');
  });
}
