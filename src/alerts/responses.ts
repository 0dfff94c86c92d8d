import { z } from 'zod';
import { CONTACT_KINDS, Comparison } from './schemas.ts';

/**
 * What the alerts function answers (src/alerts/http/*.ts); the OpenAPI document is built from these.
 * Each schema follows the view function named beside it: change the view, change the schema (the
 * HTTP tests check every answer against it).
 */

const Time = z.iso.datetime();
const Count = z.number().int().min(0);
const Labels = z.record(z.string(), z.string());
const Severity = z.enum(['critical', 'warning', 'info']);
const RULE_KINDS = ['metric', 'nodata', 'anomaly', 'log', 'trace'] as const;

// ---- rules (src/alerts/rule-views.ts: toRuleInput, toRuleView)

const ruleInputShape = {
  key: z.string(),
  name: z.string(),
  kind: z.enum(RULE_KINDS),
  query: z.record(z.string(), z.unknown()).describe("The rule's query as it is given in a RuleSpec (durations as text, e.g. `5m`)."),
  severity: Severity,
  labels: Labels,
  annotations: Labels,
  for: z.string(),
  keepFiringFor: z.string(),
  interval: z.string(),
  delay: z.string(),
  maxInstances: z.number().int(),
  enabled: z.boolean(),
};

const RuleCondition = z.object({ op: Comparison, critical: z.number().optional(), warning: z.number().optional() });

/** A rule as rules as code writes it (GET /rules/export; PUT /rules takes it back unchanged). */
export const RuleInput = z
  .object({
    ...ruleInputShape,
    /** Metric, log and trace rules only. */
    condition: RuleCondition.optional(),
  })
  .meta({ id: 'AlertRuleInput' });

export const AlertRule = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    ...ruleInputShape,
    /** Only metric, log and trace rules have thresholds; the others fire on what their query finds. */
    condition: RuleCondition.nullable(),
    health: z.object({
      lastEvalAt: Time.nullable(),
      lastEvalMs: z.number().nullable(),
      lastError: z.string().nullable(),
      instancesOverCap: Count,
      nextEvalAt: Time,
    }),
    createdAt: Time,
    updatedAt: Time,
  })
  .meta({ id: 'AlertRule' });

export const RulesResponse = z.object({ rules: z.array(AlertRule) });
export const RuleResponse = z.object({ rule: AlertRule });
export const RulesExportResponse = z.object({ rules: z.array(RuleInput) });
/** src/alerts/apply-rules.ts ApplyResult: the keys of the rules, by what happened to them. */
export const ApplyRulesResponse = z.object({
  created: z.array(z.string()),
  changed: z.array(z.string()),
  unchanged: z.array(z.string()),
  removed: z.array(z.string()),
});

/** src/alerts/preview-rule.ts RulePreview: a rule's evaluations over a past range, nothing written. */
const PreviewState = z.enum(['inactive', 'pending', 'firing', 'resolved']);
export const RulePreview = z
  .object({
    from: Time,
    to: Time,
    interval: z.string(),
    /** Evaluation times, in order; each series has one value and one state per step. */
    steps: z.array(Time),
    series: z.array(
      z.object({
        /** The labels the instance would carry (group labels, the rule's labels, alertname, severity). */
        labels: Labels,
        values: z.array(z.number().nullable()),
        states: z.array(PreviewState),
      }),
    ),
    /** Series beyond the first 50 left out of `series` (those with transitions come first). */
    seriesOmitted: Count,
    transitions: z.array(
      z.object({
        labels: Labels,
        from: PreviewState,
        to: PreviewState,
        at: Time,
        severity: Severity,
        value: z.number().nullable(),
        threshold: z.number().nullable(),
        reason: z.string(),
      }),
    ),
    summary: z.object({
      evaluations: Count,
      series: Count,
      fired: Count,
      resolved: Count,
      /** One per firing and one per resolve: what a route without grouping would send (grouping, silences and inhibition send fewer). */
      notifications: Count,
      overCap: Count,
      activeAtEnd: Count,
    }),
  })
  .meta({ id: 'AlertRulePreview' });
