import { AppError } from '../core/errors.ts';
import type { Queryable } from '../db/types.ts';
import type { ApiKeyScope, Identity } from './identity.ts';
import type { JwtVerifier } from './jwt.ts';

/** Everything needed to turn request credentials into an Identity. */
export interface Authenticator {
  verifyJwt: JwtVerifier;
  /**
   * Resolves an API key to its identity, or throws UNAUTHENTICATED. With `confirmAtWrite` it may
   * answer from this process's cache, setting `pending` (see Identity).
   */
  verifyApiKey(key: string, opts?: { confirmAtWrite?: boolean }): Promise<Extract<Identity, { kind: 'apiKey' }>>;
  /**
   * Confirms on `q` (the writing transaction) that a key accepted from the cache (`pending`) still
   * verifies; a no-op for a key that was looked up (src/auth/api-keys.ts, ADR 0004).
   */
  confirmApiKey(q: Queryable, key: Extract<Identity, { kind: 'apiKey' }>, now: Date): Promise<void>;
}

export const API_KEY_PATTERN = /^oai_[a-zA-Z0-9]{12}_[a-zA-Z0-9]{32}$/;

/**
 * Reads credentials from the request: `x-api-key`, or `Authorization: Bearer <key or JWT>`. API keys
 * are recognised by their `oai_` prefix; anything else in the bearer slot must be a Supabase JWT.
 */
export async function identify(auth: Authenticator, headers: Headers, opts: { confirmAtWrite?: boolean } = {}): Promise<Identity> {
  const apiKeyHeader = headers.get('x-api-key');
  const authorization = headers.get('authorization');
  let bearer: string | undefined;
  if (authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new AppError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>"');
    bearer = m[1];
  }
  if (apiKeyHeader !== null) return auth.verifyApiKey(apiKeyHeader.trim(), opts);
  if (!bearer) return { kind: 'anonymous' };
  if (bearer.startsWith('oai_')) return auth.verifyApiKey(bearer, opts);
  const claims = await auth.verifyJwt(bearer);
  if (claims.role === 'service_role') return { kind: 'service', claims };
  if (claims.role === 'authenticated' && typeof claims.sub === 'string' && claims.sub) {
    return { kind: 'user', userId: claims.sub, claims };
  }
  // The anon key (role anon) identifies the project, not a person.
  return { kind: 'anonymous' };
}

export type IdentityKind = Identity['kind'];

/** Throws unless the identity is one of the allowed kinds (and, for keys, holds the scope). */
export function authorize<K extends IdentityKind>(
  identity: Identity,
  allowed: readonly K[],
  scope?: ApiKeyScope,
): Extract<Identity, { kind: K }> {
  if (!allowed.includes(identity.kind as K)) {
    if (identity.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', 'Authentication required: send an API key or a user access token');
    throw new AppError('FORBIDDEN', `This endpoint does not accept ${describe(identity.kind)} credentials`);
  }
  if (identity.kind === 'apiKey' && scope && !identity.scopes.includes(scope)) {
    throw new AppError('FORBIDDEN', `This API key lacks the ${scope} scope`);
  }
  return identity as Extract<Identity, { kind: K }>;
}

function describe(kind: IdentityKind): string {
  return { anonymous: 'anonymous', user: 'user', service: 'service-role', apiKey: 'API key' }[kind];
}
