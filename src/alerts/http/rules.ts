import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { readerClaims, writerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { applyRules } from '../apply-rules.ts';
import { createRule } from '../create-rule.ts';
import { deleteRule } from '../delete-rule.ts';
import { exportRules } from '../export-rules.ts';
import { getRule } from '../get-rule.ts';
import { listRules } from '../list-rules.ts';
import { ApplyRules, CreateRule, ProjectQuery, RuleParams, UpdateRule } from '../schemas.ts';
import { updateRule } from '../update-rule.ts';

/** Alert rules (mounted at /alerts/rules): CRUD, and rules as code (PUT the whole set, GET /export). */
export function ruleRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ rules: await listRules(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.post('/', async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json({ rule: await createRule(deps, claims, keyProjectId, await parseBody(c, CreateRule)) }, 201);
  });

  app.put('/', async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json(await applyRules(deps, claims, keyProjectId, await parseBody(c, ApplyRules)));
  });

  // Before /:id, which would otherwise take "export" for an id.
  app.get('/export', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ rules: await exportRules(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.get('/:id', async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ rule: await getRule(deps, claims, parseParams(c, RuleParams).id) });
  });

  app.put('/:id', async (c) => {
    const { claims } = writerClaims(c);
    const { id } = parseParams(c, RuleParams);
    return c.json({ rule: await updateRule(deps, claims, id, await parseBody(c, UpdateRule)) });
  });

  app.delete('/:id', async (c) => {
    await deleteRule(deps, writerClaims(c).claims, parseParams(c, RuleParams).id);
    return c.body(null, 204);
  });

  return app;
}
