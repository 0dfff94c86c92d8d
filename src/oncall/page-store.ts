/**
 * The escalation job's SQL (src/oncall/escalate-incidents.ts decides; this reads and writes), in
 * the caller's transaction as the service role. Batch statements throughout: one tick over 10,000
 * due incidents is a handful of statements, not 10,000 (bench:oncall measures it).
 */
import type { Notification } from '../alerts/model.ts';
import type { Queryable } from '../db/types.ts';
import type { EscalationTarget, Page } from './escalation.ts';
import type { IncidentStep, TimelineEntry } from './incidents.ts';
import { EMPTY_RATE_STATE, type NotificationRules, type RateState } from './notification-rules.ts';
import type { Carrier, Carriers } from './page-plan.ts';
import { INCIDENT_COLUMNS, type IncidentRow } from './views.ts';

const ts = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A service's carriers (alias `s`), as `<kind>_via` columns: the contact point's id, name and kind, or null. */
const CARRIER_KINDS = ['email', 'slack', 'sms', 'voice', 'webhook'] as const satisfies ReadonlyArray<keyof Carriers>;
const CARRIER_COLUMNS = CARRIER_KINDS.map(
  (k) => `case when c_${k}.id is null then null else jsonb_build_object('id', c_${k}.id, 'name', c_${k}.name, 'kind', c_${k}.kind) end as ${k}_via`,
).join(', ');
const CARRIER_JOINS = CARRIER_KINDS.map((k) => `left join public.contact_points c_${k} on c_${k}.id = s.page_${k}_via`).join(' ');

/** The carriers of a row that selected CARRIER_COLUMNS. */
export function carriersOf(r: Record<`${keyof Carriers}_via`, Carrier | null>): Carriers {
  return { email: r.email_via, slack: r.slack_via, sms: r.sms_via, voice: r.voice_via, webhook: r.webhook_via };
}

/** Incidents whose timers are due (a page, an ack expiry), oldest first, locked: a second runner skips them. */
export async function claimDueIncidents(tx: Queryable, now: number, limit: number): Promise<IncidentRow[]> {
  return tx.query<IncidentRow>(
    `select ${INCIDENT_COLUMNS} from public.incidents
     where next_wake_at <= to_timestamp($1::float8 / 1000.0) and state <> 'resolved' and next_wake_at is not null
     order by next_wake_at limit $2 for update skip locked`,
    [now, limit],
  );
}

export interface Reach {
  /** `${organizationId}/${userId}` of every member of the incidents' organizations named by a target. */
  members: Set<string>;
  /** Contact points by id, with their project (a policy may only page its incident's project's). */
  contactPoints: Map<string, { projectId: string; name: string; kind: string }>;
  /** Project names, for notification titles. */
  projects: Map<string, string>;
  /** Services: their names and the contact points that carry pages to people. */
  services: Map<string, { name: string; carriers: Carriers }>;
  /** The people a target may page (members only): their notification rules and account address. */
  people: Map<string, { rules: NotificationRules | null; email: string | null }>;
}

/** What the targets of these incidents' policies resolve to (and whether the people on call are members), read once for the whole batch. */
export async function loadReach(tx: Queryable, rows: readonly IncidentRow[], onCall: readonly string[] = []): Promise<Reach> {
  const users = new Set<string>(onCall);
  const contactPoints = new Set<string>();
  for (const r of rows) {
    for (const level of r.policy?.levels ?? []) {
      for (const t of level.targets) {
        if (t.type === 'user') users.add(t.id);
        else if (t.type === 'contact_point') contactPoints.add(t.id);
      }
    }
  }
  const orgs = [...new Set(rows.map((r) => r.organization_id))];
  const [members, cps, projects, services] = await Promise.all([
    users.size === 0
      ? Promise.resolve([])
      : tx.query<{ organization_id: string; user_id: string; document: NotificationRules | null; email: string | null }>(
          `select m.organization_id, m.user_id, r.document, pf.email
           from public.organization_members m
           left join public.oncall_notification_rules r on r.user_id = m.user_id
           left join public.profiles pf on pf.id = m.user_id
           where m.organization_id = any($1::uuid[]) and m.user_id::text = any($2::text[])`,
          [orgs, [...users]],
        ),
    contactPoints.size === 0
      ? Promise.resolve([])
      : tx.query<{ id: string; project_id: string; name: string; kind: string }>(
          `select id, project_id, name, kind from public.contact_points where id::text = any($1::text[])`,
          [[...contactPoints]],
        ),
    tx.query<{ id: string; name: string }>('select id, name from public.projects where id = any($1::uuid[])', [[...new Set(rows.map((r) => r.project_id))]]),
    tx.query<{ id: string; name: string } & Record<`${keyof Carriers}_via`, Carrier | null>>(
      `select s.id, s.name, ${CARRIER_COLUMNS}
       from public.oncall_services s ${CARRIER_JOINS}
       where s.id = any($1::uuid[])`,
      [[...new Set(rows.map((r) => r.service_id))]],
    ),
  ]);
  return {
    members: new Set(members.map((m) => `${m.organization_id}/${m.user_id}`)),
    contactPoints: new Map(cps.map((c) => [c.id, { projectId: c.project_id, name: c.name, kind: c.kind }])),
    projects: new Map(projects.map((p) => [p.id, p.name])),
    services: new Map(services.map((s) => [s.id, { name: s.name, carriers: carriersOf(s) }])),
    people: new Map(members.map((m) => [m.user_id, { rules: m.document, email: m.email }])),
  };
}

