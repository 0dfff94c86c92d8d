import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { checkEndpointUrl, ENDPOINT_COLUMNS, type EndpointRow, findEndpoint, toEndpointView } from './endpoint-views.ts';
import type { UpdateEndpoint } from './schemas.ts';

/**
 * Changes a webhook endpoint (owners and admins; audited): its URL (checked as when created),
 * description, event types (against the catalogue), rate limit (`null` clears it). `enabled: false`
 * disables it (no event: only the server's own disables are told to the other endpoints);
 * `enabled: true` on a disabled endpoint enables it and forgets when it started failing, so the
 * 5-day rule starts over instead of disabling it again at its first failure. The secret changes only
 * by rotation.
 */
export async function updateEndpoint(deps: Pick<Deps, 'db' | 'config' | 'outbound' | 'clock'>, actor: Claims, id: string, input: UpdateEndpoint) {
  const url = input.url === undefined ? undefined : checkEndpointUrl(deps, input.url);
  const row = await withClaims(deps.db, actor, async (tx) => {
    // Found under the caller's claims: whoever can see an endpoint may manage it (the policies are
    // the same), and another tenant's is a 404.
    const ep = await findEndpoint(tx, id, { lock: true });
    // Only the columns that change.
    const sets: string[] = [];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown, cast = '') => sets.push(`${column} = $${params.push(value)}${cast}`);
    if (url !== undefined) set('url', url);
    if (input.description !== undefined) set('description', input.description);
    if (input.eventTypes !== undefined) set('event_types', input.eventTypes, '::text[]');
    if (input.rateLimitPerSecond !== undefined) set('rate_limit_per_second', input.rateLimitPerSecond);
    const enabling = input.enabled === true && ep.disabled_at !== null;
    if (enabling) sets.push('disabled_at = null', 'disabled_reason = null');
    if (input.enabled === false && ep.disabled_at === null) {
      set('disabled_at', deps.clock.now());
      set('disabled_reason', 'Disabled by a user');
    }
    // Enabling forgets when it started failing (failing_since is the delivery job's).
    if (enabling && ep.failing_since !== null) sets.push('failing_since = null');
    if (sets.length === 0) return ep;
    // The URL and the event types are checked here, not by a row policy, so users hold no grant on
    // them: the update is the service role's, on the caller's behalf (the audit row names them).
    const [updated] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<EndpointRow>(`update public.webhook_endpoints set ${sets.join(', ')} where id = $1 returning ${ENDPOINT_COLUMNS}`, params),
    );
    if (!updated) throw forbidden('Only owners and admins can manage webhook endpoints');
    return updated;
  });
  return toEndpointView(row, deps.clock.now());
}
