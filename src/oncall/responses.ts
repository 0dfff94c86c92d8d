import { z } from 'zod';
import { ErrorEnvelope } from '../http/openapi.ts';
import { EscalationPolicy } from './escalation.ts';
import { NotificationRules } from './notification-rules.ts';

/**
 * What the oncall function answers (src/oncall/http/routes.ts, schedule-routes.ts); the OpenAPI
 * document is built from these. Each follows the view named beside it (the HTTP tests check every
 * answer against it).
 */

const Time = z.iso.datetime();
const Count = z.number().int().min(0);
const Details = z.record(z.string(), z.unknown());

// ---- services (src/oncall/views.ts toServiceView)

export const OncallService = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    projectId: z.uuid(),
    name: z.string(),
    escalationPolicyId: z.uuid().nullable(),
    urgency: z.enum(['high', 'low', 'severity']),
    reopenWindowSeconds: Count,
    /** The contact points (of the service's project) that carry pages to people; null: none. */
    pageEmailVia: z.uuid().nullable(),
    pageSlackVia: z.uuid().nullable(),
    pageSmsVia: z.uuid().nullable(),
    pageWebhookVia: z.uuid().nullable(),
    pageVoiceVia: z.uuid().nullable(),
    createdBy: z.string().nullable(),
    createdAt: Time,
    updatedAt: Time,
  })
  .meta({ id: 'OncallService' });
export const ServiceResponse = z.object({ service: OncallService });
export const ServicesResponse = z.object({ services: z.array(OncallService) });
/** src/oncall/create-service.ts: the Events v2 routing key, shown this once. */
export const CreatedServiceResponse = z.object({ service: OncallService, integrationKey: z.string() });

// ---- maintenance windows (src/oncall/maintenance.ts toView)

export const MaintenanceWindow = z
  .object({
    id: z.uuid(),
    serviceId: z.uuid(),
    startsAt: Time,
    endsAt: Time,
    reason: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: Time,
  })
  .meta({ id: 'MaintenanceWindow' });
export const MaintenanceWindowResponse = z.object({ maintenanceWindow: MaintenanceWindow });
export const MaintenanceWindowsResponse = z.object({ maintenanceWindows: z.array(MaintenanceWindow) });
/** A window that had begun is ended now (returned); one still to come is removed (null). */
export const EndMaintenanceResponse = z.object({ maintenanceWindow: MaintenanceWindow.nullable(), removed: z.boolean() });

// ---- escalation policies (src/oncall/views.ts toPolicyView)

export const OncallEscalationPolicy = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    name: z.string(),
    policy: EscalationPolicy,
    createdBy: z.string().nullable(),
    createdAt: Time,
    updatedAt: Time,
  })
  .meta({ id: 'EscalationPolicy' });
export const EscalationPolicyResponse = z.object({ escalationPolicy: OncallEscalationPolicy });
export const EscalationPoliciesResponse = z.object({ escalationPolicies: z.array(OncallEscalationPolicy) });

// ---- incidents (src/oncall/views.ts toIncidentView, toTimelineView)

export const Incident = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    projectId: z.uuid(),
    serviceId: z.uuid(),
    dedupKey: z.string().nullable(),
    title: z.string(),
    severity: z.string().nullable(),
    details: Details,
    urgency: z.enum(['high', 'low']),
    state: z.enum(['triggered', 'acknowledged', 'resolved']),
    version: z.number().int(),
    escalationPolicyId: z.uuid().nullable(),
    nextWakeAt: Time.nullable(),
    /** Opened or held during a maintenance window: recorded, nobody paged. */
    held: z.boolean(),
    snoozedUntil: Time.nullable(),
    acknowledgedAt: Time.nullable(),
    acknowledgedBy: z.string().nullable(),
    resolvedAt: Time.nullable(),
    resolvedBy: z.string().nullable(),
    mergedInto: z.uuid().nullable(),
    createdAt: Time,
    updatedAt: Time,
  })
  .meta({ id: 'Incident' });
export const TimelineEntry = z
  .object({ id: z.number().int(), at: Time, kind: z.string(), actor: z.string().nullable(), details: Details })
  .meta({ id: 'IncidentTimelineEntry' });

