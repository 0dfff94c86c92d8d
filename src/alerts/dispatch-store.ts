import { toMs as ms } from '../core/time.ts';
import type { Queryable } from '../db/types.ts';
import type { GroupState } from './grouping.ts';
import type { Labels, Notification, Severity } from './model.ts';

/**
 * The SQL of the dispatcher: what a project's notification state is (policy, alerts that may notify,
 * silences, groups, contact points), and writing its groups and new notifications in one transaction.
 * The decisions are grouping.ts's; the notifications this creates are sent by deliver-notifications.ts.
 */

export interface DispatchAlert {
  fingerprint: string;
  ruleId: string | null;
  labels: Labels;
  annotations: Labels;
  state: 'firing' | 'resolved';
  severity: Severity;
  value: number | null;
  activeAt: number;
  firedAt: number | null;
  resolvedAt: number | null;
  generatorUrl: string | null;
}

export interface StoredGroup extends GroupState {
  id: string;
  groupKey: string;
  routeId: string;
  receiver: string;
  groupLabels: Labels;
}

export interface DispatchContactPoint {
  id: string;
  name: string;
  kind: string;
  sendResolved: boolean;
  maxAlerts: number | null;
}

export interface ProjectState {
  organizationId: string;
  projectName: string;
  policy: unknown | null;
  alerts: DispatchAlert[];
  silences: Array<{ id: string; matchers: unknown; startsAt: number; endsAt: number }>;
  groups: StoredGroup[];
  contactPoints: DispatchContactPoint[];
  /** Notifications created for each contact point in the last minute. */
  recentByContactPoint: Map<string, number>;
}

/** An alert_groups row, as the dispatcher and the API read it. */
export interface GroupRow {
  id: string;
  project_id: string;
  group_key: string;
  route_id: string;
  receiver: string;
  group_labels: Labels;
  first_seen_at: Date;
  next_flush_at: Date;
  last_notified_at: Date | null;
  notified_firing: string[];
  seq: number;
}


/** Projects with something to dispatch: alerts that fired (or resolved) or groups still open. */
export async function projectsToDispatch(tx: Queryable): Promise<string[]> {
  const rows = await tx.query<{ project_id: string }>(
    `select project_id from public.alert_instances where state in ('firing', 'resolved') and fired_at is not null
     union select project_id from public.alert_groups`,
  );
  return rows.map((r) => r.project_id).sort();
}

