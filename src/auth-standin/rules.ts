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

/**
 * At most 10 failed password attempts per email in any 15 minutes, and per client address in any
 * minute. Counted as sliding windows (the previous fixed window's count weighted by how much of it
 * still overlaps the last `windowMs`, plus the current one's), so crossing a window boundary never
 * hands out a fresh allowance: a burst of failures is refused for as long as it stays in view.
 */
export const ATTEMPT_LIMITS = [
  { scope: 'email', max: 10, windowMs: 15 * 60_000 },
  { scope: 'ip', max: 10, windowMs: 60_000 },
] as const;

export type AttemptScope = (typeof ATTEMPT_LIMITS)[number]['scope'];

/**
 * The fixed-window counter keys for an attempt at `now`, two a limit in ATTEMPT_LIMITS' order: the
 * previous window's, then the current one's (the one a failure increments), with how long each must
 * live. `instance` keeps gateways that share one Redis (several local deployments, parallel test
 * runs) apart.
 */
export function attemptCounters(instance: string, ids: Record<AttemptScope, string>, now: Date): Array<{ key: string; ttlMs: number; current: boolean }> {
  const t = now.getTime();
  return ATTEMPT_LIMITS.flatMap(({ scope, windowMs }) => {
    const n = Math.floor(t / windowMs);
    const key = (w: number) => `oai:auth:fail:${instance}:${scope}:${ids[scope]}:${w}`;
    return [
      { key: key(n - 1), ttlMs: windowMs * 2, current: false },
      { key: key(n), ttlMs: windowMs * 2, current: true },
    ];
  });
}

/**
 * Whether another attempt may be made, given the failures counted in attemptCounters' keys
 * (previous, current, for each limit): when not, the seconds until, with no further failure, every
 * sliding count is under its limit again (Retry-After).
 */
export function checkAttempts(failures: readonly number[], now: Date): { ok: true } | { ok: false; retryAfterS: number } {
  const t = now.getTime();
  let wait = -1;
  ATTEMPT_LIMITS.forEach(({ max, windowMs }, i) => {
    const prev = failures[2 * i] ?? 0;
    const cur = failures[2 * i + 1] ?? 0;
    const into = t % windowMs;
    if (prev * (1 - into / windowMs) + cur < max) return;
    // Still in this window, the previous one's weight must fall to (max - cur) / prev; when the
    // current count alone is at the limit, it must become the previous one and fade to max / cur.
    const until =
      cur < max ? windowMs * (1 - (max - cur) / prev) - into : windowMs - into + windowMs * (1 - max / cur);
    wait = Math.max(wait, until);
  });
  return wait >= 0 ? { ok: false, retryAfterS: Math.max(1, Math.ceil(wait / 1000)) } : { ok: true };
}
