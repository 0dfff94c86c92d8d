import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Deps } from '../../core/deps.ts';
import { sha256Hex } from '../../core/ids.ts';
import type { AppEnv } from '../../http/context.ts';
import { dummyHash, MAX_PASSWORD_LENGTH, verifyPassword } from '../password.ts';
import { attemptCounters, ATTEMPT_LIMITS, checkAttempts } from '../rules.ts';
import { hashRefreshToken, newRefreshToken, sessionView, userView } from '../sessions.ts';
import { endSessions, findUser, findUserByEmail, rotateRefreshToken, sessionExists, startSession } from '../store.ts';

/**
 * A development stand-in for Supabase Auth (GoTrue), mounted by the Node gateway at /auth/v1 in the
 * embedded and local modes: the part of its HTTP API that supabase-js uses for password sign-in,
 * session refresh, getUser and signOut. On Supabase, Supabase Auth itself serves /auth/v1. Errors
 * have GoTrue's shape, `{ code: <status>, error_code, msg }`, so supabase-js raises AuthApiError
 * with the same codes.
 */
export function createAuthStandinApp(deps: Deps, opts: { jwtSecret: string }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // The deployment, as the rate-limit counters name it: gateways with different secrets are different instances.
  const instance = sha256Hex(opts.jwtSecret).then((h) => h.slice(0, 12));
  app.onError((err, c) => {
    (c.get('logger') ?? deps.logger).error({ err }, 'auth stand-in failed');
    return fail(c, 500, 'unexpected_failure', 'Unexpected failure');
  });

  // Supabase's API gateway lets no request reach Auth without the project's anon (or service-role) key.
  app.use('*', async (c, next) => {
    const key = c.req.header('apikey');
    const claims = key ? await deps.auth.verifyJwt(key).catch(() => undefined) : undefined;
    if (claims?.role !== 'anon' && claims?.role !== 'service_role') return fail(c, 401, 'no_authorization', 'Invalid API key: send the anon key in the apikey header');
    await next();
  });

  app.post('/token', async (c) => {
    const grant = c.req.query('grant_type');
    const body = await c.req.json().catch(() => undefined);
    if (grant === 'password') return signInWithPassword(c, body);
    if (grant === 'refresh_token') return refresh(c, body);
    return fail(c, 400, 'validation_failed', `unsupported grant_type "${grant ?? ''}": this stand-in supports password and refresh_token`);
  });

  app.get('/user', async (c) => {
    const user = await currentUser(c);
    if (!user.ok) return user.res;
    return c.json(userView(user.row));
  });

  app.post('/logout', async (c) => {
    const scope = c.req.query('scope') ?? 'global';
    if (scope !== 'global' && scope !== 'local' && scope !== 'others') return fail(c, 400, 'validation_failed', 'scope: must be global, local or others');
    const user = await currentUser(c);
    if (!user.ok) return user.res;
    await endSessions(deps.db, user.row.id, user.sessionId, scope);
    return c.body(null, 204);
  });

  const PasswordGrant = z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) });
  async function signInWithPassword(c: Context<AppEnv>, body: unknown) {
    const parsed = PasswordGrant.safeParse(body);
    if (!parsed.success) return fail(c, 400, 'validation_failed', `${parsed.error.issues[0]?.path.join('.') || 'body'}: an email and a password are required`);
    const { email, password } = parsed.data;
    const now = deps.clock.now();
    const counters = attemptCounters(await instance, { email: (await sha256Hex(email.trim().toLowerCase())).slice(0, 32), ip: clientAddress(c) }, now);
    const ttlMs = Math.max(...ATTEMPT_LIMITS.map((l) => l.windowMs)) * 2;
    const failures = await deps.cache.incrCounters(counters.map((k) => ({ key: k.key, by: 0 })), ttlMs);
    const allowed = checkAttempts(failures, now);
    if (!allowed.ok) {
      c.header('Retry-After', String(allowed.retryAfterS));
      return fail(c, 429, 'over_request_rate_limit', `Too many sign-in attempts: try again in ${allowed.retryAfterS} seconds`);
    }
    const user = await findUserByEmail(deps.db, email.trim());
    // Unknown email, or no password set: compare against a dummy hash all the same (same time).
    const matches = await verifyPassword(password, user?.encrypted_password ?? (await dummyHash()));
    if (!user?.encrypted_password || !matches) {
      await deps.cache.incrCounters(counters.filter((k) => k.current).map((k) => ({ key: k.key, by: 1 })), ttlMs);
      return fail(c, 400, 'invalid_credentials', 'Invalid login credentials');
    }
    const refresh = await newRefreshToken();
    const sessionId = await deps.db.transaction((tx) => startSession(tx, user.id, refresh.hash, now));
    return c.json(await sessionView(opts.jwtSecret, { ...user, last_sign_in_at: now }, sessionId, refresh.token, now));
  }

  const RefreshGrant = z.object({ refresh_token: z.string().min(1).max(200) });
  async function refresh(c: Context<AppEnv>, body: unknown) {
    const parsed = RefreshGrant.safeParse(body);
    if (!parsed.success) return fail(c, 400, 'validation_failed', 'refresh_token: required');
    const now = deps.clock.now();
    const next = await newRefreshToken();
    const presented = await hashRefreshToken(parsed.data.refresh_token);
    const outcome = await deps.db.transaction((tx) => rotateRefreshToken(tx, presented, next.hash, now));
    if (!outcome.ok) {
      const msg = outcome.code === 'refresh_token_not_found' ? 'Invalid Refresh Token: Refresh Token Not Found' : 'Invalid Refresh Token: Already Used';
      return fail(c, 400, outcome.code, msg);
    }
    const user = await findUser(deps.db, outcome.userId);
    if (!user) return fail(c, 400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
    return c.json(await sessionView(opts.jwtSecret, user, outcome.sessionId, next.token, now));
  }

  /** The user of the Bearer access token, while its session lasts (GoTrue answers 403 session_not_found after sign-out). */
  async function currentUser(c: Context<AppEnv>): Promise<{ ok: true; row: NonNullable<Awaited<ReturnType<typeof findUser>>>; sessionId: string } | { ok: false; res: Response }> {
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const claims = token ? await deps.auth.verifyJwt(token).catch(() => undefined) : undefined;
    if (!claims || claims.role !== 'authenticated' || typeof claims.sub !== 'string') {
      return { ok: false, res: fail(c, 401, 'no_authorization', 'This endpoint requires a valid Bearer token') };
    }
    const sessionId = typeof claims.session_id === 'string' ? claims.session_id : '';
    if (!/^[0-9a-f-]{36}$/i.test(sessionId) || !(await sessionExists(deps.db, sessionId, claims.sub))) {
      return { ok: false, res: fail(c, 403, 'session_not_found', 'Session from session_id claim in JWT does not exist') };
    }
    const row = await findUser(deps.db, claims.sub);
    if (!row) return { ok: false, res: fail(c, 403, 'user_not_found', 'User from sub claim in JWT does not exist') };
    return { ok: true, row, sessionId };
  }

  return app;
}

/** GoTrue's error body. supabase-js reads `error_code` (AuthApiError.code) and `msg` (its message). */
function fail(c: Context<AppEnv>, status: 400 | 401 | 403 | 429 | 500, errorCode: string, msg: string): Response {
  return c.json({ code: status, error_code: errorCode, msg }, status);
}

/**
 * The peer's address as the Node server saw it. Forwarding headers are not trusted: the local gateway
 * is reached directly, and a header anyone can set must not choose the rate-limit bucket.
 */
function clientAddress(c: Context<AppEnv>): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}