/** A project's dispatch state; its groups are locked until the transaction ends. */
export async function loadProjectState(tx: Queryable, projectId: string, now: number): Promise<ProjectState | null> {
  const [project] = await tx.query<{ organization_id: string; name: string; document: unknown | null }>(
    `select p.organization_id, p.name, np.document from public.projects p
     left join public.notification_policies np on np.project_id = p.id where p.id = $1`,
    [projectId],
  );
  if (!project) return null;
  const [alerts, silences, groups, contactPoints] = [
    await tx.query<{
      fingerprint: string;
      rule_id: string | null;
      labels: Labels;
      annotations: Labels;
      state: 'firing' | 'resolved';
      severity: Severity;
      value: number | null;
      active_at: Date;
      fired_at: Date | null;
      resolved_at: Date | null;
      generator_url: string | null;
    }>(
      // Only alerts that fired: a pending one never notifies, nor does a resolved one that never fired.
      `select fingerprint, rule_id, labels, annotations, state, severity, value, active_at, fired_at, resolved_at, generator_url
       from public.alert_instances where project_id = $1 and state in ('firing', 'resolved') and fired_at is not null`,
      [projectId],
    ),
    await tx.query<{ id: string; matchers: unknown; starts_at: Date; ends_at: Date }>(
      `select id, matchers, starts_at, ends_at from public.alert_silences
       where project_id = $1 and starts_at <= to_timestamp($2::float8 / 1000.0) and ends_at > to_timestamp($2::float8 / 1000.0)`,
      [projectId, now],
    ),
    await tx.query<GroupRow>(
      `select id, project_id, group_key, route_id, receiver, group_labels, first_seen_at, next_flush_at, last_notified_at, notified_firing, seq
       from public.alert_groups where project_id = $1 for update`,
      [projectId],
    ),
    await tx.query<{ id: string; name: string; kind: string; send_resolved: boolean; settings: { maxAlerts?: number } }>(
      `select id, name, kind, send_resolved, settings from public.contact_points where project_id = $1 and disabled_at is null order by id`,
      [projectId],
    ),
  ];
  const recent = await tx.query<{ contact_point_id: string; n: number }>(
    `select contact_point_id, count(*)::int as n from public.alert_notifications
     where project_id = $1 and created_at > to_timestamp(($2::float8 - 60000) / 1000.0)
     group by contact_point_id`,
    [projectId, now],
  );
  return {
    organizationId: project.organization_id,
    projectName: project.name,
    policy: project.document,
    alerts: alerts.map((a) => ({
      fingerprint: a.fingerprint,
      ruleId: a.rule_id,
      labels: a.labels,
      annotations: a.annotations,
      state: a.state,
      severity: a.severity,
      value: a.value === null ? null : Number(a.value),
      activeAt: ms(a.active_at)!,
      firedAt: ms(a.fired_at),
      resolvedAt: ms(a.resolved_at),
      generatorUrl: a.generator_url,
    })),
    silences: silences.map((s) => ({ id: s.id, matchers: s.matchers, startsAt: ms(s.starts_at)!, endsAt: ms(s.ends_at)! })),
    groups: groups.map((g) => ({
      id: g.id,
      groupKey: g.group_key,
      routeId: g.route_id,
      receiver: g.receiver,
      groupLabels: g.group_labels,
      firstSeenAt: ms(g.first_seen_at)!,
      nextFlushAt: ms(g.next_flush_at)!,
      lastNotifiedAt: ms(g.last_notified_at),
      notifiedFiring: g.notified_firing,
      seq: g.seq,
    })),
    contactPoints: contactPoints.map((c) => ({
      id: c.id,
      name: c.name,
      kind: c.kind,
      sendResolved: c.send_resolved,
      maxAlerts: typeof c.settings?.maxAlerts === 'number' && c.settings.maxAlerts > 0 ? c.settings.maxAlerts : null,
    })),
    recentByContactPoint: new Map(recent.map((r) => [r.contact_point_id, r.n])),
  };
}

export interface GroupWrite extends GroupState {
  /** The stored row's id when the group exists (updated by id), absent for a new group (inserted). */
  id?: string;
  groupKey: string;
  routeId: string;
  receiver: string;
  groupLabels: Labels;
}

export interface NotificationWrite {
  contactPointId: string;
  seq: number;
  payload: Notification;
  /**
   * Held back during a storm: not written and never sent. Its alerts travel in the contact point's
   * storm summary, whose `folded` counts it; its group goes on as though it had been told.
   */
  folded?: boolean;
}

const groupColumns = (g: GroupWrite) => ({
  id: g.id,
  group_key: g.groupKey,
  route_id: g.routeId,
  receiver: g.receiver,
  group_labels: g.groupLabels,
  first_seen_at: g.firstSeenAt,
  next_flush_at: g.nextFlushAt,
  last_notified_at: g.lastNotifiedAt,
  notified_firing: g.notifiedFiring,
  seq: g.seq,
});

const GROUP_RECORD = `x(id uuid, group_key text, route_id text, receiver text, group_labels jsonb, first_seen_at float8,
  next_flush_at float8, last_notified_at float8, notified_firing jsonb, seq int)`;

/**
 * Writes a project's groups (existing ones updated by id, new ones inserted; the ones that ended
 * deleted) and the notifications their flushes made, folded ones left out. A notification's
 * (contact point, group key, seq) is unique: a flush recorded twice (two dispatchers, a retried
 * transaction) creates it once.
 */
