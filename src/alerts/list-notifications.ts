import { toIso as iso } from '../core/time.ts';
import type { Deps } from '../core/deps.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { resolveOptionalProject } from '../orgs/lookup.ts';
import { microsParam, openPage } from '../http/page-cursor.ts';
import type { NotificationsQuery } from './schemas.ts';

/** The notification log's columns users may read (not its lease: that is the dispatcher's). */
export const NOTIFICATION_COLUMNS = `id, project_id, contact_point_id, receiver, group_key, seq, status, firing_count, resolved_count, attempts,
  next_attempt_at, last_status, last_error, sent_at, created_at, (extract(epoch from created_at) * 1000000)::int8::text as us`;

export interface NotificationRow {
  id: string;
  project_id: string;
  contact_point_id: string;
  receiver: string;
  group_key: string;
  seq: number;
  status: 'pending' | 'sending' | 'sent' | 'failed' | 'dropped';
  firing_count: number;
  resolved_count: number;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  sent_at: Date | null;
  created_at: Date;
  us: string;
}


export const toNotificationView = (r: NotificationRow) => ({
  id: r.id,
  projectId: r.project_id,
  contactPointId: r.contact_point_id,
  receiver: r.receiver,
  groupKey: r.group_key,
  seq: r.seq,
  status: r.status,
  firingCount: r.firing_count,
  resolvedCount: r.resolved_count,
  attempts: r.attempts,
  nextAttemptAt: iso(r.next_attempt_at),
  lastStatus: r.last_status,
  lastError: r.last_error,
  sentAt: iso(r.sent_at),
  createdAt: iso(r.created_at),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The notification log, newest first, in keyset pages; failed notifications are how permanent failures show. */
export async function listNotifications(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: NotificationsQuery) {
  const { cursor, limit, ...filter } = q;
  const page = await openPage(deps.db, 'alerts.notifications', { ...filter, keyProjectId }, cursor, UUID);
  const rows = await withClaims(
    deps.db,
    actor,
    async (tx) => {
      const projectId = await resolveOptionalProject(tx, q.projectId, keyProjectId);
      const params: unknown[] = [projectId, q.status ?? null, q.contactPointId ?? null, limit + 1];
      let after = '';
      if (page.after) {
        params.push(page.after.us, page.after.id);
        after = `and (created_at, id) < (${microsParam('$5')}, $6::uuid)`;
      }
      return tx.query<NotificationRow>(
        `select ${NOTIFICATION_COLUMNS} from public.alert_notifications
         where ($1::uuid is null or project_id = $1) and ($2::text is null or status = $2) and ($3::uuid is null or contact_point_id = $3) ${after}
         order by created_at desc, id desc limit $4`,
        params,
      );
    },
    INTERACTIVE_READ,
  );
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  return { notifications: shown.map(toNotificationView), nextCursor: page.next(more ? shown[shown.length - 1] : undefined) };
}