export const IncidentResponse = z.object({ incident: Incident });
export const IncidentsResponse = z.object({ incidents: z.array(Incident) });
export const IncidentDetailResponse = z.object({ incident: Incident, timeline: z.array(TimelineEntry) });
/** src/oncall/merge-incidents.ts: the merged incident (resolved into the other) and the one it went into. */
export const MergeResponse = z.object({ incident: Incident, into: Incident });

/** src/oncall/incident-stats.ts: counts and MTTA/MTTR in seconds (null: nothing to measure). */
const figures = {
  opened: Count,
  acknowledged: Count,
  resolved: Count,
  mttaSeconds: z.number().nullable(),
  mttaP50Seconds: z.number().nullable(),
  mttaP90Seconds: z.number().nullable(),
  mttrSeconds: z.number().nullable(),
  mttrP50Seconds: z.number().nullable(),
  mttrP90Seconds: z.number().nullable(),
};
export const IncidentStatsResponse = z.object({
  projectId: z.uuid(),
  from: Time,
  to: Time,
  total: z.object(figures),
  services: z.array(z.object({ serviceId: z.string().nullable(), name: z.string().nullable(), ...figures })),
  policies: z.array(z.object({ escalationPolicyId: z.string().nullable(), name: z.string().nullable(), ...figures })),
  /** A user id, or `service:<id>` when an inbound event acknowledged first. */
  responders: z.array(z.object({ acknowledgedBy: z.string().nullable(), ...figures })),
});

export const INCIDENT_STREAM_EVENTS = {
  description:
    'Server-sent events: `ready`, `incident` (data: a timeline entry with its incident id and the incident\'s state, title, urgency, service and version; id: the entry\'s; resume with Last-Event-ID or lastId), heartbeats as comments, `error`, and `end` (data: the reason) before the stream closes.',
  content: { 'text/event-stream': undefined },
} as const;

// ---- PagerDuty Events API v2 (src/oncall/pagerduty-events.ts): PagerDuty's own answers, not the error envelope

export const EventAccepted = z.object({ status: z.literal('success'), message: z.literal('Event processed'), dedup_key: z.string() });
export const EventInvalid = z
  .object({ status: z.literal('invalid event'), message: z.literal('Event object is invalid'), errors: z.array(z.string()) })
  .describe("PagerDuty's 400: the event is invalid, or its routing key is unknown");
export const EventThrottled = {
  description: 'Too many events a minute for this routing key',
  content: { 'application/json': z.object({ status: z.literal('throttle event'), message: z.string() }) },
  headers: { 'retry-after': 'Seconds until the minute ends and events are taken again' },
};

// ---- notification rules (src/oncall/my-notification-rules.ts)

export const NotificationRulesResponse = z.object({
  rules: NotificationRules,
  /** True while the person has set none: email at once at their account's address. */
  default: z.boolean(),
  updatedAt: Time.nullable(),
});

// ---- inbound integrations: Slack app, PagerDuty webhooks (src/oncall/slack-actions.ts, pagerduty-webhooks.ts)

export const SlackApp = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    /** The Request URL to give Slack (null when the server has no PUBLIC_URL). */
    requestUrl: z.string().nullable(),
    requestPath: z.string(),
    createdBy: z.string().nullable(),
    createdAt: Time,
    updatedAt: Time,
  })
  .meta({ id: 'SlackApp' });
export const SlackAppResponse = z.object({ slackApp: SlackApp });
export const MaybeSlackAppResponse = z.object({ slackApp: SlackApp.nullable() });

export const PagerDutyWebhook = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    description: z.string().nullable(),
    /** The URL to give PagerDuty (null when the server has no PUBLIC_URL). */
    url: z.string().nullable(),
    path: z.string(),
    createdBy: z.string().nullable(),
    createdAt: Time,
  })
  .meta({ id: 'PagerDutyWebhook' });
