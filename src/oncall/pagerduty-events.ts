import { z } from 'zod';
import type { Urgency } from './escalation.ts';

/**
 * A PagerDuty Events API v2-compatible inbound endpoint's semantics as pure functions: any tool that
 * can page PagerDuty can page us. parsePagerDutyEvent validates the body as PagerDuty documents it
 * (developer-docs/docs/events-API-v2/02-Trigger-Events.md) and answers invalid events as PagerDuty
 * does; decidePagerDutyEvent applies PagerDuty's dedup rules to the open incident for the event's
 * key (the caller looks it up) and returns the decision with the body PagerDuty would send.
 *
 * Invariants:
 * - 400 `{status: 'invalid event', message: 'Event object is invalid', errors: [...]}` for anything
 *   outside the schema, each error naming its field; nothing is applied. Unknown fields are ignored
 *   (PagerDuty's CEF fields evolve; senders add their own);
 * - 202 `{status: 'success', message: 'Event processed', dedup_key}` otherwise, also for a dropped
 *   event, as PagerDuty answers;
 * - dedup, scoped to the integration (the routing key): a trigger without dedup_key always opens a new
 *   incident under a generated key (a UUID the caller passes in) and returns it; an event with a key
 *   applies to the open incident for (integration, key); a trigger with a key and no open incident
 *   opens one (after a resolve: a new one, never a reopen); acknowledge or resolve of a key with no
 *   open incident is dropped;
 * - a trigger for an open incident adds an alert to it and notifies nobody (while acknowledged,
 *   PagerDuty sends no notifications either; while triggered, escalation is already running);
 * - urgency from severity: critical and error page (high), warning and info are recorded and notified
 *   quietly (low), as PagerDuty's "use alert severity to determine urgency" service setting.
 */

/** PagerDuty caps an event at 512 KB; the HTTP layer answers 413 above it, before parsing. */
export const PD_MAX_EVENT_BYTES = 512 * 1024;

const Severity = z.enum(['critical', 'error', 'warning', 'info'], { message: "must be one of 'critical', 'error', 'warning' or 'info'" });

/** ISO 8601 date-time with a zone, as PagerDuty's example `2015-07-17T08:42:58.315+0000`. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Epoch milliseconds of an ISO 8601 time PagerDuty accepts, or null (also for days like Feb 30). */
export function parseEventTime(text: string): number | null {
  const m = ISO_TIME.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  // Date.parse rolls 2015-02-30 over into March: check the fields against the calendar first.
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return null;
  const ms = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isFinite(ms) ? ms : null;
}

const text = (max?: number) => (max === undefined ? z.string({ message: 'must be a string' }) : z.string({ message: 'must be a string' }).max(max, `must be at most ${max} characters`));

const Payload = z.object(
  {
    summary: text(1024).min(1, 'is required'),
    source: text().min(1, 'is required'),
    severity: Severity,
    timestamp: text().refine((t) => parseEventTime(t) !== null, 'must be an ISO 8601 date-time, e.g. 2015-07-17T08:42:58.315+0000').optional(),
    component: text().optional(),
    group: text().optional(),
    class: text().optional(),
    custom_details: z.record(z.string(), z.unknown(), { message: 'must be an object' }).optional(),
  },
  { message: 'must be an object' },
);

