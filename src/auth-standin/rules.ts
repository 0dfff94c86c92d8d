/**
 * The Auth stand-in's rules, pure: what a presented refresh token leads to, and whether a password
 * attempt is over its limits. The SQL and the cache calls that feed them are in store.ts and
 * sign-in.ts.
 */

/** A stored refresh token as the rotation rule needs it (null: no row has that hash). */
export type StoredRefreshToken = { revoked: boolean } | null;

export type RefreshDecision =
  /** Unknown, or its session was signed out (the rows went with it). */
  | { action: 'reject'; code: 'refresh_token_not_found' }
  /** Presented again after it was exchanged: someone else holds the family, so the whole session ends. */
  | { action: 'revoke_session'; code: 'refresh_token_already_used' }
  /** Exchanged once: the token is revoked and a child issued in the same session. */
  | { action: 'rotate' };

/**
 * GoTrue's rotation, without its reuse interval (it forgives a second exchange of the same token
 * within 10 s, for browser tabs racing each other): here every second exchange is a reuse.
 */
export function decideRefresh(token: StoredRefreshToken): RefreshDecision {
  if (!token) return { action: 'reject', code: 'refresh_token_not_found' };
  if (token.revoked) return { action: 'revoke_session', code: 'refresh_token_already_used' };
  return { action: 'rotate' };
}

/** At most 10 failed password attempts per email per 15 minutes, and per client address per minute. */
export const ATTEMPT_LIMITS = [
  { scope: 'email', max: 10, windowMs: 15 * 60_000 },
  { scope: 'ip', max: 10, windowMs: 60_000 },
] as const;

export type AttemptScope = (typeof ATTEMPT_LIMITS)[number]['scope'];

/**
 * The fixed-window counter keys for an attempt at `now`, with how long each must live. `instance`
 * keeps gateways that share one Redis (several local deployments, parallel test runs) apart.
 */
export function attemptCounters(instance: string, ids: Record<AttemptScope, string>, now: Date): Array<{ key: string; ttlMs: number }> {
  const t = now.getTime();
  return ATTEMPT_LIMITS.map(({ scope, windowMs }) => ({ key: `oai:auth:fail:${instance}:${scope}:${ids[scope]}:${Math.floor(t / windowMs)}`, ttlMs: windowMs * 2 }));
}

/**
 * Whether another attempt may be made, given the failures counted in each window (ATTEMPT_LIMITS'
 * order): when not, the seconds until the fullest window ends (Retry-After).
 */
export function checkAttempts(failures: readonly number[], now: Date): { ok: true } | { ok: false; retryAfterS: number } {
  const t = now.getTime();
  let wait = 0;
  ATTEMPT_LIMITS.forEach(({ max, windowMs }, i) => {
    if ((failures[i] ?? 0) >= max) wait = Math.max(wait, windowMs - (t % windowMs));
  });
  return wait > 0 ? { ok: false, retryAfterS: Math.ceil(wait / 1000) } : { ok: true };
}