/** The schedule ids the incidents' policies name. */
export function scheduleIdsOf(rows: readonly IncidentRow[]): string[] {
  const ids = new Set<string>();
  for (const r of rows) for (const level of r.policy?.levels ?? []) for (const t of level.targets) if (t.type === 'schedule') ids.add(t.id);
  return [...ids];
}

export interface TickWrite {
  row: IncidentRow;
  step: IncidentStep;
}

export interface PageNotificationRow {
  id: string;
  projectId: string;
  organizationId: string;
  incidentId: string;
  contactPointId: string;
  groupKey: string;
  receiver: string;
  payload: Notification;
  recipient: Record<string, unknown> | null;
  at: number;
}

/** Where a person's new page stands with their rules: the rule keys done at once, and when the next is due. */
export interface PersonPagePlan {
  done: string[];
  nextAt: number | null;
}

/** A timeline row to append (appendTimelines). */
export type TimelineItem = { row: Pick<IncidentRow, 'id' | 'organization_id' | 'project_id'>; entry: TimelineEntry | RecordedEntry };

/**
 * Writes the ticks whose incident is still at the version they were computed from: state, version,
 * escalation and wake-up; then, for those written, the pages of people (with the rules `plan` says
 * are done at once, and when the next is due) and the pages' notifications to contact points (made
 * by `notify` from the pages written). Returns the ids written, the people's pages inserted (a page
 * exists once: one already there is not returned) and the steps' timeline, for the caller to append
 * with its own in one statement.
 */
