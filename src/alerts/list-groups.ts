import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveOptionalProject } from '../orgs/lookup.ts';
import type { GroupRow } from './dispatch-store.ts';

/** At most this many groups are listed, the most recently started first. */
const MAX_GROUPS = 1000;

/**
 * The dispatcher's notification groups (Alertmanager's aggregation groups): which route and receiver,
 * when the next notification is due, what was last notified as firing.
 */
export async function listGroups(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, query: { projectId?: string | undefined }) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveOptionalProject(tx, query.projectId, keyProjectId);
    return tx.query<GroupRow>(
      `select id, project_id, group_key, route_id, receiver, group_labels, first_seen_at, next_flush_at, last_notified_at, notified_firing, seq
       from public.alert_groups where ($1::uuid is null or project_id = $1) order by first_seen_at desc, id limit $2`,
      [projectId, MAX_GROUPS],
    );
  });
  return rows.map((r) => ({
    groupKey: r.group_key,
    projectId: r.project_id,
    routeId: r.route_id,
    receiver: r.receiver,
    groupLabels: r.group_labels,
    firstSeenAt: new Date(r.first_seen_at).toISOString(),
    nextFlushAt: new Date(r.next_flush_at).toISOString(),
    lastNotifiedAt: r.last_notified_at === null ? null : new Date(r.last_notified_at).toISOString(),
    notifiedFiring: r.notified_firing,
    seq: r.seq,
  }));
}
