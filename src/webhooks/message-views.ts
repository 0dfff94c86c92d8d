/**
 * What the message verbs share: the delivery state users may read (not the job's lease) and its view,
 * and the fetch-or-404 lookup under the caller's claims.
 */
import { notFound } from '../core/errors.ts';
import { toIso as iso } from '../core/time.ts';
import type { Queryable } from '../db/types.ts';

/** A message's columns for users (not lease_until: that is the job's), with its time in exact microseconds for paging. */
export const MESSAGE_COLUMNS = `m.id, m.endpoint_id, m.event_id, m.event_type, m.status, m.attempts, m.next_attempt_at, m.last_status, m.last_error,
  m.delivered_at, m.created_at, m.updated_at, (extract(epoch from m.created_at) * 1000000)::int8::text as us`;

export interface MessageRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'sending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
  updated_at: Date;
  us: string;
}

/** A message: one event to one endpoint. Its id is not the webhook-id; the event's is (`eventId`). */
export const toMessageView = (r: MessageRow) => ({
  id: r.id,
  endpointId: r.endpoint_id,
  /** The `webhook-id` header of every attempt: the same on retries and replays (the receiver's idempotency key). */
  eventId: r.event_id,
  eventType: r.event_type,
  status: r.status,
  attempts: r.attempts,
  /** When the next attempt is due (pending messages). */
  nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
  lastStatus: r.last_status,
  lastError: r.last_error,
  deliveredAt: iso(r.delivered_at),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});
export type MessageView = ReturnType<typeof toMessageView>;

/** The message under the caller's claims (with whether its endpoint is enabled), or 404. */
export async function findMessage(tx: Queryable, id: string): Promise<MessageRow & { endpoint_enabled: boolean }> {
  const [row] = await tx.query<MessageRow & { endpoint_enabled: boolean }>(
    `select ${MESSAGE_COLUMNS}, e.disabled_at is null as endpoint_enabled
     from public.webhook_messages m join public.webhook_endpoints e on e.id = m.endpoint_id where m.id = $1`,
    [id],
  );
  if (!row) throw notFound('Webhook message');
  return row;
}
