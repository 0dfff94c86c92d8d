import type { AlertView, Notification } from '../alerts/model.ts';
import type { Queryable } from '../db/types.ts';
import type { Urgency } from './escalation.ts';
import { findLastResolved, findOpen, followMerged, openNewIncident, type ServiceForEvents } from './enqueue-event.ts';
import { applyEvent, type IncidentStep, reopenIncident, routeEvent } from './incidents.ts';
import { inMaintenance } from './maintenance.ts';
import { appendTimeline, type IncidentRow, lockIncidentKey, toCore, withoutPaging, writeStep } from './views.ts';

/**
 * Alert groups that need a human (issue 20 item 1): the notifications of `oncall` contact points
 * (src/alerts/notifiers/oncall.ts), taken from the notification log by the escalate-incidents job
 * and applied to incidents, each in the transaction that marks it sent. So grouping, silences,
 * inhibition and exactly-once creation are alerting's, unchanged, and each notification changes
 * incidents once (ADR 0011).
 *
 * - A firing notification opens an incident on the contact point's service for its alert group
 *   (`alerts/<contact point>/<group key>`), reopens the last one within the service's reopen window,
 *   or, when one is open, records the group's update as `alert_added`.
 * - A resolved notification (every alert of the group resolved) resolves the open incident
 *   automatically (by nobody); one with nothing open changes nothing.
 * - Urgency: the service's, or with `severity` from the group's common `severity` label (critical,
 *   error: high; anything else: low).
 * - A notification whose service is gone (or moved out of the project) ends `failed`, saying so.
 */
const PER_PASS = 500;
const DETAIL_ALERTS = 20;

interface Pending {
  id: string;
  attempts: number;
  payload: Notification;
  project_id: string;
  organization_id: string;
  contact_point_id: string;
  service_id: string | null;
}

const truncate = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

const SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);

function describe(a: AlertView): string {
  const name = a.labels.alertname ?? 'Alert';
  const summary = a.annotations.summary ?? a.annotations.title;
  return summary ? `${name}: ${summary}` : name;
}

function titleOf(n: Notification): string {
  const firing = n.alerts.filter((a) => a.status === 'firing');
  const first = firing[0] ?? n.alerts[0];
  const name = n.commonLabels.alertname ?? first?.labels.alertname ?? 'Alert';
  const summary = n.commonAnnotations.summary ?? (firing.length === 1 ? first?.annotations.summary : undefined);
  const base = summary ? `${name}: ${summary}` : name;
  return truncate(firing.length > 1 ? `${base} (${firing.length} alerts)` : base, 1024);
}

function detailsOf(n: Notification): Record<string, unknown> {
  return {
    source: 'alerting',
    receiver: n.receiver,
    groupKey: n.groupKey,
    groupLabels: n.groupLabels,
    summary: n.commonAnnotations.summary ?? null,
    alerts: n.alerts.slice(0, DETAIL_ALERTS).map((a) => ({ labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, value: a.value, url: a.url })),
  };
}

/** Applies the due notifications of on-call contact points; returns how many were applied, opened and resolved. */
export async function intakeAlertNotifications(tx: Queryable, now: number): Promise<{ applied: number; opened: number; resolved: number; failed: number }> {
  const rows = await tx.query<Pending>(
    `select n.id, n.attempts, n.payload, n.project_id, n.organization_id, n.contact_point_id, cp.settings ->> 'serviceId' as service_id
     from public.alert_notifications n
     join public.contact_points cp on cp.id = n.contact_point_id and cp.kind = 'oncall'
     where n.status = 'pending' and n.next_attempt_at <= greatest(to_timestamp($1::float8 / 1000.0), now())
     order by n.created_at, n.seq limit $2
     for update of n skip locked`,
    [now, PER_PASS],
  );
  const out = { applied: 0, opened: 0, resolved: 0, failed: 0 };
  for (const n of rows) {
    const [service] = await tx.query<ServiceForEvents>(
      `select id, organization_id, project_id, escalation_policy_id, urgency, reopen_window_seconds from public.oncall_services
       where id::text = $1 and project_id = $2`,
      [n.service_id ?? '', n.project_id],
    );
    let error: string | null = null;
    if (!service) {
      error = "The contact point's on-call service no longer exists";
      out.failed += 1;
    } else {
      const effect = await applyNotification(tx, service, n, now);
      out.applied += 1;
      if (effect === 'opened') out.opened += 1;
      if (effect === 'resolved') out.resolved += 1;
    }
    const at = new Date(now).toISOString();
    await tx.query(
      `update public.alert_notifications set status = $2, attempts = attempts + 1, sent_at = case when $2 = 'sent' then $3::timestamptz end,
         last_error = $4, lease_until = null
       where id = $1`,
      [n.id, error === null ? 'sent' : 'failed', at, error],
    );
    await tx.query(
      `insert into public.alert_notification_attempts (notification_id, project_id, organization_id, attempt, started_at, duration_ms, ok, error)
       values ($1, $2, $3, $4, $5, 0, $6, $7)`,
      [n.id, n.project_id, n.organization_id, n.attempts + 1, at, error === null, error],
    );
  }
  return out;
}

async function applyNotification(tx: Queryable, service: ServiceForEvents, n: Pending, now: number): Promise<'opened' | 'updated' | 'resolved' | 'none'> {
  const payload = n.payload;
  const groupKey = truncate(`alerts/${n.contact_point_id}/${payload.groupKey}`, 2048);
  await lockIncidentKey(tx, service.id, groupKey);
  const open = await findOpen(tx, service.id, groupKey);
  const write = async (row: IncidentRow, step: IncidentStep) => {
    if (step.rejected !== null || step.timeline.length === 0) return false;
    // The lock serialises every writer but the escalation job's steps; those run in this job, after this.
    return (await writeStep(tx, row, row.policy === null ? withoutPaging(step) : step)) !== null;
  };
  const firing = payload.alerts.filter((a) => a.status === 'firing');
  if (payload.status === 'resolved' || firing.length === 0) {
    if (!open) return 'none';
    return (await write(open, applyEvent(toCore(open), { type: 'alerts_resolved' }, now))) ? 'resolved' : 'none';
  }
  const alert = truncate(firing.map(describe).join('; '), 500);
  if (open) {
    await write(open, applyEvent(toCore(open), { type: 'alert_added', alert }, now));
    return 'updated';
  }
  const last = await findLastResolved(tx, service.id, groupKey);
  const route = routeEvent(null, last ? toCore(last) : null, { type: 'fired', alert }, now, service.reopen_window_seconds * 1000);
  if (route.action === 'reopen' && last) {
    if (await write(last, reopenIncident(toCore(last), now, await inMaintenance(tx, service.id, now)))) await appendTimeline(tx, last, [{ kind: 'alert_added', at: now, by: null, alert }]);
    return 'opened';
  }
  if (route.action === 'follow' && (await followMerged(tx, route.incidentId, alert, now))) return 'updated';
  const label = payload.commonLabels.severity;
  const severity = label && SEVERITIES.has(label) ? label : null;
  const urgency: Urgency = service.urgency === 'severity' ? (severity === 'critical' || severity === 'error' ? 'high' : 'low') : service.urgency;
  await openNewIncident(tx, service, { groupKey, dedupKey: null, title: titleOf(payload), urgency, alert, severity, details: detailsOf(payload), now });
  return 'opened';
}
