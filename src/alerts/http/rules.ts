import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { readerClaims, writerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { applyRules } from '../apply-rules.ts';
import { createRule } from '../create-rule.ts';
import { deleteRule } from '../delete-rule.ts';
import { exportRules } from '../export-rules.ts';
import { getRule } from '../get-rule.ts';
import { listRules } from '../list-rules.ts';
import { ApplyRules, CreateRule, ProjectQuery, RuleParams, UpdateRule } from '../schemas.ts';
import { updateRule } from '../update-rule.ts';
import { ApplyRulesResponse, RuleResponse, RulesExportResponse, RulesResponse } from '../responses.ts';
import { READER, WRITER } from './callers.ts';

/** Alert rules (mounted at /alerts/rules): CRUD, and rules as code (PUT the whole set, GET /export). */
export function ruleRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', describe({ summary: "A project's alert rules", ...READER, query: ProjectQuery, responses: { 200: RulesResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ rules: await listRules(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.post('/', describe({ summary: 'Create an alert rule', ...WRITER, body: CreateRule, responses: { 201: RuleResponse } }), async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json({ rule: await createRule(deps, claims, keyProjectId, await parseBody(c, CreateRule)) }, 201);
  });

  app.put('/', describe({ summary: "Rules as code: make a project's rules those of the file, by key", description: 'Rules equal to their stored form are not written; with `prune`, rules whose key the file lacks are removed. One transaction.', ...WRITER, body: ApplyRules, responses: { 200: ApplyRulesResponse } }), async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json(await applyRules(deps, claims, keyProjectId, await parseBody(c, ApplyRules)));
  });

  // Before /:id, which would otherwise take "export" for an id.
  app.get('/export', describe({ summary: "A project's rules in the rules-as-code format", ...READER, query: ProjectQuery, responses: { 200: RulesExportResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ rules: await exportRules(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.get('/:id', describe({ summary: 'One alert rule, with its evaluation health', ...READER, params: RuleParams, responses: { 200: RuleResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ rule: await getRule(deps, claims, parseParams(c, RuleParams).id) });
  });

  app.put('/:id', describe({ summary: 'Replace an alert rule (its key stays)', ...WRITER, params: RuleParams, body: UpdateRule, responses: { 200: RuleResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    const { id } = parseParams(c, RuleParams);
    return c.json({ rule: await updateRule(deps, claims, id, await parseBody(c, UpdateRule)) });
  });

  app.delete('/:id', describe({ summary: 'Delete an alert rule', ...WRITER, params: RuleParams, responses: { 204: null } }), async (c) => {
    await deleteRule(deps, writerClaims(c).claims, parseParams(c, RuleParams).id);
    return c.body(null, 204);
  });

  return app;
}
