import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { findEndpoint } from './endpoint-views.ts';
import { type RecoverMessages, WEBHOOK_LIMITS } from './schemas.ts';

/**
 * Replays every failed message of an endpoint created since `since` (at most 30 days back), as
 * replayMessage does one: after an outage on the receiver's side, everything it missed goes out
 * again under the same webhook-ids. Test-sends are not replayed. The endpoint must be enabled. Once
 * a minute per endpoint (429 with Retry-After): a recovery can queue a month of messages at once.
 */
const RECOVER_INTERVAL_MS = 60_000;

export async function recoverMessages(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, endpointId: string, input: RecoverMessages): Promise<{ replayed: number }> {
  const now = deps.clock.now();
  if (input.since.getTime() > now.getTime()) throw invalid('body.since', 'must not be in the future');
  if (input.since.getTime() < now.getTime() - WEBHOOK_LIMITS.recoverMaxAgeMs) throw invalid('body.since', 'must be within the last 30 days');
  return withClaims(deps.db, actor, async (tx) => {
    const ep = await findEndpoint(tx, endpointId, { lock: true });
    if (ep.disabled_at !== null) throw new AppError('BAD_REQUEST', 'The endpoint is disabled: enable the endpoint first (PATCH it with {"enabled": true}), then recover');
    return asServiceRoleWithin(tx, actor, async () => {
      const [last] = await tx.query<{ at: Date | null }>('select last_recovered_at as at from public.webhook_endpoints where id = $1', [endpointId]);
      const wait = last?.at ? new Date(last.at).getTime() + RECOVER_INTERVAL_MS - now.getTime() : 0;
      if (wait > 0) {
        throw new AppError('RATE_LIMITED', `One recovery a minute per endpoint; try again in ${Math.ceil(wait / 1000)} s`, {
          headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
        });
      }
      await tx.query('update public.webhook_endpoints set last_recovered_at = $2 where id = $1', [endpointId, now]);
      const rows = await tx.query<{ id: string }>(
        `update public.webhook_messages m
         set status = 'pending', next_attempt_at = $3, schedule_from = m.attempts, last_error = null, lease_until = null
         where m.endpoint_id = $1 and m.status = 'failed' and m.created_at >= $2 and m.event_type <> 'webhook.test'
         returning m.id`,
        [endpointId, input.since, now],
      );
      return { replayed: rows.length };
    });
  });
}
