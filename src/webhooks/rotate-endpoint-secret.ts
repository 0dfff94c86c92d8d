import type { Deps } from '../core/deps.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { generateWebhookSecret } from '../net/standard-webhooks.ts';
import { ENDPOINT_COLUMNS, type EndpointRow, findEndpoint, toEndpointView, webhookSecretBox } from './endpoint-views.ts';
import type { RotateSecret } from './schemas.ts';

/**
 * Gives an endpoint a new signing secret, returned this once (owners and admins; audited as a
 * change with `secret_rotated`). For `graceSeconds` (default a day, at most 7 days) the old secret
 * signs too: every attempt carries both signatures, so receivers can switch at their own pace; with
 * 0 the old one stops at once. A second rotation within the grace drops the oldest secret.
 *
 * Users may not read a ciphertext, so the copy of the current one into previous_secret_ciphertext
 * is the service role's, made in the same transaction after the caller's claims found the endpoint.
 */
export async function rotateEndpointSecret(deps: Pick<Deps, 'db' | 'config' | 'clock'>, actor: Claims, id: string, input: RotateSecret) {
  const box = await webhookSecretBox(deps.config);
  const secret = generateWebhookSecret();
  const sealed = await box.seal(secret, id);
  const now = deps.clock.now();
  const expires = input.graceSeconds > 0 ? new Date(now.getTime() + input.graceSeconds * 1000) : null;
  const row = await withClaims(deps.db, actor, async (tx) => {
    await findEndpoint(tx, id, { lock: true });
    const [updated] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<EndpointRow>(
        `update public.webhook_endpoints
         set previous_secret_ciphertext = case when $3::timestamptz is null then null else secret_ciphertext end,
             previous_secret_expires_at = $3::timestamptz, secret_ciphertext = $2
         where id = $1 returning ${ENDPOINT_COLUMNS}`,
        [id, sealed, expires],
      ),
    );
    return updated!;
  });
  return { endpoint: toEndpointView(row, now), secret };
}