export const PagerDutyWebhookResponse = z.object({ pagerdutyWebhook: PagerDutyWebhook });
export const PagerDutyWebhooksResponse = z.object({ pagerdutyWebhooks: z.array(PagerDutyWebhook) });
/** Whether the event changed an incident (events of other types or incidents are accepted and ignored). */
export const PagerDutyWebhookReceived = z.object({ applied: z.boolean() });

/** Signed action links answer an HTML page, whatever happened (a 404 for an unknown action is the JSON error envelope). */
const HTML = { 'text/html': undefined };
export const LINK_PAGES = {
  200: { description: 'A page: the confirmation form (GET) or what was done (POST)', content: HTML },
  400: { description: 'A page saying why the action could not be taken', content: HTML },
  401: { description: 'A page saying the link does not work (expired, tampered with, or revoked)', content: HTML },
  403: { description: 'A page saying the person may no longer act on the incident', content: HTML },
  404: { description: 'A page saying the incident is gone; or the error envelope for an unknown action', content: { ...HTML, 'application/json': ErrorEnvelope } },
  409: { description: 'A page saying the incident changed meanwhile (already resolved, ...)', content: HTML },
  501: { description: 'A page saying this server signs no action links', content: HTML },
} as const;

// ---- schedules (src/oncall/schedule-store.ts toScheduleView, toOverrideView; get-on-call.ts; get-schedule-shifts.ts)

export const ScheduleOverride = z
  .object({ id: z.string(), userId: z.string(), start: Time, end: Time })
  .meta({ id: 'ScheduleOverride' });

export const OncallSchedule = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    name: z.string(),
    timeZone: z.string(),
    /** The document as stored: what a PUT takes back. */
    schedule: z.record(z.string(), z.unknown()),
    /** The document's overrides in its order, with their ids. */
    overrides: z.array(ScheduleOverride),
    version: z.number().int(),
    createdBy: z.string().nullable(),
    createdAt: Time,
    updatedAt: Time,
  })
  .meta({ id: 'Schedule' });
export const ScheduleResponse = z.object({ schedule: OncallSchedule });
export const SchedulesResponse = z.object({ schedules: z.array(OncallSchedule) });
export const OverrideAddedResponse = z.object({ override: ScheduleOverride, schedule: OncallSchedule });
export const SwapResponse = z.object({ overrides: z.array(ScheduleOverride), schedule: OncallSchedule });

export const OnCallResponse = z.object({
  scheduleId: z.uuid(),
  at: Time,
  onCall: z
    .object({
      userId: z.string(),
      source: z.union([
        z.object({ kind: z.literal('override'), overrideId: z.string(), index: z.number().int() }),
        z.object({ kind: z.literal('layer'), layerId: z.string(), layerName: z.string() }),
      ]),
      until: Time.nullable(),
    })
    .nullable(),
  nextHandoff: z.object({ at: Time, from: z.string().nullable(), to: z.string().nullable() }).nullable(),
});

const Shift = z.object({ start: Time, end: Time, userId: z.string() });
export const ShiftsResponse = z.object({
  scheduleId: z.uuid(),
  from: Time,
  to: Time,
  layers: z.array(z.object({ layerId: z.string(), name: z.string(), shifts: z.array(Shift) })),
  /** Overrides on top: one person at a time. */
  final: z.array(Shift),
});

// ---- iCal feeds (src/oncall/feed-tokens.ts toFeedView; create-feed-token.ts)

export const Feed = z
  .object({
    id: z.uuid(),
    organizationId: z.uuid(),
    kind: z.enum(['schedule', 'user']),
    scheduleId: z.uuid().nullable(),
    userId: z.uuid().nullable(),
    createdBy: z.string().nullable(),
    createdAt: Time,
    revokedAt: Time.nullable(),
    lastUsedAt: Time.nullable(),
  })
  .meta({ id: 'CalendarFeed' });
export const FeedsResponse = z.object({ feeds: z.array(Feed) });
/** The token (shown this once) and the calendar's path and absolute URL. */
export const CreatedFeedResponse = z.object({ feed: Feed, token: z.string(), path: z.string(), url: z.string() });

export const CALENDAR = {
  description: 'The feed as an iCalendar document (RFC 5545)',
  content: { 'text/calendar': undefined },
} as const;
