import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { findDashboard, findEditableDashboard } from './dashboard-store.ts';
import { DASHBOARD_COLUMNS, type DashboardRow, dashboardValues, toDashboardView } from './dashboard-views.ts';
import type { ReplaceDashboard } from './schemas.ts';

const stale = (current: number, sent: number) =>
  new AppError('CONFLICT', `The dashboard changed since version ${sent} was read (it is at version ${current}); read it again and reapply the change`, {
    details: [{ field: 'body.version', message: `is ${sent}, the dashboard is at version ${current}` }],
  });

/**
 * Replaces a dashboard's content and visibility, if it is still at the version the caller read
 * (optimistic concurrency: a stale version is a 409 and nothing is written). The version goes up by
 * one (a trigger); audited by trigger. Only the creator may make it private (the update policy).
 */
export async function replaceDashboard(deps: Pick<Deps, 'db'>, actor: Claims, id: string, input: ReplaceDashboard) {
  const values = dashboardValues(input, input.visibility, 'body.panels');
  const row = await withClaims(deps.db, actor, async (tx: Queryable) => {
    const current = await findEditableDashboard(tx, id, 'change');
    if (current.version !== input.version) throw stale(current.version, input.version);
    if (input.visibility === 'private' && current.visibility !== 'private' && current.created_by !== actor.sub) {
      throw new AppError('FORBIDDEN', 'Only its creator can make a dashboard private');
    }
    // `version = $2` again: a concurrent replace between the read and this write leaves no row to update.
    const [updated] = await tx.query<DashboardRow>(
      `update public.dashboards set title = $3, description = $4, panels = $5::text::jsonb, variables = $6::text::jsonb, time_range = $7::text::jsonb,
         visibility = $8
       where id = $1 and version = $2
       returning ${DASHBOARD_COLUMNS}`,
      [id, input.version, ...values],
    );
    if (!updated) throw stale((await findDashboard(tx, id)).version, input.version);
    return updated;
  });
  return toDashboardView(row);
}
