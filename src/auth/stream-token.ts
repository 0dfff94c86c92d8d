import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { deriveKey } from '../core/derive-key.ts';
import type { Claims } from '../db/scoped.ts';
import { type ApiKeyScope, apiKeyClaims, type Identity } from './identity.ts';

/**
 * Stream tokens: a browser's EventSource cannot send headers, so it cannot present a user's JWT or an
 * API key to a Server-Sent Events route. A caller who can (the dashboard's code, holding the user's
 * session) mints a stream token with `POST <stream path>/token` and opens
 * `<stream path>?access_token=<token>`. The token:
 * - is single-purpose: signed under a key derived from the JWT secret for this purpose alone (and
 *   with its own audience), so it is never a user token, and a user token is never a stream token;
 *   it is accepted only as `access_token` on the stream routes, never in a header;
 * - is bound to the one stream path it was minted for (the path, not the query: the stream's
 *   filters are checked under RLS as for a header credential);
 * - lives STREAM_TOKEN_TTL_S (60 s) to open the stream, never past the credential it was minted
 *   from. The stream then runs under the usual stream credential rules (stream-credential.ts): it
 *   ends when a user's own token expires or loses the project, or when the key is revoked.
 * The token is in a URL, so it is short-lived and names nothing secret: the claims of the caller's
 * own token (readable in that token anyway) or the key's id, project and scopes, never the key.
 */
export const STREAM_TOKEN_TTL_S = 60;
const AUDIENCE = 'observai:stream';
const LABEL = 'observai/stream-tokens/1';

/** The query parameter a stream route takes its token from (added to each stream's query schema). */
export const StreamTokenParam = {
  /** A stream token (POST <stream path>/token), for clients that cannot send headers (EventSource). */
  access_token: z.string().min(1).max(8192).optional(),
};

const keys = new Map<string, Uint8Array>();
function keyFor(jwtSecret: string): Uint8Array {
  let key = keys.get(jwtSecret);
  if (!key) keys.set(jwtSecret, (key = deriveKey(new TextEncoder().encode(jwtSecret), LABEL)));
  return key;
}

type Reader = Extract<Identity, { kind: 'user' | 'apiKey' }>;

/** Signs a stream token for `identity` (a user or an API key), bound to `path`. */
export async function signStreamToken(jwtSecret: string, identity: Reader, path: string, now: Date): Promise<{ token: string; expiresAt: Date }> {
  const iat = Math.floor(now.getTime() / 1000);
  let exp = iat + STREAM_TOKEN_TTL_S;
  let credential: Record<string, unknown>;
  if (identity.kind === 'user') {
    const { iat: _iat, ...claims } = identity.claims;
    if (typeof claims.exp === 'number') exp = Math.min(exp, claims.exp);
    credential = { kind: 'user', claims };
  } else {
    credential = { kind: 'apiKey', id: identity.keyId, projectId: identity.projectId, organizationId: identity.organizationId, scopes: identity.scopes };
  }
  const token = await new SignJWT({ path, credential })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(keyFor(jwtSecret));
  return { token, expiresAt: new Date(exp * 1000) };
}

/** The identity a stream token stands for, when it is valid at `now` for `path`; else 401 saying why. */
export async function verifyStreamToken(jwtSecret: string, token: string, path: string, now: Date): Promise<Reader> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keyFor(jwtSecret), { algorithms: ['HS256'], audience: AUDIENCE, requiredClaims: ['exp'], currentDate: now }));
  } catch (err) {
    const expired = typeof err === 'object' && err !== null && (err as { code?: string }).code === 'ERR_JWT_EXPIRED';
    throw new AppError('UNAUTHENTICATED', expired ? 'The stream token has expired: mint a new one (POST <stream path>/token)' : 'Invalid stream token', { cause: err });
  }
  if (payload.path !== path) throw new AppError('UNAUTHENTICATED', 'The stream token was minted for another stream');
  const c = payload.credential as { kind?: string; claims?: Claims; id?: string; projectId?: string; organizationId?: string; scopes?: ApiKeyScope[] } | undefined;
  if (c?.kind === 'user' && c.claims && typeof c.claims.sub === 'string') return { kind: 'user', userId: c.claims.sub, claims: c.claims };
  if (c?.kind === 'apiKey' && c.id && c.projectId && c.organizationId && Array.isArray(c.scopes)) {
    const key = { id: c.id, projectId: c.projectId, organizationId: c.organizationId, scopes: c.scopes };
    return { kind: 'apiKey', keyId: key.id, projectId: key.projectId, organizationId: key.organizationId, scopes: key.scopes, claims: apiKeyClaims(key) };
  }
  throw new AppError('UNAUTHENTICATED', 'Invalid stream token');
}
