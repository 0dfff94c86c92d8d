import { z } from 'zod';
import { compileSearch, SearchSyntaxError } from '../logs/search-syntax.ts';
import { LOG_LEVELS } from '../logs/schemas.ts';
import { SeriesQuery, TagFilter } from '../metrics/schemas.ts';
import { ServiceStatsQuery } from '../traces/schemas.ts';
import { formatDuration, parseDuration } from './durations.ts';
import { Matchers } from './matchers.ts';
import { PolicyDocument } from './routing.ts';
import { TemplateMap } from './templates.ts';

/** Bounds that keep one project's alerting cheap to evaluate (documented in docs/API.md). */
export const ALERT_LIMITS = {
  rulesPerProject: 1000,
  rulesPerApply: 1000,
  labelsPerRule: 32,
  silencesPerProject: 1000,
  contactPointsPerProject: 200,
  historyPageMax: 500,
} as const;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const LabelName = z.string().regex(LABEL_NAME, 'must be a label name: letters, digits and _, not starting with a digit').max(100);
export const LabelSet = z
  .record(LabelName, z.string().max(1024))
  .refine((l) => Object.keys(l).length <= ALERT_LIMITS.labelsPerRule, `at most ${ALERT_LIMITS.labelsPerRule} labels`);

/** A Prometheus duration (`30s`, `5m`, `1h30m`) in milliseconds, within bounds. */
export const DurationText = (min: number, max: number) =>
  z.string().transform((v, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be between ${min / 1000}s and ${max / 1000}s` });
      return z.NEVER;
    }
    return ms;
  });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const Comparison = z.enum(['>', '>=', '<', '<=']);
export type Comparison = z.infer<typeof Comparison>;

/** Thresholds on one value: critical beats warning; at least one. */
export const Thresholds = z
  .strictObject({ op: Comparison, critical: z.number().finite().optional(), warning: z.number().finite().optional() })
  .refine((t) => t.critical !== undefined || t.warning !== undefined, 'give a critical or a warning threshold (or both)')
  .refine(
    (t) => t.critical === undefined || t.warning === undefined || (t.op.startsWith('>') ? t.warning <= t.critical : t.warning >= t.critical),
    { message: 'the warning threshold must be reached before the critical one', path: ['warning'] },
  );
export type Thresholds = z.infer<typeof Thresholds>;

export const REDUCERS = ['avg', 'min', 'max', 'last', 'sum'] as const;

/** A metrics query (the metrics query API's fields) reduced over a trailing window to one value per group. */
const MetricQuery = z.strictObject({
  metric: SeriesQuery.shape.metric,
  filters: z.array(TagFilter).max(20).default([]),
  groupBy: z.array(z.string().min(1).max(100)).max(5).default([]),
  aggregation: z.enum(['avg', 'sum', 'min', 'max', 'count', 'p50', 'p90', 'p95', 'p99', 'rate']).optional(),
  window: DurationText(MINUTE, DAY).default(5 * MINUTE),
  reducer: z.enum(REDUCERS).default('avg'),
});

const NoDataQuery = z.strictObject({
  metric: SeriesQuery.shape.metric,
  filters: z.array(TagFilter).max(20).default([]),
  groupBy: z.array(z.string().min(1).max(100)).max(5).default([]),
  /** Silent for longer than this fires. */
  window: DurationText(MINUTE, DAY).default(10 * MINUTE),
  /** How far back a series group must have reported to be expected. */
  lookback: DurationText(HOUR, 7 * DAY).default(DAY),
});

const AnomalyQuery = z.strictObject({
  /** Episodes of this metric; absent: every metric. */
  metric: SeriesQuery.shape.metric.optional(),
  /** Series whose tags contain all of these. */
  tags: z.record(z.string().min(1).max(100), z.string().max(1000)).default({}),
  minScore: z.number().min(0).max(1000).default(0),
});

/** Attribute equality conditions a log rule takes at most (as log search does). */
const MAX_LOG_RULE_ATTRIBUTES = 10;

/**
 * A log search (the search syntax and filters of GET /logs) counted over a trailing window: the value
 * is the number of matching lines, per service or per attribute value (`attr.<key>`). The search text
 * is compiled here, so a query the search would refuse is a 400 when the rule is saved.
 */
const LogQuery = z.strictObject({
  q: z
    .string()
    .max(1000)
    .superRefine((q, ctx) => {
      if (q.trim() === '') return;
      try {
        compileSearch(q);
      } catch (err) {
        if (!(err instanceof SearchSyntaxError)) throw err;
        ctx.addIssue({ code: 'custom', message: `not a valid log search: ${err.message}` });
      }
    })
    .optional(),
  levels: z.array(z.enum(LOG_LEVELS)).min(1).max(LOG_LEVELS.length).optional(),
  services: z.array(z.string().min(1).max(200)).min(1).max(50).optional(),
  /** Attribute equality, looked up as search does (the line's attributes, then its resource). */
  attributes: z
    .record(z.string().min(1).max(200), z.string().max(1000))
    .refine((a) => Object.keys(a).length <= MAX_LOG_RULE_ATTRIBUTES, `at most ${MAX_LOG_RULE_ATTRIBUTES} attribute conditions`)
    .default({}),
  window: DurationText(MINUTE, DAY).default(5 * MINUTE),
  /** One value (and instance) per service, or per value of an attribute; absent: one for the whole search. */
  groupBy: z.union([z.literal('service'), z.string().regex(/^attr\..{1,200}$/, "must be 'service' or 'attr.<key>'")]).optional(),
});

export const TRACE_MEASURES = ['error_ratio', 'p50', 'p95', 'p99', 'requests'] as const;

/**
 * Span statistics of the trace statistics API (GET /traces/services) over a trailing window: one value
 * per service, or per operation of one service. Groups with fewer than minRequests spans give no value
 * for the ratio and the percentiles (too few to judge); `requests` is judged whatever its count.
 */
const TraceQuery = z
  .strictObject({
    service: z.string().min(1).max(200).optional(),
    /** Only this operation (span name) of the service. */
    operation: z.string().min(1).max(200).optional(),
    kind: ServiceStatsQuery.shape.kind,
    window: DurationText(MINUTE, DAY).default(5 * MINUTE),
    /** error_ratio: errors / requests (0..1); p50/p95/p99: span duration in ms; requests: span count. */
    measure: z.enum(TRACE_MEASURES),
    minRequests: z.number().int().min(1).max(1_000_000_000).default(1),
  })
  .refine((q) => q.operation === undefined || q.service !== undefined, { message: 'requires service', path: ['operation'] });

const common = {
  key: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.:-]{0,127}$/, 'must be 1-128 letters, digits, _ . : - (starting with a letter or digit)'),
  name: z.string().min(1).max(200),
  severity: z.enum(['critical', 'warning', 'info']).default('critical'),
  labels: LabelSet.default({}),
  annotations: TemplateMap.default({}),
  for: DurationText(0, DAY).default(0),
  keepFiringFor: DurationText(0, DAY).default(0),
  // The evaluator runs every minute (pg_cron's finest schedule), so a rule can ask for no less.
  interval: DurationText(MINUTE, DAY).default(MINUTE),
  /** How long to wait for late data: the window ends this long before the evaluation. */
  delay: DurationText(0, HOUR).default(0),
  maxInstances: z.number().int().min(1).max(100_000).default(1000),
  enabled: z.boolean().default(true),
};

export const RuleSpec = z.discriminatedUnion('kind', [
  z.strictObject({ ...common, kind: z.literal('metric'), query: MetricQuery, condition: Thresholds }),
  z.strictObject({ ...common, kind: z.literal('nodata'), query: NoDataQuery }),
  z.strictObject({ ...common, kind: z.literal('anomaly'), query: AnomalyQuery }),
  z.strictObject({ ...common, kind: z.literal('log'), query: LogQuery, condition: Thresholds }),
  z.strictObject({ ...common, kind: z.literal('trace'), query: TraceQuery, condition: Thresholds }),
]);
export type RuleSpec = z.output<typeof RuleSpec>;
export type RuleKind = RuleSpec['kind'];

export const CreateRule = z.strictObject({ projectId: z.uuid().optional(), rule: RuleSpec });
/** Rules as code: the whole set of a project's rules, applied by key (created, changed, and with prune, removed). */
export const ApplyRules = z.strictObject({
  projectId: z.uuid().optional(),
  rules: z.array(RuleSpec).max(ALERT_LIMITS.rulesPerApply),
  /** Remove the project's rules whose key is not in `rules`. */
  prune: z.boolean().default(false),
});
export type ApplyRules = z.output<typeof ApplyRules>;

export const RuleParams = z.object({ id: z.uuid() });
export const ProjectQuery = z.strictObject({ projectId: z.uuid().optional() });

const Time = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

export const InstancesQuery = z.strictObject({
  projectId: z.uuid().optional(),
  state: z.enum(['pending', 'firing', 'resolved']).optional(),
  ruleId: z.uuid().optional(),
  /** Alertmanager matcher syntax: `{severity="critical", service=~"api|web"}`. */
  filter: z.string().max(2000).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});
export type InstancesQuery = z.output<typeof InstancesQuery>;

export const HistoryQuery = z.strictObject({
  projectId: z.uuid().optional(),
  ruleId: z.uuid().optional(),
  fingerprint: z.string().regex(/^[0-9a-f]{16,64}$/).optional(),
  to_state: z.enum(['pending', 'firing', 'resolved', 'inactive']).optional(),
  from: Time.optional(),
  to: Time.optional(),
  limit: z.coerce.number().int().min(1).max(ALERT_LIMITS.historyPageMax).default(100),
  cursor: z.string().max(500).optional(),
});
export type HistoryQuery = z.output<typeof HistoryQuery>;

export const CreateSilence = z
  .strictObject({
    projectId: z.uuid().optional(),
    matchers: Matchers,
    startsAt: Time.optional(),
    endsAt: Time,
    comment: z.string().min(1).max(2000),
  })
  .refine((s) => s.startsAt === undefined || s.endsAt > s.startsAt, { message: 'must be after startsAt', path: ['endsAt'] });
export type CreateSilence = z.output<typeof CreateSilence>;

export const SilencesQuery = z.strictObject({
  projectId: z.uuid().optional(),
  state: z.enum(['active', 'pending', 'expired']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export type SilencesQuery = z.output<typeof SilencesQuery>;

export const IdParams = z.object({ id: z.uuid() });

export const NotificationsQuery = z.strictObject({
  projectId: z.uuid().optional(),
  status: z.enum(['pending', 'sending', 'sent', 'failed', 'dropped']).optional(),
  contactPointId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(500).optional(),
});
export type NotificationsQuery = z.output<typeof NotificationsQuery>;

/** Kinds whose rules compare a value with thresholds (a `condition`); the others fire on what their query finds. */
export const hasThresholds = (kind: RuleKind): boolean => kind === 'metric' || kind === 'log' || kind === 'trace';

/**
 * A rule's query and condition as stored in alert_rules (and exported): the API's input shape, with
 * durations as canonical text (`5m`), so the stored form parses again through RuleSpec (the evaluator
 * does so) and an export applies as a no-op.
 */
export function storedQuery(spec: RuleSpec): { query: Record<string, unknown>; condition: Record<string, unknown> } {
  const q: Record<string, unknown> = { ...spec.query };
  for (const k of ['window', 'lookback'] as const) if (typeof q[k] === 'number') q[k] = formatDuration(q[k] as number);
  return { query: q, condition: 'condition' in spec ? { ...spec.condition } : {} };
}

/** PUT /rules/:id: the whole rule again (its key may not change: the key is its name in rules-as-code files). */
export const UpdateRule = z.strictObject({ rule: RuleSpec });
export type UpdateRule = z.output<typeof UpdateRule>;
export type CreateRule = z.output<typeof CreateRule>;

// ---- notification policy and contact points (src/alerts/put-policy.ts, create-contact-point.ts, ...)

/**
 * PUT /policy: the document is validated by routing.ts's PolicyDocument and stored as it was sent
 * (`raw`), so GET gives back the user's own text (durations as `5m`, matchers as strings) and the
 * dispatcher parses the stored form through the same schema.
 */
export const PutPolicy = z.strictObject({
  projectId: z.uuid().optional(),
  policy: z.unknown().transform((raw, ctx) => {
    const parsed = PolicyDocument.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return z.NEVER;
    }
    return { raw: raw as Record<string, unknown>, parsed: parsed.data };
  }),
});
export type PutPolicy = z.output<typeof PutPolicy>;

export const CONTACT_KINDS = ['webhook', 'slack', 'pagerduty', 'alertmanager', 'email', 'oncall', 'sms', 'voice'] as const;

/** A receiver name routes refer to (several contact points may share one: each gets the notification). */
const ContactPointName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');
/** Checked against the kind's own schema by the verb (src/alerts/contact-point-views.ts), which knows the kind. */
const ContactSettings = z.record(z.string(), z.unknown());
const ContactSecret = z.string().min(1).max(4096);

export const CreateContactPoint = z.strictObject({
  projectId: z.uuid().optional(),
  name: ContactPointName,
  kind: z.enum(CONTACT_KINDS),
  settings: ContactSettings.default({}),
  /** Sealed at rest, never returned; a webhook without one gets a generated signing secret, shown once. */
  secret: ContactSecret.optional(),
  sendResolved: z.boolean().default(true),
});
export type CreateContactPoint = z.output<typeof CreateContactPoint>;

/** PATCH: settings replace the old ones whole; `secret: null` removes an optional secret; `enabled: true` clears a disable (410 Gone). */
export const UpdateContactPoint = z
  .strictObject({
    name: ContactPointName.optional(),
    settings: ContactSettings.optional(),
    secret: ContactSecret.nullable().optional(),
    sendResolved: z.boolean().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((u) => Object.values(u).some((v) => v !== undefined), 'give at least one field to change');
export type UpdateContactPoint = z.output<typeof UpdateContactPoint>;

/** One alert of an Alertmanager API v2 POST /api/v2/alerts body (openapi.yaml's postableAlert). */
export const PostableAlert = z.strictObject({
  labels: LabelSet.refine((l) => Object.keys(l).length > 0, 'must hold at least one label'),
  annotations: z
    .record(z.string().min(1).max(100), z.string().max(16_384))
    .refine((a) => Object.keys(a).length <= 64, 'at most 64 annotations')
    .default({}),
  startsAt: z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)).optional(),
  endsAt: z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)).optional(),
  generatorURL: z.string().max(2048).optional(),
});
export type PostableAlert = z.output<typeof PostableAlert>;

/** Alerts per request: Prometheus sends at most 64 (its default max batch size), vmalert similar. */
export const MAX_POSTED_ALERTS = 1000;
