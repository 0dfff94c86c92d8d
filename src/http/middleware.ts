import type { MiddlewareHandler } from 'hono';
import { identify } from '../auth/authenticate.ts';
import type { Deps } from '../core/deps.ts';
import type { AppEnv } from './context.ts';

/** Assigns a request id (or keeps a sane incoming one) and writes one log line per request. */
export function requestLog(deps: Pick<Deps, 'logger' | 'ids'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{8,128}$/.test(incoming) ? incoming : deps.ids.requestId();
    const logger = deps.logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('logger', logger);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    const identity = c.get('identity');
    const path = new URL(c.req.url).pathname;
    // The dashboard's hashed assets and the demo project's sample-data sender (src/demo-data) would
    // fill a newcomer's terminal: debug, not info, while they succeed.
    const routine = c.res.status < 400 && (path.startsWith('/_next/') || c.req.header('user-agent')?.startsWith('observai-demo-data') === true);
    (routine ? logger.debug : logger.info).call(
      logger,
      {
        method: c.req.method,
        path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        caller: identity?.kind,
      },
      'request',
    );
  };
}

/**
 * Resolves the caller's identity (anonymous when no credentials are sent). `confirmAtWrite` only for
 * a function whose every use of an API key identity confirms it in its writing transaction (ingest).
 */
export function identityMiddleware(deps: Pick<Deps, 'auth'>, opts: { confirmAtWrite?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('identity', await identify(deps.auth, c.req.raw.headers, opts));
    await next();
  };
}