export const PagerDutyEvent = z
  .object({
    routing_key: text().length(32, 'must be the 32-character integration key'),
    event_action: z.enum(['trigger', 'acknowledge', 'resolve'], { message: "must be one of 'trigger', 'acknowledge' or 'resolve'" }),
    dedup_key: text(255).min(1, 'must not be empty').optional(),
    payload: Payload.optional(),
    images: z
      .array(
        z.object({
          src: text().regex(/^https:\/\//, 'must be an https URL (PagerDuty requires images served over HTTPS)'),
          href: text().optional(),
          alt: text().optional(),
        }),
        { message: 'must be an array' },
      )
      .optional(),
    links: z.array(z.object({ href: text(), text: text().optional() }), { message: 'must be an array' }).optional(),
    client: text().optional(),
    client_url: text().optional(),
  })
  .superRefine((e, ctx) => {
    if (e.event_action === 'trigger' && !e.payload) ctx.addIssue({ code: 'custom', path: ['payload'], message: 'is required for trigger events' });
    if (e.event_action !== 'trigger' && !e.dedup_key) ctx.addIssue({ code: 'custom', path: ['dedup_key'], message: `is required for ${e.event_action} events` });
  });
export type PagerDutyEvent = z.infer<typeof PagerDutyEvent>;

export interface InvalidEvent {
  status: 400;
  body: { status: 'invalid event'; message: 'Event object is invalid'; errors: string[] };
}

export interface Accepted {
  status: 202;
  body: { status: 'success'; message: 'Event processed'; dedup_key: string };
}

const invalid = (errors: string[]): InvalidEvent => ({ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } });

/** The raw request body (JSON text) as an event, or PagerDuty's 400. */
export function parsePagerDutyEvent(raw: string): { ok: true; event: PagerDutyEvent } | { ok: false; response: InvalidEvent } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, response: invalid(['the body is not valid JSON']) };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, response: invalid(['the body must be a JSON object']) };
  const parsed = PagerDutyEvent.safeParse(json);
  if (parsed.success) return { ok: true, event: parsed.data };
  const errors = parsed.error.issues.map((i) => {
    const field = i.path.join('.');
    // zod reports a missing field as a type error; say "is required" as PagerDuty does.
    const missing = i.code === 'invalid_type' && i.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown> | undefined)?.[k], json) === undefined;
    return `'${field}' ${missing ? 'is required' : i.message}`;
  });
  return { ok: false, response: invalid(errors) };
}

/** The incident open for (integration, dedup_key), as the caller found it. */
export interface OpenPdIncident {
  incidentId: string;
  status: 'triggered' | 'acknowledged';
}

export type PdDecision =
  | { kind: 'open'; dedupKey: string; urgency: Urgency; title: string; occurredAt: number | null }
  | { kind: 'alert_added'; incidentId: string; dedupKey: string }
  | { kind: 'acknowledge'; incidentId: string; dedupKey: string }
  | { kind: 'resolve'; incidentId: string; dedupKey: string }
  | { kind: 'drop'; dedupKey: string; reason: string };

/** The group key of an inbound event's incident: dedup is per integration, as per routing key in PagerDuty. */
export const pagerDutyGroupKey = (integrationId: string, dedupKey: string) => `pagerduty/${integrationId}/${dedupKey}`;

export type PdSeverity = z.infer<typeof Severity>;
export const urgencyOf = (severity: PdSeverity): Urgency => (severity === 'critical' || severity === 'error' ? 'high' : 'low');

/**
 * What an event does. `open` is the open incident for (integration, event.dedup_key) (null when the
 * event has no key or there is none); `generatedKey` is a fresh UUID, used when a trigger has no key.
 */
export function decidePagerDutyEvent(event: PagerDutyEvent, open: OpenPdIncident | null, generatedKey: string): { decision: PdDecision; response: Accepted } {
  const dedupKey = event.dedup_key ?? generatedKey;
  const response: Accepted = { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
  const target = event.dedup_key === undefined ? null : open;
  let decision: PdDecision;
  if (event.event_action === 'trigger') {
    const p = event.payload!;
    const occurredAt = p.timestamp === undefined ? null : parseEventTime(p.timestamp);
    decision = target
      ? { kind: 'alert_added', incidentId: target.incidentId, dedupKey }
      : { kind: 'open', dedupKey, urgency: urgencyOf(p.severity), title: p.summary, occurredAt };
  } else if (!target) {
    decision = { kind: 'drop', dedupKey, reason: `no open incident for dedup_key '${dedupKey}'` };
  } else {
    decision = { kind: event.event_action, incidentId: target.incidentId, dedupKey };
  }
  return { decision, response };
}
