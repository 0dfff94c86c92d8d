import type { Context } from 'hono';
import { authorize } from '../auth/authenticate.ts';
import type { Claims } from '../db/scoped.ts';
import type { AppEnv } from './context.ts';

/**
 * The claims a management request runs under: a signed-in user, or an API key holding `scope`.
 * Either way Postgres RLS decides what the request may touch.
 */
export function actorClaims(c: Context<AppEnv>, opts: { keyScope?: 'read' | 'admin' } = {}): Claims {
  const allowed = opts.keyScope ? (['user', 'apiKey'] as const) : (['user'] as const);
  const identity = authorize(c.get('identity'), allowed, opts.keyScope);
  return identity.claims;
}

/**
 * A reader: a signed-in user, or an API key with the `read` scope. keyProjectId is the key's own
 * project, the default when a request names no projectId.
 */
export function readerClaims(c: Context<AppEnv>): { claims: Claims; keyProjectId: string | undefined } {
  const claims = actorClaims(c, { keyScope: 'read' });
  const identity = c.get('identity');
  return { claims, keyProjectId: identity.kind === 'apiKey' ? identity.projectId : undefined };
}

/**
 * A writer: a signed-in user, or an API key with the admin scope (so CI can apply rules files);
 * keyProjectId is the key's own project, the default when a request names none. RLS decides what
 * either may change.
 */
export function writerClaims(c: Context<AppEnv>): { claims: Claims; keyProjectId: string | undefined } {
  const claims = actorClaims(c, { keyScope: 'admin' });
  const identity = c.get('identity');
  return { claims, keyProjectId: identity.kind === 'apiKey' ? identity.projectId : undefined };
}
