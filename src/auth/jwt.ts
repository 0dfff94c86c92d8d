import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError } from '../core/errors.ts';
import type { Claims } from '../db/scoped.ts';

export interface JwtVerifierOptions {
  /** HS256 shared secret (Supabase's legacy JWT secret, or the local one). */
  secret?: string;
  /** JWKS URL for ES256/RS256 (Supabase's asymmetric signing keys). */
  jwksUrl?: string;
  /** A JWKS document given inline (tests, air-gapped setups). */
  jwks?: { keys: object[] };
  issuer?: string;
  /** The `aud` a user token must carry (Supabase Auth: `authenticated`). */
  audience?: string;
  /** Expiry is checked against this clock (the injected one), not the machine's. */
  clock?: { now(): Date };
}

export type JwtVerifier = (token: string) => Promise<Claims>;

/**
 * Verifies a Supabase Auth access token. The algorithm is chosen by the key material we hold,
 * never by the token: HS256 only with the shared secret, ES256/RS256 only through the JWKS.
 */
export function createJwtVerifier(opts: JwtVerifierOptions): JwtVerifier {
  const audience = opts.audience ?? 'authenticated';
  // Every token must expire: one without `exp` would be a credential for ever.
  const checks = { issuer: opts.issuer, requiredClaims: ['exp'] };
  const secret = opts.secret ? new TextEncoder().encode(opts.secret) : undefined;
  const jwks: JWTVerifyGetKey | undefined = opts.jwks
    ? createLocalJWKSet(opts.jwks as Parameters<typeof createLocalJWKSet>[0])
    : opts.jwksUrl
      ? createRemoteJWKSet(new URL(opts.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 })
      : undefined;
  return async (token) => {
    let header: { alg?: string };
    try {
      header = JSON.parse(new TextDecoder().decode(base64UrlDecode(token.split('.')[0] ?? '')));
    } catch {
      throw new AppError('UNAUTHENTICATED', 'Malformed bearer token');
    }
    let payload: JWTPayload;
    try {
      if (header.alg === 'HS256' && secret) {
        ({ payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], ...checks, currentDate: opts.clock?.now() }));
      } else if ((header.alg === 'ES256' || header.alg === 'RS256') && jwks) {
        ({ payload } = await jwtVerify(token, jwks, { algorithms: ['ES256', 'RS256'], ...checks, currentDate: opts.clock?.now() }));
      } else {
        throw new AppError('UNAUTHENTICATED', `Tokens signed with ${header.alg ?? 'no algorithm'} are not accepted here`);
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      const code = typeof err === 'object' && err !== null ? (err as { code?: string; claim?: string }) : {};
      const message =
        code.code === 'ERR_JWT_EXPIRED'
          ? 'The access token has expired'
          : code.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && code.claim === 'exp'
            ? 'The access token has no expiry (exp claim)'
            : 'Invalid access token';
      throw new AppError('UNAUTHENTICATED', message, { cause: err });
    }
    if (typeof payload.role !== 'string') throw new AppError('UNAUTHENTICATED', 'The access token has no role claim');
    // A user token names its user and is meant for this API, as Supabase Auth's access tokens are. The
    // anon and service-role keys carry no audience, and name no user.
    if (payload.role === 'authenticated') {
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new AppError('UNAUTHENTICATED', 'The access token has no subject (sub claim)');
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!aud.includes(audience)) throw new AppError('UNAUTHENTICATED', `The access token is not meant for this API (aud must include "${audience}")`);
    }
    return payload as Claims;
  };
}

function base64UrlDecode(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=');
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/**
 * Signs an HS256 token the way Supabase Auth does (local mode: demo owner, service role, tests): a
 * user token gets `aud: authenticated` unless the claims name another.
 */
export async function signJwt(secret: string, claims: Claims & { email?: string }, opts: { expiresInSeconds?: number; now?: Date } = {}): Promise<string> {
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ ...(claims.role === 'authenticated' ? { aud: 'authenticated' } : {}), ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + (opts.expiresInSeconds ?? 3600))
    .sign(new TextEncoder().encode(secret));
}
