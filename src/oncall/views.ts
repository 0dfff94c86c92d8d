/**
 * What the oncall verbs share: the rows users may read and their views (never the routing key's
 * hash), the fetch-or-404 lookups under the caller's claims, the incident row as the core's
 * Incident and back, and the one write path of an incident step (state + version + timeline in the
 * caller's transaction, compare-and-set on version).
 */
import { forbidden, notFound } from '../core/errors.ts';
import { toIso as iso } from '../core/time.ts';
import type { Claims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import type { EscalationPolicy, EscalationState, Urgency } from './escalation.ts';
import { type Incident, type IncidentStep, isCurrent, type TimelineEntry } from './incidents.ts';

// ------------------------------------------------------------------------------------ services
export const SERVICE_COLUMNS =
  'id, organization_id, project_id, name, escalation_policy_id, urgency, reopen_window_seconds, page_email_via, page_slack_via, page_sms_via, page_voice_via, page_webhook_via, created_by, created_at, updated_at';

export interface ServiceRow {
  id: string;
  organization_id: string;
  project_id: string;
  name: string;
  escalation_policy_id: string | null;
  urgency: 'high' | 'low' | 'severity';
  reopen_window_seconds: number;
  page_email_via: string | null;
  page_slack_via: string | null;
  page_sms_via: string | null;
  page_webhook_via: string | null;
  page_voice_via: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export const toServiceView = (r: ServiceRow) => ({
  id: r.id,
  organizationId: r.organization_id,
  projectId: r.project_id,
  name: r.name,
  escalationPolicyId: r.escalation_policy_id,
  urgency: r.urgency,
  reopenWindowSeconds: r.reopen_window_seconds,
  pageEmailVia: r.page_email_via,
  pageSlackVia: r.page_slack_via,
  pageSmsVia: r.page_sms_via,
  pageWebhookVia: r.page_webhook_via,
  pageVoiceVia: r.page_voice_via,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

/** A service the caller may read (RLS: readers of its project), or 404. */
export async function findService(tx: Queryable, id: string): Promise<ServiceRow> {
  const [row] = await tx.query<ServiceRow>(`select ${SERVICE_COLUMNS} from public.oncall_services where id = $1`, [id]);
  if (!row) throw notFound('Service');
  return row;
}

// ------------------------------------------------------------------------------------ policies
export const POLICY_COLUMNS = 'id, organization_id, name, document, created_by, created_at, updated_at';

export interface PolicyRow {
  id: string;
  organization_id: string;
  name: string;
  document: EscalationPolicy;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export const toPolicyView = (r: PolicyRow) => ({
  id: r.id,
  organizationId: r.organization_id,
  name: r.name,
  policy: r.document,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

/** A policy of an organization the caller belongs to (RLS), or 404. */
export async function findPolicy(tx: Queryable, id: string): Promise<PolicyRow> {
  const [row] = await tx.query<PolicyRow>(`select ${POLICY_COLUMNS} from public.escalation_policies where id = $1`, [id]);
  if (!row) throw notFound('Escalation policy');
  return row;
}

export const MANAGERS_ONLY = 'Only owners and admins can manage on-call services and escalation policies';

/** 403 unless the caller owns or administers the organization (which they can see: else 404 came first). */
export async function requireOrgManager(tx: Queryable, organizationId: string): Promise<void> {
  const [org] = await tx.query<{ may: boolean }>(
    `select id in (select private.org_ids_with_role(array['owner', 'admin'])) as may from public.organizations where id = $1`,
    [organizationId],
  );
  if (!org) throw notFound('Organization');
  if (!org.may) throw forbidden(MANAGERS_ONLY);
}

// ------------------------------------------------------------------------------------ incidents
export const INCIDENT_COLUMNS = `id, organization_id, project_id, service_id, group_key, dedup_key, title, severity, details, urgency, state,
  version, held, escalation_policy_id, policy, escalation, next_wake_at, snoozed_until, acknowledged_at, acknowledged_by, resolved_at,
  resolved_by, merged_into, created_at, updated_at`;

export interface IncidentRow {
  id: string;
  organization_id: string;
  project_id: string;
  service_id: string;
  group_key: string;
  dedup_key: string | null;
  title: string;
  severity: string | null;
  details: Record<string, unknown>;
  urgency: Urgency;
  state: 'triggered' | 'acknowledged' | 'resolved';
  version: number;
  held: boolean;
  escalation_policy_id: string | null;
  policy: EscalationPolicy | null;
  escalation: EscalationState;
  next_wake_at: Date | null;
  snoozed_until: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  merged_into: string | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * The policy the core escalates by when the service had none: never stepped (an incident without a
 * policy keeps its escalation stopped and no wake-up, see withoutPaging), only carried.
 */
const RECORD_ONLY: EscalationPolicy = { levels: [{ delayMinutes: 0, targets: [{ type: 'contact_point', id: 'none' }] }], repeat: 0, ackTimeoutMinutes: null };

const ms = (d: Date | null) => (d === null ? null : new Date(d).getTime());

export function toCore(r: IncidentRow): Incident {
  return {
    id: r.id,
    policyId: r.escalation_policy_id ?? '',
    groupKey: r.group_key,
    title: r.title,
    urgency: r.urgency,
    status: r.state,
    version: r.version,
    openedAt: new Date(r.created_at).getTime(),
    acknowledgedAt: ms(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    snoozedUntil: ms(r.snoozed_until),
    resolvedAt: ms(r.resolved_at),
    resolvedBy: r.resolved_by,
    mergedInto: r.merged_into,
    held: r.held,
    policy: r.policy ?? RECORD_ONLY,
    escalation: r.escalation,
  };
}

export { RECORD_ONLY };

/** An incident without a policy pages nobody: its escalation stays stopped (ack expiries too). */
export function withoutPaging(step: IncidentStep): IncidentStep {
  const e = step.incident.escalation;
  return { ...step, incident: { ...step.incident, escalation: { ...e, nextAt: null, ackExpiresAt: null } }, wakeAt: null };
}

export const toIncidentView = (r: IncidentRow) => ({
  id: r.id,
  organizationId: r.organization_id,
  projectId: r.project_id,
  serviceId: r.service_id,
  dedupKey: r.dedup_key,
  title: r.title,
  severity: r.severity,
  details: r.details,
  urgency: r.urgency,
  state: r.state,
  version: r.version,
  escalationPolicyId: r.escalation_policy_id,
  nextWakeAt: iso(r.next_wake_at),
  held: r.held,
  snoozedUntil: iso(r.snoozed_until),
  acknowledgedAt: iso(r.acknowledged_at),
  acknowledgedBy: r.acknowledged_by,
  resolvedAt: iso(r.resolved_at),
  resolvedBy: r.resolved_by,
  mergedInto: r.merged_into,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});
export type IncidentView = ReturnType<typeof toIncidentView>;

export interface TimelineRow {
  id: string;
  at: Date;
  kind: string;
  actor: string | null;
  details: Record<string, unknown>;
}
export const toTimelineView = (r: TimelineRow) => ({ id: Number(r.id), at: iso(r.at), kind: r.kind, actor: r.actor, details: r.details });

/**
 * Serialises everything that changes the incidents of one (service, group key) in this transaction:
 * inbound events and the API's verbs take it before reading what they change.
 */
export async function lockIncidentKey(tx: Queryable, serviceId: string, groupKey: string): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(hashtext('observai.incidents:' || $1::text || ':' || $2::text))`, [serviceId, groupKey]);
}

/** An incident the caller may read (RLS: readers of its project), or 404. */
export async function findIncident(tx: Queryable, id: string): Promise<IncidentRow> {
  const [row] = await tx.query<IncidentRow>(`select ${INCIDENT_COLUMNS} from public.incidents where id = $1`, [id]);
  if (!row) throw notFound('Incident');
  return row;
}

/** The timeline entry's own fields (not kind, at, by), as its row's details. */
function entryDetails(e: TimelineEntry): Record<string, unknown> {
  const { kind: _k, at: _a, by: _b, ...rest } = e;
  return rest;
}

/** Appends timeline entries (the caller's transaction, as a role that may: the service role). */
export async function appendTimeline(tx: Queryable, row: Pick<IncidentRow, 'id' | 'organization_id' | 'project_id'>, entries: readonly TimelineEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.query(
    `insert into public.incident_timeline (incident_id, organization_id, project_id, at, kind, actor, details)
     select $1, $2, $3, to_timestamp(e.at / 1000.0), e.kind, e.actor, e.details
     from jsonb_to_recordset($4::text::jsonb) as e(at double precision, kind text, actor text, details jsonb)`,
    [row.id, row.organization_id, row.project_id, JSON.stringify(entries.map((e) => ({ at: e.at, kind: e.kind, actor: e.by, details: entryDetails(e) })))],
  );
}

/**
 * Writes a step over the stored incident if its version is still the one the step was computed
 * from (`where version = basedOnVersion`): state, version, escalation and the timeline together.
 * Returns the new row, or null when someone else changed the incident first (nothing written).
 * A step that changes nothing but the timeline (a note, an alert added) keeps the version.
 */
export async function writeStep(tx: Queryable, prev: IncidentRow, step: IncidentStep): Promise<IncidentRow | null> {
  if (!isCurrent(prev, step)) return null;
  const i = step.incident;
  if (i.version === prev.version) {
    // Only timeline entries (a note, an alert added): the state and its wake-up stay as they are.
    await appendTimeline(tx, prev, step.timeline);
    return prev;
  }
  const date = (v: number | null) => (v === null ? null : new Date(v).toISOString());
  const [row] = await tx.query<IncidentRow>(
    `update public.incidents set state = $3, version = $4, held = $5, escalation = $6::text::jsonb, next_wake_at = $7,
       snoozed_until = $8, acknowledged_at = $9, acknowledged_by = $10, resolved_at = $11, resolved_by = $12, merged_into = $13,
       -- A reassignment replaces level 1 of the snapshot; an incident without a policy keeps none.
       policy = case when policy is null then null else $14::text::jsonb end
     where id = $1 and version = $2
     returning ${INCIDENT_COLUMNS}`,
    [
      prev.id,
      step.basedOnVersion,
      i.status,
      i.version,
      i.held,
      JSON.stringify(i.escalation),
      date(step.wakeAt ?? null),
      date(i.snoozedUntil),
      date(i.acknowledgedAt),
      i.acknowledgedBy,
      date(i.resolvedAt),
      i.resolvedBy,
      i.mergedInto,
      JSON.stringify(i.policy),
    ],
  );
  if (!row) return null;
  await appendTimeline(tx, row, step.timeline);
  return row;
}
