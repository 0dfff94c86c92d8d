import type { AlertView, Notification } from '../alerts/model.ts';
import type { Page, Urgency } from './escalation.ts';
import { incidentLink } from '../core/dashboard-links.ts';
import { type ContactMethod, type ContactMethodKind, type NotificationRules, personalNotifications } from './notification-rules.ts';

/**
 * What a page turns into on the notification log, as pure functions: the notification a contact
 * point gets, and the notifications a person's rules make due by now, each through the contact
 * point of the service's project that carries that kind of method (page_email_via, page_slack_via)
 * with the person's address as its recipient. No SQL and no clock: the escalation job's store
 * (page-store.ts) reads the rows and writes what these return.
 *
 * Invariants:
 * - a notification's group key is `page:<page key>` (a contact point) or `page:<page key>/<rule>`
 *   (a person's rule), so the log's unique key (contact point, group key, seq 1) makes each once;
 *   its payload's groupKey is `incident:<id>`, so a PagerDuty contact point sees one incident of
 *   ours as one of its own (dedup_key) across levels and cycles;
 * - a person without rules is notified by email at once at their account's address (PagerDuty's
 *   default rule), when the service has an email carrier;
 * - a rule whose method the service cannot carry (no carrier for its kind) is reported as
 *   undeliverable, never silently skipped;
 * - a person's webhook is posted to their URL by the service's webhook carrier, signed with its
 *   secret (Standard Webhooks), so whoever runs the receiver verifies it with the secret the
 *   service's admins hold; the URL passes the SSRF guard at every send, as every webhook does;
 * - a rule already done for the page (by its rule key) is never planned again.
 */

export interface Carrier {
  id: string;
  name: string;
  kind: string;
}

/** The contact points of a service's project that carry pages to people, by method kind. */
export interface Carriers {
  email: Carrier | null;
  slack: Carrier | null;
  sms: Carrier | null;
  voice: Carrier | null;
  webhook: Carrier | null;
}

export interface IncidentInfo {
  id: string;
  title: string;
  severity: string | null;
  urgency: Urgency;
  serviceName: string;
  project: { id: string; name: string };
  openedAt: number;
  details: Record<string, unknown>;
}

export const ACCOUNT_EMAIL_METHOD = 'account-email';

/** A person's rules, or the default when they have none: email at once to their account's address. */
export function rulesOrDefault(rules: NotificationRules | null, accountEmail: string | null): NotificationRules | null {
  if (rules) return rules;
  if (!accountEmail) return null;
  const methods: ContactMethod[] = [{ id: ACCOUNT_EMAIL_METHOD, kind: 'email', address: accountEmail }];
  return { methods, high: [{ methodId: ACCOUNT_EMAIL_METHOD, delayMinutes: 0 }], low: [{ methodId: ACCOUNT_EMAIL_METHOD, delayMinutes: 0 }] };
}

/** The contact point carrying a method, and the recipient it is sent to there; or why it cannot be. */
export function carry(method: ContactMethod, carriers: Carriers): { carrier: Carrier; recipient: Record<string, unknown> } | { reason: string } {
  const carrier = carriers[method.kind];
  if (!carrier) return { reason: `the service has no ${method.kind} contact point for pages (page_${method.kind}_via)` };
  if (carrier.kind !== method.kind) return { reason: `the service's ${method.kind} carrier is a ${carrier.kind} contact point` };
  return { carrier, recipient: RECIPIENT[method.kind](method.address) };
}

/** A person's address as the carrier's settings it replaces when sent (merged over the contact point's). */
const RECIPIENT: Record<ContactMethodKind, (address: string) => Record<string, unknown>> = {
  email: (a) => ({ to: [a] }),
  sms: (a) => ({ to: [a] }),
  voice: (a) => ({ to: [a] }),
  slack: (a) => ({ mention: `<@${a}>` }),
  webhook: (a) => ({ url: a }),
};

export interface PlannedNotification {
  ruleKey: string;
  method: ContactMethod;
  at: number;
  /** Where it goes, or why it cannot. */
  via: { carrier: Carrier; recipient: Record<string, unknown> } | { reason: string };
}

/** A person's page: the rules due by now and not yet done, and when the next one is due. */
export function planPersonPage(
  rules: NotificationRules | null,
  urgency: Urgency,
  pagedAt: number,
  now: number,
  done: ReadonlySet<string>,
  carriers: Carriers,
): { due: PlannedNotification[]; nextAt: number | null } {
  if (!rules) return { due: [], nextAt: null };
  const { due, nextAt } = personalNotifications(rules, urgency, pagedAt, now);
  return {
    due: due.filter((d) => !done.has(d.ruleKey)).map((d) => ({ ...d, via: carry(d.method, carriers) })),
    nextAt,
  };
}

const truncate = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** The notification a page sends: one firing alert standing for the incident. */
export function pageNotification(
  o: { id: string; incident: IncidentInfo; page: Pick<Page, 'level' | 'round' | 'cycle'>; receiver: string; createdAt: number; dashboardUrl: string | null },
): Notification {
  const i = o.incident;
  const url = o.dashboardUrl ? incidentLink(o.dashboardUrl, i.project.id, i.id) : null;
  const summary = typeof i.details.summary === 'string' ? i.details.summary : null;
  const labels: Record<string, string> = { alertname: truncate(i.title, 200), service: i.serviceName, urgency: i.urgency, incident_id: i.id };
  if (i.severity) labels.severity = i.severity;
  const annotations: Record<string, string> = {
    summary: truncate(i.title, 300),
    description: truncate(
      [`Incident on ${i.serviceName}, ${i.urgency} urgency: escalation level ${o.page.level}${o.page.round > 0 ? ` (repeat ${o.page.round})` : ''}.`, summary && summary !== i.title ? summary : null]
        .filter(Boolean)
        .join(' '),
      1200,
    ),
  };
  const alert: AlertView = {
    fingerprint: i.id,
    status: 'firing',
    labels,
    annotations,
    startsAt: new Date(i.openedAt).toISOString(),
    endsAt: null,
    value: null,
    url,
  };
  return {
    id: o.id,
    groupKey: `incident:${i.id}`,
    status: 'firing',
    receiver: o.receiver,
    groupLabels: { incident_id: i.id },
    commonLabels: labels,
    commonAnnotations: annotations,
    alerts: [alert],
    truncatedAlerts: 0,
    externalUrl: o.dashboardUrl,
    project: i.project,
    createdAt: new Date(o.createdAt).toISOString(),
  };
}
