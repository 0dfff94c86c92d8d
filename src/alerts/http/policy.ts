import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { readerClaims, writerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { parseBody, parseQuery } from '../../http/validate.ts';
import { deletePolicy } from '../delete-policy.ts';
import { getPolicy } from '../get-policy.ts';
import { putPolicy } from '../put-policy.ts';
import { ProjectQuery, PutPolicy } from '../schemas.ts';

/**
 * A project's notification policy (mounted at /alerts/policy): Alertmanager's routing tree,
 * inhibition rules and time intervals in one document. Readers read it; owners and admins set it.
 */
export function policyRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await getPolicy(deps, claims, keyProjectId, parseQuery(c, ProjectQuery).projectId));
  });

  app.put('/', async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json(await putPolicy(deps, claims, keyProjectId, await parseBody(c, PutPolicy)));
  });

  app.delete('/', async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    await deletePolicy(deps, claims, keyProjectId, parseQuery(c, ProjectQuery).projectId);
    return c.body(null, 204);
  });

  return app;
}