export const RulePreviewResponse = z.object({ preview: RulePreview });

// ---- silences (src/alerts/list-silences.ts: toSilenceView)

export const Silence = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    /** Alertmanager matcher strings (`env=~"prod|staging"`). */
    matchers: z.array(z.string()),
    startsAt: Time,
    endsAt: Time,
    comment: z.string(),
    createdBy: z.string().nullable(),
    createdAt: Time,
    updatedAt: Time,
    state: z.enum(['pending', 'active', 'expired']),
  })
  .meta({ id: 'AlertSilence' });
export const SilenceResponse = z.object({ silence: Silence });
export const SilencesResponse = z.object({ silences: z.array(Silence) });

// ---- notification policy (src/alerts/get-policy.ts: toPolicyView)

export const PolicyResponse = z
  .object({
    projectId: z.uuid(),
    /** The document as it was sent (Alertmanager's route, inhibit_rules, time_intervals); null when none is set. */
    policy: z.record(z.string(), z.unknown()).nullable(),
    updatedAt: Time.nullable(),
    updatedBy: z.string().nullable(),
  })
  .meta({ id: 'NotificationPolicy' });

// ---- contact points (src/alerts/contact-point-views.ts: toContactPointView)

export const ContactPoint = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    organizationId: z.uuid(),
    name: z.string(),
    kind: z.enum(CONTACT_KINDS),
    /** In full to owners and admins; to other readers every URL reduced to its origin. */
    settings: z.record(z.string(), z.unknown()),
    hasSecret: z.boolean(),
    sendResolved: z.boolean(),
    /** False once a receiver answered 410 Gone (or a user disabled it). */
    enabled: z.boolean(),
    disabledAt: Time.nullable(),
    disabledReason: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: Time,
    updatedAt: Time,
  })
  .meta({ id: 'ContactPoint' });
export const ContactPointResponse = z.object({ contactPoint: ContactPoint });
export const CreatedContactPointResponse = z.object({
  contactPoint: ContactPoint,
  /** A webhook's generated signing secret (Standard Webhooks `whsec_...`), shown once. */
  secret: z.string().optional(),
});
export const ContactPointsResponse = z.object({ contactPoints: z.array(ContactPoint) });

/** src/net/delivery.ts DeliveryResult: a failed delivery is still a 200, with the reason. */
export const DeliveryResult = z
  .union([
    z.object({ ok: z.literal(true), status: z.number().int().nullable(), detail: z.string().optional() }),
    z.object({
      ok: z.literal(false),
      retryable: z.boolean(),
      status: z.number().int().nullable(),
      retryAfterMs: z.number().nullable(),
      error: z.string(),
      disable: z.boolean().optional(),
    }),
  ])
  .meta({ id: 'DeliveryResult' });
export const ContactPointTestResponse = z.object({ result: DeliveryResult });

// ---- state: instances, history, groups, notifications

/** src/alerts/list-instances.ts toInstanceView. */
export const AlertInstance = z
  .object({
    fingerprint: z.string(),
    projectId: z.uuid(),
    ruleId: z.uuid().nullable(),
    source: z.enum(['rule', 'external']),
    labels: Labels,
    annotations: Labels,
    state: z.enum(['pending', 'firing', 'resolved']),
    severity: Severity,
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    reason: z.string().nullable(),
    activeAt: Time,
    firedAt: Time.nullable(),
    resolvedAt: Time.nullable(),
    lastEvalAt: Time,
    endsAt: Time.nullable(),
    flapping: z.boolean(),
    generatorUrl: z.string().nullable(),
  })
  .meta({ id: 'AlertInstance' });
export const InstancesResponse = z.object({ instances: z.array(AlertInstance) });

/** src/alerts/list-history.ts toTransitionView: in the history, and as the alert stream's `transition` event. */
export const AlertTransition = z
  .object({
    id: z.string(),
    projectId: z.uuid(),
    ruleId: z.uuid().nullable(),
    fingerprint: z.string(),
    labels: Labels,
    fromState: z.string(),
    toState: z.string(),
    severity: Severity,
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    reason: z.string(),
    at: Time,
  })
  .meta({ id: 'AlertTransition' });