export async function writeTicks(
  tx: Queryable,
  ticks: readonly TickWrite[],
  hooks: {
    notify: (written: ReadonlyArray<{ row: IncidentRow; page: Page }>) => PageNotificationRow[];
    plan?: (row: IncidentRow, page: Page) => PersonPagePlan;
  },
): Promise<{ written: Set<string>; pages: number; notifications: number; people: Array<{ row: IncidentRow; page: Page }>; timeline: TimelineItem[] }> {
  if (ticks.length === 0) return { written: new Set(), pages: 0, notifications: 0, people: [], timeline: [] };
  const updated = await tx.query<{ id: string }>(
    `update public.incidents i set state = x.state, version = x.version, escalation = x.escalation, next_wake_at = x.next_wake_at,
       snoozed_until = x.snoozed_until, acknowledged_at = x.acknowledged_at, acknowledged_by = x.acknowledged_by,
       resolve_notice = i.resolve_notice or x.notice
     from jsonb_to_recordset($1::text::jsonb) as x(id uuid, based integer, state text, version integer, escalation jsonb,
       next_wake_at timestamptz, snoozed_until timestamptz, acknowledged_at timestamptz, acknowledged_by text, notice boolean)
     where i.id = x.id and i.version = x.based
     returning i.id`,
    [
      JSON.stringify(
        ticks.map(({ row, step }) => ({
          id: row.id,
          based: step.basedOnVersion,
          state: step.incident.status,
          version: step.incident.version,
          escalation: step.incident.escalation,
          next_wake_at: ts(step.wakeAt),
          snoozed_until: ts(step.incident.snoozedUntil),
          acknowledged_at: ts(step.incident.acknowledgedAt),
          acknowledged_by: step.incident.acknowledgedBy,
          // It pages a contact point: the contact points paged are told when it resolves.
          notice: step.effects.some((e) => e.type === 'page' && e.page.recipient.type === 'contact_point'),
        })),
      ),
    ],
  );
  const written = new Set(updated.map((u) => u.id));
  const done = ticks.filter((t) => written.has(t.row.id));
  const timeline = done.flatMap(({ row, step }) => foldNotified(step.timeline).map((entry) => ({ row, entry })));
  const pages = done.flatMap(({ row, step }) => step.effects.flatMap((e) => (e.type === 'page' ? [{ row, page: e.page }] : [])));
  const people = pages.filter((p) => p.page.recipient.type === 'user');
  let peoplePaged: Array<{ row: IncidentRow; page: Page }> = [];
  if (people.length > 0) {
    const inserted = await tx.query<{ page_key: string }>(
      `insert into public.incident_pages (incident_id, organization_id, project_id, page_key, cycle, round, level, recipient_type, recipient_id,
         target, urgency, paged_at, rules_done, next_rule_at)
       select x.incident_id, x.organization_id, x.project_id, x.page_key, x.cycle, x.round, x.level, 'user', x.recipient_id,
         x.target, x.urgency, x.paged_at, x.rules_done, x.next_rule_at
       from jsonb_to_recordset($1::text::jsonb) as x(incident_id uuid, organization_id uuid, project_id uuid, page_key text, cycle integer,
         round integer, level integer, recipient_id text, target jsonb, urgency text, paged_at timestamptz, rules_done text[], next_rule_at timestamptz)
       on conflict (page_key) do nothing
       returning page_key`,
      [
        JSON.stringify(
          people.map(({ row, page }) => {
            // Without a plan the page's rules are the people's pass's, from the page's time.
            const plan = hooks.plan?.(row, page) ?? { done: [], nextAt: page.at };
            return {
              incident_id: row.id,
              organization_id: row.organization_id,
              project_id: row.project_id,
              page_key: page.key,
              cycle: page.cycle,
              round: page.round,
              level: page.level,
              recipient_id: page.recipient.id,
              target: page.target satisfies EscalationTarget,
              urgency: page.urgency,
              paged_at: ts(page.at),
              rules_done: plan.done,
              next_rule_at: ts(plan.nextAt),
            };
          }),
        ),
      ],
    );
    const keys = new Set(inserted.map((r) => r.page_key));
    peoplePaged = people.filter((p) => keys.has(p.page.key));
  }
  // A contact point's page is its notification: the log's unique key (`page:<page key>`) makes it once.
  const notifications = await insertNotifications(tx, hooks.notify(pages.filter((p) => p.page.recipient.type === 'contact_point')));
  return { written, pages: peoplePaged.length + notifications, notifications, people: peoplePaged, timeline };
}

/**
 * One row per level paged: the core's `notified` entries (whom a level paged, by which channel) are
 * stored in their `escalated` entry as `notified: [{ recipient, channel, urgency }]`, so a storm
 * writes one timeline row per level instead of one per recipient more (bench:oncall).
 */
export function foldNotified(entries: readonly TimelineEntry[]): Array<TimelineEntry | RecordedEntry> {
  const out: Array<TimelineEntry | RecordedEntry> = [];
  const levels = new Map<string, { notified: unknown[] }>();
  for (const e of entries) {
    if (e.kind === 'escalated') {
      const folded = { ...e, notified: [] as unknown[] };
      levels.set(`${e.cycle}/${e.round}/${e.level}`, folded);
      out.push(folded);
    } else if (e.kind === 'notified') {
      const level = levels.get(`${e.cycle}/${e.round}/${e.level}`);
      if (level) level.notified.push({ recipient: e.recipient, channel: e.channel, urgency: e.urgency });
      else out.push(e);
    } else {
      out.push(e);
    }
  }
  return out;
}

/** Timeline rows for many incidents in one statement. */
export async function appendTimelines(tx: Queryable, items: readonly TimelineItem[]): Promise<void> {
  if (items.length === 0) return;
  await tx.query(
    `insert into public.incident_timeline (incident_id, organization_id, project_id, at, kind, actor, details)
     select x.incident_id, x.organization_id, x.project_id, to_timestamp(x.at / 1000.0), x.kind, x.actor, x.details
     from jsonb_to_recordset($1::text::jsonb) as x(incident_id uuid, organization_id uuid, project_id uuid, at double precision, kind text,
       actor text, details jsonb)`,
    [
      JSON.stringify(
        items.map(({ row, entry }) => {
          const { kind, at, by, ...details } = entry;
          return { incident_id: row.id, organization_id: row.organization_id, project_id: row.project_id, at, kind, actor: by, details };
        }),
      ),
    ],
  );
}

