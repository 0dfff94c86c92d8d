import type { Deps } from '../core/deps.ts';
import { AppError, forbidden, notFound } from '../core/errors.ts';
import { asServiceRole, type Claims, withClaims } from '../db/scoped.ts';
import { NOTIFICATION_COLUMNS, type NotificationRow, toNotificationView } from './list-notifications.ts';

/**
 * Sends a failed notification again: back to pending, due now, its attempts kept (the log shows every
 * try). The notification log is the dispatcher's, so users hold no UPDATE grant on it: the caller's
 * claims decide (the row must be visible to them under RLS, and its project among those they may
 * change, by the function the write policies use), then the service role makes this one change, only
 * from 'failed'.
 */
export async function retryNotification(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  await withClaims(deps.db, actor, async (tx) => {
    const [row] = await tx.query<{ status: string; may_write: boolean }>(
      `select status, project_id in (select private.writable_project_ids()) as may_write from public.alert_notifications where id = $1`,
      [id],
    );
    if (!row) throw notFound('Notification');
    if (!row.may_write) throw forbidden('Only owners, admins and members assigned to the project can retry its notifications');
    if (row.status !== 'failed') throw new AppError('CONFLICT', `Only a failed notification can be retried; this one is ${row.status}`);
  });
  const [updated] = await asServiceRole(deps.db, (tx) =>
    tx.query<NotificationRow>(
      `update public.alert_notifications set status = 'pending', next_attempt_at = now(), lease_until = null
       where id = $1 and status = 'failed' returning ${NOTIFICATION_COLUMNS}`,
      [id],
    ),
  );
  // Another retry got there between the check and the update.
  if (!updated) throw new AppError('CONFLICT', 'Only a failed notification can be retried; this one was retried meanwhile');
  return toNotificationView(updated);
}
