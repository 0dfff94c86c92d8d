/**
 * The webhook event catalogue: every type the outbox can hold, what causes it, and the schema of its
 * `data`. The events themselves are written by triggers in the migration (20261206001000_webhooks),
 * in the transaction of the change that causes them; this file is what the API validates filters
 * against and publishes (`GET /webhooks/event-types`, with JSON Schemas), and what the tests hold
 * the triggers' payloads to.
 *
 * Every message's body is `{ type, timestamp, data }`, at most 20,000 bytes: larger `data` is sent by
 * reference, `{ id, truncated: true, link }` (`link` an API path that returns the whole object).
 */
import { z } from 'zod';

const Iso = z.string().describe('ISO 8601 time, UTC');
const Uuid = z.string().uuid();

const AlertData = z.object({
  id: z.string().describe('the alert history entry (transition) id'),
  ruleId: Uuid.nullable().describe('null for alerts received through the Alertmanager API'),
  fingerprint: z.string(),
  labels: z.record(z.string(), z.string()),
  status: z.enum(['firing', 'resolved']),
  previousStatus: z.enum(['inactive', 'pending', 'firing', 'resolved']),
  severity: z.enum(['critical', 'warning', 'info']),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  reason: z.string(),
  at: Iso,
});

const EpisodeData = z.object({
  id: Uuid,
  projectId: Uuid,
  seriesId: z.number(),
  metric: z.string(),
  detector: z.string(),
  status: z.enum(['open', 'closed']),
  startedAt: Iso,
  endedAt: Iso.nullable(),
  peakScore: z.number(),
  peakAt: Iso,
  explanation: z.record(z.string(), z.unknown()),
});

const ExportData = z.object({
  id: Uuid,
  projectId: Uuid,
  destinationId: Uuid,
  scheduleId: Uuid.nullable(),
  signal: z.enum(['logs', 'spans']),
  from: Iso,
  to: Iso,
  status: z.enum(['succeeded', 'failed']),
  rows: z.number(),
  bytes: z.number(),
  files: z.number(),
  error: z.string().nullable(),
});

const ApiKeyData = z.object({
  id: Uuid,
  projectId: Uuid,
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.enum(['ingest', 'read', 'admin'])),
  expiresAt: Iso.nullable(),
  revokedAt: Iso.nullable(),
  createdBy: Uuid.nullable(),
});

const MemberData = z.object({
  id: Uuid.describe('the user id'),
  organizationId: Uuid,
  userId: Uuid,
  role: z.enum(['owner', 'admin', 'member', 'viewer']),
});

const EndpointDisabledData = z.object({
  id: Uuid,
  projectId: Uuid.nullable(),
  url: z.string().describe("the endpoint URL's origin (scheme, host, port)"),
  reason: z.string(),
  disabledAt: Iso,
});

const QuotaWarningData = z.object({
  id: z.string().describe('<organization>:<period>:<signal>:<threshold>: the same warning is never sent twice'),
  organizationId: Uuid,
  period: z.string().describe('the billing period, YYYY-MM (UTC calendar month)'),
  signal: z.enum(['metrics', 'logs', 'traces']),
  threshold: z.union([z.literal(80), z.literal(100)]).describe('percent of the monthly limit reached'),
  used: z.number().describe("events metered this period when the warning was decided"),
  limit: z.number().describe("the plan's monthly limit for the signal"),
  policy: z.enum(['overage', 'block']).describe("past the limit: 'block' refuses ingest (429 QUOTA_EXCEEDED), 'overage' keeps accepting and bills it"),
});

const TestData = z.object({
  id: z.string(),
  endpointId: Uuid,
  message: z.string(),
});

export interface EventType {
  type: string;
  description: string;
  /** project: caused in a project (project and organization endpoints get it); organization: organization endpoints only. */
  scope: 'project' | 'organization';
  data: z.ZodType;
}

export const EVENT_TYPES: readonly EventType[] = [
  { type: 'alert.firing', scope: 'project', data: AlertData, description: 'An alert instance started firing (after its rule\'s `for`).' },
  { type: 'alert.resolved', scope: 'project', data: AlertData, description: 'A firing alert instance resolved.' },
  { type: 'anomaly.episode.opened', scope: 'project', data: EpisodeData, description: 'The anomaly scanner opened an episode on a series.' },
  { type: 'anomaly.episode.closed', scope: 'project', data: EpisodeData, description: 'An anomaly episode ended.' },
  { type: 'export.completed', scope: 'project', data: ExportData, description: 'An export run wrote all of its files.' },
  { type: 'export.failed', scope: 'project', data: ExportData, description: 'An export run failed for good.' },
  { type: 'api_key.created', scope: 'project', data: ApiKeyData, description: 'An API key was created (never its secret).' },
  { type: 'api_key.revoked', scope: 'project', data: ApiKeyData, description: 'An API key was revoked.' },
  { type: 'member.added', scope: 'organization', data: MemberData, description: 'A user joined the organization.' },
  { type: 'member.removed', scope: 'organization', data: MemberData, description: 'A user left or was removed from the organization.' },
  {
    type: 'webhook.endpoint.disabled',
    scope: 'project',
    data: EndpointDisabledData,
    description: 'The server disabled a webhook endpoint (it answered 410 Gone, or failed for 5 days); told to the other endpoints.',
  },
  {
    type: 'billing.quota_warning',
    scope: 'organization',
    data: QuotaWarningData,
    description: "An organization's usage of a signal reached 80 % or 100 % of its plan's monthly limit (once per threshold per period).",
  },
  { type: 'webhook.test', scope: 'project', data: TestData, description: 'A test-send: goes only to the endpoint it was sent to, whatever its filter.' },
];

export const EVENT_TYPE_NAMES: readonly string[] = EVENT_TYPES.map((e) => e.type);

/** Whether a filter (`*`, `prefix.*` or an exact type) takes a type: private.webhook_type_matches in SQL. */
export function filterMatches(filter: string, type: string): boolean {
  return filter === '*' || filter === type || (filter.endsWith('.*') && type.startsWith(filter.slice(0, -1)));
}

/** Filters an endpoint may subscribe with: each must match at least one catalogued type (else a typo). */
export const EventTypeFilters = z
  .array(z.string().trim().min(1).max(100))
  .min(1, 'subscribe to at least one event type (or "*")')
  .max(50)
  .superRefine((filters, ctx) => {
    for (const [i, f] of filters.entries()) {
      if (!/^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$/.test(f)) {
        ctx.addIssue({ code: 'custom', path: [i], message: `"${f}" is not an event type, "prefix.*" or "*"` });
      } else if (!EVENT_TYPE_NAMES.some((t) => filterMatches(f, t))) {
        ctx.addIssue({ code: 'custom', path: [i], message: `unknown event type "${f}"; see GET /functions/v1/webhooks/event-types` });
      }
    }
  })
  .transform((filters) => [...new Set(filters)]);

/** The catalogue as the API publishes it, with each data schema as JSON Schema. */
export function eventCatalogue() {
  return EVENT_TYPES.map((e) => ({ type: e.type, description: e.description, scope: e.scope, schema: z.toJSONSchema(e.data) }));
}