/** A timeline entry the job records beside the core's (a person's notification made, or not). */
export type RecordedEntry = { kind: 'person_notified' | 'notify_failed' | 'notify_folded' | 'escalated'; at: number; by: null } & Record<string, unknown>;

/** Adds page notifications to the notification log, each once (its unique key); returns how many were new. */
export async function insertNotifications(tx: Queryable, rows: readonly PageNotificationRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await tx.query<{ id: string }>(
    `insert into public.alert_notifications (id, project_id, organization_id, contact_point_id, group_key, seq, receiver, payload,
       firing_count, resolved_count, status, next_attempt_at, created_at, recipient, incident_id)
     select x.id, x.project_id, x.organization_id, x.contact_point_id, x.group_key, 1, x.receiver, x.payload, 1, 0, 'pending',
       to_timestamp(x.at / 1000.0), to_timestamp(x.at / 1000.0), x.recipient, x.incident_id
     from jsonb_to_recordset($1::text::jsonb) as x(id uuid, project_id uuid, organization_id uuid, contact_point_id uuid, group_key text,
       receiver text, payload jsonb, recipient jsonb, incident_id uuid, at double precision)
     on conflict (contact_point_id, md5(group_key), seq) do nothing
     returning id`,
    [
      JSON.stringify(
        rows.map((r) => ({
          id: r.id,
          project_id: r.projectId,
          organization_id: r.organizationId,
          contact_point_id: r.contactPointId,
          group_key: r.groupKey,
          receiver: r.receiver,
          payload: r.payload,
          recipient: r.recipient,
          incident_id: r.incidentId,
          at: r.at,
        })),
      ),
    ],
  );
  return inserted.length;
}

// ------------------------------------------------------------------------------------ people

/** Pages of people whose incident is no longer triggered in the page's cycle: their later rules are off. */
export async function stopStalePersonPages(tx: Queryable, now: number): Promise<number> {
  const rows = await tx.query(
    `update public.incident_pages p set next_rule_at = null
     from public.incidents i
     where p.next_rule_at <= to_timestamp($1::float8 / 1000.0) and i.id = p.incident_id
       and (i.state <> 'triggered' or i.held or (i.escalation ->> 'cycle')::int <> p.cycle)
     returning p.id`,
    [now],
  );
  return rows.length;
}

export interface PersonPageRow {
  id: string;
  page_key: string;
  incident_id: string;
  organization_id: string;
  project_id: string;
  recipient_id: string;
  cycle: number;
  round: number;
  level: number;
  urgency: 'high' | 'low';
  paged_at: Date;
  rules_done: string[];
  title: string;
  severity: string | null;
  details: Record<string, unknown>;
  opened_at: Date;
  project_name: string;
  service_name: string;
  document: NotificationRules | null;
  email: string | null;
  email_via: Carrier | null;
  slack_via: Carrier | null;
  sms_via: Carrier | null;
  voice_via: Carrier | null;
  webhook_via: Carrier | null;
}

/** People's pages with a rule due, of incidents still triggered in the page's cycle, locked. */
export async function claimDuePersonPages(tx: Queryable, now: number, limit: number): Promise<PersonPageRow[]> {
  return tx.query<PersonPageRow>(
    `select p.id, p.page_key, p.incident_id, p.organization_id, p.project_id, p.recipient_id, p.cycle, p.round, p.level, p.urgency,
       p.paged_at, p.rules_done, i.title, i.severity, i.details, i.created_at as opened_at, pr.name as project_name, s.name as service_name,
       r.document, pf.email, ${CARRIER_COLUMNS}
     from public.incident_pages p
     join public.incidents i on i.id = p.incident_id
     join public.oncall_services s on s.id = i.service_id
     join public.projects pr on pr.id = i.project_id
     left join public.organization_members m on m.organization_id = p.organization_id and m.user_id::text = p.recipient_id
     left join public.oncall_notification_rules r on r.user_id = m.user_id
     left join public.profiles pf on pf.id = m.user_id
     ${CARRIER_JOINS}
     where p.recipient_type = 'user' and p.next_rule_at <= to_timestamp($1::float8 / 1000.0)
       and i.state = 'triggered' and not i.held and (i.escalation ->> 'cycle')::int = p.cycle
     order by p.next_rule_at limit $2
     for update of p skip locked`,
    [now, limit],
  );
}

