import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { deliverMessagesNow } from './deliver-webhooks.ts';
import { findEndpoint } from './endpoint-views.ts';
import { findMessage, toMessageView } from './message-views.ts';
import type { TestEndpoint } from './schemas.ts';

/**
 * Sends a `webhook.test` event to one endpoint now (owners and admins: it makes the server call the
 * endpoint's URL). The event goes through the outbox like any other, with endpoint_id set so the
 * fan-out makes exactly one message, for this endpoint whatever its filter; it is then claimed and
 * sent at once, signed and recorded as the job would, once (a test-send is never retried, nor
 * replayed: send a new one). The answer is the message and the attempt's result: a failed delivery
 * is data to show, not an error of this request. One test a TEST_INTERVAL_MS per endpoint (429 with
 * Retry-After): a test makes the server call a URL, and that must not become a way to flood one.
 */
const TEST_INTERVAL_MS = 10_000;

export async function testEndpoint(deps: Pick<Deps, 'db' | 'logger' | 'clock' | 'config' | 'outbound'>, actor: Claims, id: string, input: TestEndpoint) {
  const now = deps.clock.now();
  const eventId = crypto.randomUUID();
  const messageId = await withClaims(deps.db, actor, async (tx) => {
    const ep = await findEndpoint(tx, id, { lock: true });
    if (ep.disabled_at !== null) {
      throw new AppError('BAD_REQUEST', 'The endpoint is disabled: enable it first (PATCH it with {"enabled": true}), then send the test');
    }
    const message = `A test event from ObservAI Hub to check that this endpoint receives and verifies webhooks${
      input.eventType ? ` (standing in for ${input.eventType})` : ''
    }. Nothing happened; nothing needs to be done.`;
    // As private.webhook_payload builds it: {type, timestamp, data}.
    const payload = { type: 'webhook.test', timestamp: now.toISOString(), data: { id: eventId, endpointId: ep.id, message } };
    // The outbox and the delivery state are the service role's; the caller's claims found the endpoint above.
    return asServiceRoleWithin(tx, actor, async () => {
      const [last] = await tx.query<{ at: Date }>(
        `select max(created_at) as at from public.webhook_events where endpoint_id = $1 and type = 'webhook.test'`,
        [ep.id],
      );
      const wait = last?.at ? new Date(last.at).getTime() + TEST_INTERVAL_MS - now.getTime() : 0;
      if (wait > 0) {
        throw new AppError('RATE_LIMITED', `One test a ${TEST_INTERVAL_MS / 1000} s per endpoint; try again in ${Math.ceil(wait / 1000)} s`, {
          headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
        });
      }
      await tx.query(
        `insert into public.webhook_events (id, organization_id, project_id, endpoint_id, type, payload)
         values ($1, $2, $3, $4, 'webhook.test', $5::text::jsonb)`,
        [eventId, ep.organization_id, ep.project_id, ep.id, JSON.stringify(payload)],
      );
      const [m] = await tx.query<{ id: string }>('select id from public.webhook_messages where event_id = $1 and endpoint_id = $2', [eventId, ep.id]);
      return m!.id;
    });
  });
  const [sent] = await deliverMessagesNow(deps, [messageId]);
  const row = await withClaims(deps.db, actor, (tx) => findMessage(tx, messageId));
  const result = sent?.result ?? { ok: false, status: null, error: 'The test message was not sent: another delivery had already claimed it' };
  return {
    message: toMessageView(row),
    result: { ok: result.ok, status: result.status, ...(!result.ok ? { error: result.error } : {}) },
  };
}
