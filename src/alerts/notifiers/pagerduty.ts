/**
 * PagerDuty Events API v2. One alert group is one PagerDuty alert: `dedup_key` is the group key, so
 * a later notification of the same group updates the open alert and the resolved one closes it.
 * `trigger` while any alert of the group fires, `resolve` once all have resolved (as Alertmanager's
 * PagerDuty notifier). Answers: 202 accepted; 400 invalid event (permanent); 429 throttled (retry,
 * "after a few minutes": 60 s when PagerDuty names no Retry-After); 5xx retry.
 */
import { z } from 'zod';
import type { AlertView, Notification, Severity } from '../model.ts';
import { countAlerts, firingFirst, HttpUrl, misconfigured, notificationTitle, safeLink, sha256Hex, truncate } from './common.ts';
import { postJson } from '../../net/http-delivery.ts';
import type { DeliveryResult, Notifier } from './types.ts';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

const PdSeverity = z.enum(['critical', 'error', 'warning', 'info']);
type PdSeverity = z.output<typeof PdSeverity>;

const Field = z.string().trim().min(1).max(255);

export const PagerDutySettings = z.strictObject({
  /** The Events API endpoint; the EU service region uses https://events.eu.pagerduty.com/v2/enqueue. */
  url: HttpUrl.default(PAGERDUTY_EVENTS_URL),
  /** Overrides the severity taken from the alerts' `severity` label. */
  severity: PdSeverity.optional(),
  /** payload.source; default the common `instance` or `service` label, else the project's name. */
  source: Field.optional(),
  component: Field.optional(),
  group: Field.optional(),
  class: Field.optional(),
});
export type PagerDutySettings = z.output<typeof PagerDutySettings>;

/** PagerDuty's limits. The body is kept under 512 KB with room to spare for the JSON around the details. */
const MAX_DEDUP_KEY = 255;
const MAX_SUMMARY = 1024;
const MAX_BODY_BYTES = 500 * 1024;
const MAX_VALUE_CHARS = 2048;
const MAX_LINKS = 20;
/** PagerDuty says to retry a 429 "after a few minutes"; a minute, when it names no time. */
export const PAGERDUTY_THROTTLE_MS = 60_000;

const RANK: Record<Severity, number> = { critical: 3, warning: 2, info: 1 };

/** The settings' override, else the common severity label, else the most severe firing alert's, else 'error'. */
export function pagerDutySeverity(n: Notification, override?: PdSeverity): PdSeverity {
  if (override) return override;
  const known = (s: string | undefined): s is Severity => s === 'critical' || s === 'warning' || s === 'info';
  const common = n.commonLabels.severity;
  if (known(common)) return common;
  let best: Severity | null = null;
  for (const a of n.alerts) {
    const s = a.labels.severity;
    if (a.status === 'firing' && known(s) && (best === null || RANK[s] > RANK[best])) best = s;
  }
  return best ?? 'error';
}

/** The group key, or its SHA-256 in hex when longer than PagerDuty's 255 characters. */
export async function pagerDutyDedupKey(groupKey: string): Promise<string> {
  return groupKey.length <= MAX_DEDUP_KEY ? groupKey : sha256Hex(groupKey);
}

const clip = (values: Record<string, string>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [truncate(k, 256), truncate(v, MAX_VALUE_CHARS)]));

function alertDetail(a: AlertView) {
  return { labels: clip(a.labels), annotations: clip(a.annotations), startsAt: a.startsAt, endsAt: a.endsAt, value: a.value, url: safeLink(a.url) };
}

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

export async function pagerDutyEvent(n: Notification, routingKey: string, settings: PagerDutySettings): Promise<Record<string, unknown>> {
  const { firing, resolved } = countAlerts(n);
  const summaryText = n.commonAnnotations.summary ? `${notificationTitle(n)}: ${n.commonAnnotations.summary}` : notificationTitle(n);
  const links: Array<{ href: string; text: string }> = [];
  const seen = new Set<string>();
  for (const a of firingFirst(n.alerts)) {
    const href = safeLink(a.url);
    if (href && !seen.has(href) && links.length < MAX_LINKS) {
      seen.add(href);
      links.push({ href, text: truncate(a.annotations.summary ?? a.labels.alertname ?? 'Alert', 200) });
    }
  }
  const hub = safeLink(n.externalUrl);
  const details: Record<string, unknown> = {
    project: n.project.name,
    receiver: n.receiver,
    num_firing: firing,
    num_resolved: resolved,
    group_labels: clip(n.groupLabels),
    common_labels: clip(n.commonLabels),
    common_annotations: clip(n.commonAnnotations),
    firing: [] as unknown[],
    resolved: [] as unknown[],
    truncated_alerts: n.truncatedAlerts,
  };
  const event: Record<string, unknown> = {
    routing_key: routingKey,
    event_action: n.status === 'firing' ? 'trigger' : 'resolve',
    dedup_key: await pagerDutyDedupKey(n.groupKey),
    payload: {
      summary: truncate(summaryText, MAX_SUMMARY),
      source: settings.source ?? truncate(n.commonLabels.instance ?? n.commonLabels.service ?? n.project.name, 255),
      severity: pagerDutySeverity(n, settings.severity),
      timestamp: n.createdAt,
      ...(settings.component ? { component: settings.component } : {}),
      ...(settings.group ? { group: settings.group } : {}),
      ...(settings.class ? { class: settings.class } : {}),
      custom_details: details,
    },
    links,
    client: 'ObservAI Hub',
    ...(hub ? { client_url: hub } : {}),
  };
  // Alerts fill what is left of the size budget, firing first; those that do not fit are counted.
  let budget = MAX_BODY_BYTES - bytes(event);
  let omitted = 0;
  for (const a of firingFirst(n.alerts)) {
    const detail = alertDetail(a);
    const size = bytes(detail) + 1;
    if (size <= budget) {
      (details[a.status] as unknown[]).push(detail);
      budget -= size;
    } else {
      omitted++;
    }
  }
  details.truncated_alerts = n.truncatedAlerts + omitted;
  return event;
}

export const pagerDutyNotifier: Notifier<PagerDutySettings> = {
  kind: 'pagerduty',
  settings: PagerDutySettings,
  secret: {
    required: true,
    describe: "The integration's routing key (32 characters, from an Events API v2 integration of the service)",
    schema: z.string().trim().regex(/^[A-Za-z0-9]{32}$/, 'must be the 32-character routing (integration) key'),
  },
  async send(n, target, ctx): Promise<DeliveryResult> {
    if (!target.secret) return misconfigured('The PagerDuty contact point has no routing key');
    const event = await pagerDutyEvent(n, target.secret, target.settings);
    const result = await postJson(ctx, target.settings.url, JSON.stringify(event));
    if (!result.ok && result.status === 429 && result.retryAfterMs === null) return { ...result, retryAfterMs: PAGERDUTY_THROTTLE_MS };
    return result;
  },
};

