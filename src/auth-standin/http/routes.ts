import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Deps } from '../../core/deps.ts';
import { sha256Hex } from '../../core/ids.ts';
import type { AppEnv } from '../../http/context.ts';
import { dummyHash, hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, verifyPassword } from '../password.ts';
import { attemptCounters, ATTEMPT_LIMITS, checkAttempts } from '../rules.ts';
import { hashRefreshToken, newRefreshToken, sessionView, userView } from '../sessions.ts';
import { createUser, endSessions, findUser, findUserByEmail, rotateRefreshToken, sessionExists, startSession } from '../store.ts';

/**
 * A development stand-in for Supabase Auth (GoTrue), mounted by the Node gateway at /auth/v1 in the
 * embedded and local modes: the part of its HTTP API that supabase-js uses for password sign-in,
 * session refresh, getUser and signOut, and the admin API's user creation (`auth.admin.createUser`,
 * the service role only) so that tests and operators can add users over HTTP. On Supabase, Supabase
 * Auth itself serves /auth/v1. Errors have GoTrue's shape, `{ code: <status>, error_code, msg }`, so
 * supabase-js raises AuthApiError with the same codes.
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

  // GoTrue's admin API, as `supabase.auth.admin.createUser({ email, password, email_confirm: true })`
  // calls it: the service-role key only. The stand-in sends no email, so the address must be confirmed here.
  const AdminCreateUser = z.object({
    email: z.email().max(320),
    password: z.string().max(MAX_PASSWORD_LENGTH),
    email_confirm: z.literal(true, { error: 'must be true: the stand-in sends no confirmation email' }),
    user_metadata: z.record(z.string(), z.unknown()).optional(),
  });
  app.post('/admin/users', async (c) => {
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!token) return fail(c, 401, 'no_authorization', 'This endpoint requires a Bearer token');
    const claims = await deps.auth.verifyJwt(token).catch(() => undefined);
    if (!claims) return fail(c, 401, 'bad_jwt', 'invalid JWT: unable to parse or verify signature');
    if (claims.role !== 'service_role') return fail(c, 403, 'not_admin', 'User not allowed');
    const parsed = AdminCreateUser.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail(c, 400, 'validation_failed', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
    }
    const problem = passwordProblem(parsed.data.password);
    if (problem) return c.json({ code: 422, error_code: 'weak_password', msg: `Password ${problem}`, weak_password: { reasons: ['length'] } }, 422);
    const email = parsed.data.email.trim().toLowerCase();
    const user = await createUser(deps.db, email, await hashPassword(parsed.data.password), parsed.data.user_metadata ?? {});
    if (!user) return fail(c, 422, 'email_exists', 'A user with this email address has already been registered');
    return c.json(userView(user));
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
function fail(c: Context<AppEnv>, status: 400 | 401 | 403 | 422 | 429 | 500, errorCode: string, msg: string): Response {
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
