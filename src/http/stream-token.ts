import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { authorize } from '../auth/authenticate.ts';
import { signStreamToken, verifyStreamToken } from '../auth/stream-token.ts';
import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import type { AppEnv } from './context.ts';
import { describe } from './openapi.ts';

/** The deps stream tokens need: the JWT secret they derive their key from (Node: generated when unset). */
type TokenDeps = Pick<Deps, 'config' | 'clock'> & { jwtSecret?: string };

function secretOf(deps: TokenDeps): string {
  const secret = deps.jwtSecret ?? deps.config.jwt.secret;
  if (!secret) throw new AppError('NOT_IMPLEMENTED', 'Stream tokens need JWT_SECRET, which this server does not have');
  return secret;
}

export const StreamTokenResponse = z
  .object({
    token: z.string(),
    expiresAt: z.string().describe('ISO 8601: open the stream before then (60 s, never past the credential it was minted from)'),
    path: z.string().describe('The stream it opens: GET <path>?access_token=<token>'),
  })
  .meta({ id: 'StreamToken' });

/** The OpenAPI description of a `POST <stream path>/token` route beside the stream named. */
export function describeStreamToken(stream: string) {
  return describe({
    summary: `Mint a stream token for the ${stream}`,
    description:
      `A short-lived, single-purpose token that opens the ${stream} as \`GET <stream path>?access_token=<token>\`, for clients that cannot send headers (a browser's EventSource). ` +
      'Good for 60 seconds to open the stream, for that stream only; the stream then runs under the credential it was minted from, and ends when that credential expires or is revoked.',
    auth: ['user', 'apiKey'],
    scope: 'read',
    responses: { 201: StreamTokenResponse },
  });
}

/**
 * `POST <stream path>/token`: a stream token for the caller (a user, or an API key with the read
 * scope: whoever may open the stream) bound to the stream beside it (src/auth/stream-token.ts).
 */
export function mintStreamToken(deps: TokenDeps) {
  return async (c: Context<AppEnv>) => {
    const identity = authorize(c.get('identity'), ['user', 'apiKey'], 'read');
    const path = c.req.path.replace(/\/token$/, '');
    const { token, expiresAt } = await signStreamToken(secretOf(deps), identity, path, deps.clock.now());
    return c.json({ token, expiresAt: expiresAt.toISOString(), path }, 201);
  };
}

/**
 * On a stream route: a `?access_token=` stream token stands for the caller that minted it. Sent
 * together with a header credential it is refused (one request, one credential). Only the stream
 * routes mount this, so such a token opens nothing else.
 */
export function acceptStreamToken(deps: TokenDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = c.req.query('access_token');
    if (token !== undefined) {
      if (c.get('identity').kind !== 'anonymous') throw new AppError('BAD_REQUEST', 'Send either access_token or a credential header, not both');
      c.set('identity', await verifyStreamToken(secretOf(deps), token, c.req.path, deps.clock.now()));
    }
    await next();
  };
}