/**
 * The cap states of these people, locked for this transaction: a row is made first for whoever has
 * none, so two transactions paging the same person (the job's step workers side by side) take turns
 * on it rather than both starting from an empty state. Rows are made and locked in id order: no
 * deadlock between transactions locking overlapping sets.
 */
export async function lockRateStates(tx: Queryable, userIds: readonly string[]): Promise<Map<string, RateState>> {
  if (userIds.length === 0) return new Map();
  await tx.query(
    `insert into private.oncall_rate_state (user_id, state)
     select p.id, $2::text::jsonb from public.profiles p where p.id::text = any($1::text[]) order by p.id
     on conflict (user_id) do nothing`,
    [userIds, JSON.stringify(EMPTY_RATE_STATE)],
  );
  const rows = await tx.query<{ user_id: string; state: RateState }>(
    `select user_id::text as user_id, state from private.oncall_rate_state where user_id::text = any($1::text[]) order by user_id for update`,
    [userIds],
  );
  return new Map(rows.map((r) => [r.user_id, r.state]));
}

export async function saveRateStates(tx: Queryable, states: ReadonlyMap<string, RateState>, now: number): Promise<void> {
  if (states.size === 0) return;
  await tx.query(
    `insert into private.oncall_rate_state (user_id, state, updated_at)
     select x.user_id, x.state, to_timestamp($2::float8 / 1000.0) from jsonb_to_recordset($1::text::jsonb) as x(user_id uuid, state jsonb)
     join public.profiles p on p.id = x.user_id
     on conflict (user_id) do update set state = excluded.state, updated_at = excluded.updated_at`,
    [JSON.stringify([...states].map(([user_id, state]) => ({ user_id, state }))), now],
  );
}

/** Marks rules done on pages and sets when each page's next rule is due. */
export async function advancePersonPages(tx: Queryable, updates: ReadonlyArray<{ id: string; done: string[]; nextAt: number | null }>): Promise<void> {
  if (updates.length === 0) return;
  await tx.query(
    `update public.incident_pages p set rules_done = p.rules_done || x.done, next_rule_at = x.next_at
     from jsonb_to_recordset($1::text::jsonb) as x(id uuid, done text[], next_at timestamptz)
     where p.id = x.id`,
    [JSON.stringify(updates.map((u) => ({ id: u.id, done: u.done, next_at: ts(u.nextAt) })))],
  );
}

// ------------------------------------------------------------------------------------ resolutions

export interface ResolvedPageRow {
  incident_id: string;
  organization_id: string;
  project_id: string;
  contact_point_id: string;
  contact_point_name: string;
  send_resolved: boolean;
  title: string;
  severity: string | null;
  urgency: 'high' | 'low';
  details: Record<string, unknown>;
  opened_at: Date;
  resolved_at: Date;
  project_name: string;
  service_name: string;
}

/**
 * The contact points paged for incidents that are now resolved and not yet told (a contact point's
 * page is its notification with no person's recipient): each (incident, contact point) once, the
 * incident marked told in the same statement (the caller's transaction adds the notices).
 */
export async function takeResolvedPages(tx: Queryable, limit: number): Promise<ResolvedPageRow[]> {
  return tx.query<ResolvedPageRow>(
    `with due as (
       select id from public.incidents where resolve_notice and state = 'resolved' order by resolved_at limit $1 for update skip locked),
     told as (
       update public.incidents i set resolve_notice = false from due where i.id = due.id returning i.id)
     select distinct on (i.id, cp.id) i.id as incident_id, i.organization_id, i.project_id, cp.id as contact_point_id,
       cp.name as contact_point_name, cp.send_resolved, i.title, i.severity, i.urgency, i.details, i.created_at as opened_at, i.resolved_at,
       pr.name as project_name, s.name as service_name
     from told t
     join public.incidents i on i.id = t.id
     join public.alert_notifications n on n.incident_id = i.id and n.group_key like 'page:%' and n.recipient is null
     join public.contact_points cp on cp.id = n.contact_point_id
     join public.projects pr on pr.id = i.project_id
     join public.oncall_services s on s.id = i.service_id`,
    [limit],
  );
}
