import { z } from 'zod';
import { MESSAGE_STATUSES } from './schemas.ts';

/**
 * What the webhooks function answers (src/webhooks/http/routes.ts); the OpenAPI document is built
 * from these. Each follows the view named beside it (the HTTP tests check every answer against it).
 */

const Time = z.iso.datetime();
const Count = z.number().int().min(0);

/** src/webhooks/events.ts eventCatalogue. */
export const EventTypesResponse = z.object({
  eventTypes: z.array(
    z.object({
      type: z.string(),
      description: z.string(),
      /** Whether a project's endpoints receive it, or only its organization's. */
      scope: z.enum(['project', 'organization']),
      /** JSON Schema of the event's `data`. */
      schema: z.record(z.string(), z.unknown()),
    }),
  ),
});

/** src/webhooks/endpoint-views.ts toEndpointView: never a secret. */
export const WebhookEndpoint = z
  .object({
    id: z.uuid(),
    /** Null for an organization's endpoint. */
    projectId: z.uuid().nullable(),
    organizationId: z.uuid(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()),
    rateLimitPerSecond: z.number().int().nullable(),
    /** False once the endpoint answered 410 Gone, failed for 5 days, or a user disabled it. */
    enabled: z.boolean(),
    disabledAt: Time.nullable(),
    disabledReason: z.string().nullable(),
    failingSince: Time.nullable(),
    /** While a rotated-out secret still signs. */
    secretRotation: z.object({ previousExpiresAt: Time }).nullable(),
    createdBy: z.string().nullable(),
    createdAt: Time,
    updatedAt: Time,
  })
  .meta({ id: 'WebhookEndpoint' });

export const EndpointResponse = z.object({ endpoint: WebhookEndpoint });
export const EndpointsResponse = z.object({ endpoints: z.array(WebhookEndpoint) });
/** Creation and rotation: the signing secret (`whsec_...`), returned this once. */
export const EndpointWithSecretResponse = z.object({ endpoint: WebhookEndpoint, secret: z.string() });

/** src/webhooks/message-views.ts toMessageView. */
const messageShape = {
  id: z.uuid(),
  endpointId: z.uuid(),
  /** The `webhook-id` header of every attempt. */
  eventId: z.string(),
  eventType: z.string(),
  status: z.enum(MESSAGE_STATUSES),
  attempts: Count,
  /** When the next attempt is due (pending messages). */
  nextAttemptAt: Time.nullable(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: Time.nullable(),
  createdAt: Time,
  updatedAt: Time,
};
export const WebhookMessage = z.object(messageShape).meta({ id: 'WebhookMessage' });

export const MessagesResponse = z.object({
  messages: z.array(WebhookMessage),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: z.string().nullable(),
});
export const MessageResponse = z.object({ message: WebhookMessage });

/** src/webhooks/get-message.ts: the message with its event's payload and every attempt. */
export const MessageDetailResponse = z.object({
  message: z.object({
    ...messageShape,
    /** The body every attempt sent: `{type, timestamp, data}`. */
    payload: z.unknown(),
    attemptLog: z.array(
      z.object({
        attempt: z.number().int(),
        startedAt: Time,
        durationMs: z.number(),
        ok: z.boolean(),
        statusCode: z.number().int().nullable(),
        error: z.string().nullable(),
        /** The receiver's answer, truncated. */
        responseBody: z.string().nullable(),
      }),
    ),
  }),
});

/** src/webhooks/test-endpoint.ts: the message and how its one delivery went (a failure is still a 200). */
export const TestEndpointResponse = z.object({
  message: WebhookMessage,
  result: z.object({ ok: z.boolean(), status: z.number().int().nullable(), error: z.string().optional() }),
});

export const RecoverResponse = z.object({ replayed: Count });
