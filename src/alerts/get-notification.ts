import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { NOTIFICATION_COLUMNS, type NotificationRow, toNotificationView } from './list-notifications.ts';
import type { Notification } from './model.ts';

interface AttemptRow {
  attempt: number;
  started_at: Date;
  duration_ms: number;
  ok: boolean;
  status_code: number | null;
  error: string | null;
}

/** One notification with what was sent (its payload) and every delivery attempt, oldest first. */
export async function getNotification(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  return withClaims(deps.db, actor, async (tx) => {
    const [row] = await tx.query<NotificationRow & { payload: Notification }>(`select ${NOTIFICATION_COLUMNS}, payload from public.alert_notifications where id = $1`, [id]);
    if (!row) throw notFound('Notification');
    const attempts = await tx.query<AttemptRow>(
      `select attempt, started_at, duration_ms, ok, status_code, error from public.alert_notification_attempts
       where notification_id = $1 order by attempt, id`,
      [id],
    );
    return {
      ...toNotificationView(row),
      payload: row.payload,
      attemptLog: attempts.map((a) => ({
        attempt: a.attempt,
        startedAt: new Date(a.started_at).toISOString(),
        durationMs: a.duration_ms,
        ok: a.ok,
        statusCode: a.status_code,
        error: a.error,
      })),
    };
  });
}
