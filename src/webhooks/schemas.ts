import { z } from 'zod';
import { EVENT_TYPE_NAMES, EventTypeFilters } from './events.ts';

/** Bounds of the webhooks API (documented in docs/API.md). */
export const WEBHOOK_LIMITS = {
  /** Endpoints one listing returns at most (a user may see many organizations). */
  endpointsListed: 1000,
  messagesPageMax: 500,
  /** How long a rotated secret may keep signing. */
  maxGraceSeconds: 7 * 86_400,
  defaultGraceSeconds: 86_400,
  /** How far back `recover` replays failed messages. */
  recoverMaxAgeMs: 30 * 86_400_000,
} as const;

export const IdParams = z.object({ id: z.uuid() });

const Url = z.string().trim().min(1, 'must not be empty').max(2048, 'must be at most 2048 characters');
const Description = z.string().max(500, 'must be at most 500 characters');
const RateLimit = z.number().int('must be a whole number').min(1).max(1000);
const Time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

export const CreateEndpoint = z.strictObject({
  /** The project whose events it receives (default: the API key's project). */
  projectId: z.uuid().optional(),
  /** Without projectId: an organization endpoint (the organization's own events and every project's). */
  organizationId: z.uuid().optional(),
  url: Url,
  description: Description.default(''),
  eventTypes: EventTypeFilters,
  rateLimitPerSecond: RateLimit.nullable().default(null),
  enabled: z.boolean().default(true),
});
export type CreateEndpoint = z.output<typeof CreateEndpoint>;

/** PATCH: `rateLimitPerSecond: null` clears the limit; `enabled: true` clears a disable (410 Gone, 5 days failing, or a user's). */
export const UpdateEndpoint = z
  .strictObject({
    url: Url.optional(),
    description: Description.optional(),
    eventTypes: EventTypeFilters.optional(),
    rateLimitPerSecond: RateLimit.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((u) => Object.values(u).some((v) => v !== undefined), 'give at least one field to change');
export type UpdateEndpoint = z.output<typeof UpdateEndpoint>;

export const RotateSecret = z.strictObject({
  /** How long the old secret keeps signing too (0: it stops at once). */
  graceSeconds: z.number().int('must be a whole number of seconds').min(0).max(WEBHOOK_LIMITS.maxGraceSeconds).default(WEBHOOK_LIMITS.defaultGraceSeconds),
});
export type RotateSecret = z.output<typeof RotateSecret>;

export const TestEndpoint = z.strictObject({
  /** The event type the test stands in for (named in its message); the event sent is always `webhook.test`. */
  eventType: z
    .string()
    .refine((t) => EVENT_TYPE_NAMES.includes(t), 'unknown event type; see GET /functions/v1/webhooks/event-types')
    .optional(),
});
export type TestEndpoint = z.output<typeof TestEndpoint>;

export const EndpointsQuery = z.strictObject({ projectId: z.uuid().optional(), organizationId: z.uuid().optional() });
export type EndpointsQuery = z.output<typeof EndpointsQuery>;

export const MESSAGE_STATUSES = ['pending', 'sending', 'delivered', 'failed'] as const;

export const MessagesQuery = z.strictObject({
  status: z.enum(MESSAGE_STATUSES).optional(),
  /** Messages created at or after this time. */
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(WEBHOOK_LIMITS.messagesPageMax).default(100),
  cursor: z.string().max(500).optional(),
});
export type MessagesQuery = z.output<typeof MessagesQuery>;

export const RecoverMessages = z.strictObject({ since: Time });
export type RecoverMessages = z.output<typeof RecoverMessages>;
