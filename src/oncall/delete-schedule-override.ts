import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { rawOverrides } from './add-schedule-override.ts';
import { editDocument, overrideId, requireScheduleEditor } from './schedule-store.ts';

/**
 * Removes an override by its id (owners and admins any, members their own), through the
 * compare-and-set write: an override added meanwhile stays. Of two identical overrides the later
 * goes. 404 when the schedule has no such override (any more).
 */
export async function deleteScheduleOverride(deps: Pick<Deps, 'db'>, actor: Claims, id: string, target: string): Promise<void> {
  await withClaims(deps.db, actor, (tx) =>
    editDocument(
      tx,
      actor,
      id,
      async (row, current) => {
        const index = current.overrides.findLastIndex((o) => overrideId(o) === target);
        if (index < 0) throw notFound('Override');
        await requireScheduleEditor(tx, actor, row.organization_id, [current.overrides[index]!.user]);
        return { ...row.document, overrides: rawOverrides(row.document).filter((_, i) => i !== index) };
      },
      (path) => `schedule.${path}`,
    ),
  );
}
