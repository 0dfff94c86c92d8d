import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { readerClaims, writerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseQuery } from '../../http/validate.ts';
import { deletePolicy } from '../delete-policy.ts';
import { getPolicy } from '../get-policy.ts';
import { putPolicy } from '../put-policy.ts';
import { ProjectQuery, PutPolicy } from '../schemas.ts';
import { PolicyResponse } from '../responses.ts';
import { READER, WRITER } from './callers.ts';

/**
 * A project's notification policy (mounted at /alerts/policy): Alertmanager's routing tree,
 * inhibition rules and time intervals in one document. Readers read it; owners and admins set it.
 */
export function policyRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', describe({ summary: "A project's notification policy (routing tree, inhibition rules, time intervals)", ...READER, query: ProjectQuery, responses: { 200: PolicyResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await getPolicy(deps, claims, keyProjectId, parseQuery(c, ProjectQuery).projectId));
  });

  app.put('/', describe({ summary: "Set a project's notification policy (owners and admins)", description: "Alertmanager's shape; stored as sent, so GET gives back the same text.", ...WRITER, body: PutPolicy, responses: { 200: PolicyResponse } }), async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json(await putPolicy(deps, claims, keyProjectId, await parseBody(c, PutPolicy)));
  });

  app.delete('/', describe({ summary: "Remove a project's notification policy (owners and admins)", ...WRITER, query: ProjectQuery, responses: { 204: null } }), async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    await deletePolicy(deps, claims, keyProjectId, parseQuery(c, ProjectQuery).projectId);
    return c.body(null, 204);
  });

  return app;
}
