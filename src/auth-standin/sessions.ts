import { signJwt } from '../auth/jwt.ts';
import { randomToken, sha256Hex } from '../core/ids.ts';
import type { AuthUserRow } from './store.ts';

/** Access tokens last an hour, as Supabase Auth's do by default. */
export const ACCESS_TOKEN_TTL_S = 3600;

/** A refresh token: 40 random characters (about 238 bits), stored only as its SHA-256. */
export async function newRefreshToken(): Promise<{ token: string; hash: string }> {
  const token = randomToken(40);
  return { token, hash: await sha256Hex(token) };
}

export const hashRefreshToken = sha256Hex;

/** The user as Supabase Auth answers it (GET /user, and `user` in a session). */
export function userView(user: AuthUserRow) {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    id: user.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: user.email,
    // Local users are created by the operator (`npm run token`, the demo seed): nothing to confirm.
    email_confirmed_at: iso(user.created_at),
    confirmed_at: iso(user.created_at),
    phone: '',
    last_sign_in_at: iso(user.last_sign_in_at),
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: user.raw_user_meta_data ?? {},
    identities: [],
    created_at: iso(user.created_at),
    updated_at: iso(user.updated_at),
    is_anonymous: false,
  };
}

/** GoTrue's session answer: an access token of the shape the product verifies (src/auth/jwt.ts), and the refresh token. */
export async function sessionView(jwtSecret: string, user: AuthUserRow, sessionId: string, refreshToken: string, now: Date) {
  const iat = Math.floor(now.getTime() / 1000);
  const access_token = await signJwt(
    jwtSecret,
    {
      sub: user.id,
      role: 'authenticated',
      aud: 'authenticated',
      email: user.email,
      session_id: sessionId,
      aal: 'aal1',
      amr: [{ method: 'password', timestamp: iat }],
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: user.raw_user_meta_data ?? {},
      is_anonymous: false,
    },
    { expiresInSeconds: ACCESS_TOKEN_TTL_S, now },
  );
  return {
    access_token,
    token_type: 'bearer',
    expires_in: ACCESS_TOKEN_TTL_S,
    expires_at: iat + ACCESS_TOKEN_TTL_S,
    refresh_token: refreshToken,
    user: userView(user),
  };
}