export async function saveDispatch(
  tx: Queryable,
  owner: { projectId: string; organizationId: string },
  groups: GroupWrite[],
  ended: string[],
  notifications: NotificationWrite[],
): Promise<number> {
  const known = groups.filter((g) => g.id !== undefined).map(groupColumns);
  const fresh = groups.filter((g) => g.id === undefined).map(groupColumns);
  if (known.length > 0) {
    // By primary key: a storm's flush changes thousands of groups at once (bench:alerts, 10,000).
    await tx.query(
      `update public.alert_groups g set route_id = x.route_id, receiver = x.receiver, group_labels = x.group_labels,
         next_flush_at = to_timestamp(x.next_flush_at / 1000.0),
         last_notified_at = case when x.last_notified_at is null then null else to_timestamp(x.last_notified_at / 1000.0) end,
         notified_firing = array(select jsonb_array_elements_text(x.notified_firing)), seq = x.seq
       from jsonb_to_recordset($2::text::jsonb) as ${GROUP_RECORD}
       where g.id = x.id and g.project_id = $1`,
      [owner.projectId, JSON.stringify(known)],
    );
  }
  if (fresh.length > 0) {
    // The dispatcher's job lock makes a conflict rare; if another writer made the group meanwhile,
    // this step's view of it wins, as an update would.
    await tx.query(
      `insert into public.alert_groups (project_id, organization_id, group_key, route_id, receiver, group_labels, first_seen_at,
         next_flush_at, last_notified_at, notified_firing, seq)
       select $1, $2, x.group_key, x.route_id, x.receiver, x.group_labels, to_timestamp(x.first_seen_at / 1000.0),
         to_timestamp(x.next_flush_at / 1000.0),
         case when x.last_notified_at is null then null else to_timestamp(x.last_notified_at / 1000.0) end,
         array(select jsonb_array_elements_text(x.notified_firing)), x.seq
       from jsonb_to_recordset($3::text::jsonb) as ${GROUP_RECORD}
       on conflict (project_id, md5(group_key)) do update set
         route_id = excluded.route_id, receiver = excluded.receiver, group_labels = excluded.group_labels,
         next_flush_at = excluded.next_flush_at, last_notified_at = excluded.last_notified_at,
         notified_firing = excluded.notified_firing, seq = excluded.seq`,
      [owner.projectId, owner.organizationId, JSON.stringify(fresh)],
    );
  }
  if (ended.length > 0) {
    await tx.query(`delete from public.alert_groups where project_id = $1 and group_key = any($2::text[])`, [owner.projectId, ended]);
  }
  const told = notifications.filter((n) => !n.folded);
  if (told.length === 0) return 0;
  const rows = told.map((n) => ({
    id: n.payload.id,
    payload: n.payload,
    contact_point_id: n.contactPointId,
    group_key: n.payload.groupKey,
    seq: n.seq,
    receiver: n.payload.receiver,
    firing_count: n.payload.alerts.filter((a) => a.status === 'firing').length,
    resolved_count: n.payload.alerts.filter((a) => a.status === 'resolved').length,
  }));
  const inserted = await tx.query<{ id: string }>(
    `insert into public.alert_notifications (id, project_id, organization_id, contact_point_id, group_key, seq, receiver, payload,
       firing_count, resolved_count, status, next_attempt_at, created_at)
     select x.id, $1, $2, x.contact_point_id, x.group_key, x.seq, x.receiver, x.payload, x.firing_count, x.resolved_count, 'pending',
       to_timestamp($4::float8 / 1000.0), to_timestamp($4::float8 / 1000.0)
     from jsonb_to_recordset($3::text::jsonb) as x(id uuid, contact_point_id uuid, group_key text, seq int, receiver text,
       payload jsonb, firing_count int, resolved_count int)
     on conflict (contact_point_id, md5(group_key), seq) do nothing
     returning id`,
    [owner.projectId, owner.organizationId, JSON.stringify(rows), Date.parse(told[0]!.payload.createdAt)],
  );
  return inserted.length;
}

/** The last notification sequence each group key used in the notification log (for groups that start again). */
export async function lastSequences(tx: Queryable, projectId: string, groupKeys: string[]): Promise<Map<string, number>> {
  if (groupKeys.length === 0) return new Map();
  const rows = await tx.query<{ group_key: string; seq: number }>(
    `select group_key, max(seq)::int as seq from public.alert_notifications
     where project_id = $1 and md5(group_key) = any(array(select md5(k) from unnest($2::text[]) k)) and group_key = any($2::text[])
     group by group_key`,
    [projectId, groupKeys],
  );
  return new Map(rows.map((r) => [r.group_key, r.seq]));
}

/** True when no enabled rule, alert, group or unsent notification exists in any project. */
export async function nothingToDispatch(tx: Queryable): Promise<boolean> {
  const [row] = await tx.query<{ idle: boolean }>(
    `select not (exists (select 1 from public.alert_rules where enabled) or exists (select 1 from public.alert_instances)
      or exists (select 1 from public.alert_groups)
      or exists (select 1 from public.alert_notifications where status in ('pending', 'sending'))) as idle`,
  );
  return row?.idle ?? false;
}
