import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';

import { findMessage, MESSAGE_COLUMNS, type MessageRow, toMessageView } from './message-views.ts';

/**
 * Sends a message again (owners and admins): pending, due now, its retry schedule restarted from
 * the attempts it has made (the log keeps every try), under the same webhook-id, which receivers
 * deduplicate. Refused while it is waiting or being sent (409: a replay is for a message that has
 * failed or was delivered, so replays cannot pile up faster than attempts), when its endpoint is disabled (enable it first)
 * and for a test-send (400: send a new test; a replayed test would prove nothing about the endpoint
 * now). The delivery state is the job's, so users hold no grant on it: the caller's claims find the
 * message, then the service role makes this one change in the same transaction.
 */
export async function replayMessage(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    const m = await findMessage(tx, id);
    if (m.event_type === 'webhook.test') throw new AppError('BAD_REQUEST', 'A test-send is not replayed; send a new test (POST /endpoints/:id/test)');
    if (!m.endpoint_enabled) throw new AppError('BAD_REQUEST', 'The endpoint is disabled: enable the endpoint first (PATCH it with {"enabled": true}), then replay');
    if (m.status === 'sending') throw new AppError('CONFLICT', 'The message is being sent right now; replay it once this attempt is recorded');
    if (m.status === 'pending') throw new AppError('CONFLICT', 'The message is already waiting to be sent (see nextAttemptAt)');
    const [updated] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<MessageRow>(
        `update public.webhook_messages m
         set status = 'pending', next_attempt_at = $2, schedule_from = m.attempts, last_error = null, lease_until = null
         where m.id = $1 and m.status in ('delivered', 'failed') returning ${MESSAGE_COLUMNS}`,
        [id, deps.clock.now()],
      ),
    );
    // Claimed by the job between the check and the update.
    if (!updated) throw new AppError('CONFLICT', 'The message is being sent right now; replay it once this attempt is recorded');
    return updated;
  });
  return toMessageView(row);
}