export const HistoryResponse = z.object({
  transitions: z.array(AlertTransition),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: z.string().nullable(),
});

/** src/alerts/list-groups.ts. */
export const AlertGroup = z
  .object({
    groupKey: z.string(),
    projectId: z.uuid(),
    routeId: z.string(),
    receiver: z.string(),
    groupLabels: Labels,
    firstSeenAt: Time,
    nextFlushAt: Time,
    lastNotifiedAt: Time.nullable(),
    notifiedFiring: z.array(z.string()),
    seq: z.number().int(),
  })
  .meta({ id: 'AlertGroup' });
export const GroupsResponse = z.object({ groups: z.array(AlertGroup) });

/** src/alerts/list-notifications.ts toNotificationView. */
const notificationShape = {
  id: z.uuid(),
  projectId: z.uuid(),
  contactPointId: z.uuid(),
  receiver: z.string(),
  groupKey: z.string(),
  seq: z.number().int(),
  status: z.enum(['pending', 'sending', 'sent', 'failed', 'dropped']),
  firingCount: Count,
  resolvedCount: Count,
  attempts: Count,
  nextAttemptAt: Time,
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  sentAt: Time.nullable(),
  createdAt: Time,
};
export const AlertNotification = z.object(notificationShape).meta({ id: 'AlertNotification' });
export const NotificationsResponse = z.object({ notifications: z.array(AlertNotification), nextCursor: z.string().nullable() });
export const NotificationResponse = z.object({ notification: AlertNotification });

/**
 * src/alerts/model.ts Notification: what was handed to the contact point's notifier, as stored when
 * it was created. Only id, status and alerts are promised: a row keeps the payload of its day, so
 * fields added to Notification since are absent from older rows.
 */
const NotificationPayload = z
  .object({
    id: z.string(),
    status: z.enum(['firing', 'resolved']),
    alerts: z.array(
      z.object({
        fingerprint: z.string(),
        status: z.enum(['firing', 'resolved']),
        labels: Labels,
        annotations: Labels,
        startsAt: z.string(),
        endsAt: z.string().nullable(),
        value: z.number().nullable(),
        url: z.string().nullable(),
      }),
    ),
    groupKey: z.string().optional(),
    receiver: z.string().optional(),
    groupLabels: Labels.optional(),
    commonLabels: Labels.optional(),
    commonAnnotations: Labels.optional(),
    truncatedAlerts: Count.optional(),
    externalUrl: z.string().nullable().optional(),
    project: z.object({ id: z.string(), name: z.string() }).optional(),
    createdAt: z.string().optional(),
    folded: Count.optional(),
    actions: z.array(z.object({ label: z.string(), url: z.string() })).optional(),
  })
  .meta({ id: 'AlertNotificationPayload' });

/** src/alerts/get-notification.ts: the log entry with its payload and every delivery attempt. */
export const NotificationDetailResponse = z.object({
  notification: z.object({
    ...notificationShape,
    payload: NotificationPayload,
    attemptLog: z.array(
      z.object({
        attempt: z.number().int(),
        startedAt: Time,
        durationMs: z.number(),
        ok: z.boolean(),
        statusCode: z.number().int().nullable(),
        error: z.string().nullable(),
      }),
    ),
  }),
});

// ---- streams and the Alertmanager API

export const ALERT_STREAM_EVENTS = {
  description:
    'Server-sent events: `ready`, `transition` (data: an AlertTransition as JSON, id: its id; resume with Last-Event-ID or lastId), heartbeats as comments, `error`, and `end` (data: the reason) before the stream closes.',
  content: { 'text/event-stream': undefined },
} as const;

/** Alertmanager's v2 API answers an accepted batch with an empty 200. */
export const ALERTMANAGER_ACCEPTED = { description: 'Every alert was stored (an empty body, as Alertmanager answers)' } as const;
