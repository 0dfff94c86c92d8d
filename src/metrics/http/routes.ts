import { Hono } from 'hono';
import { authorize } from '../../auth/authenticate.ts';
import type { Deps } from '../../core/deps.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { listMetricNames } from '../list-metric-names.ts';
import { listTagKeys, listTagValues } from '../list-tags.ts';
import { queryMetrics } from '../query-metrics.ts';
import { listMetricDefinitions, putMetricDefinition } from '../definitions.ts';
import { getCardinality } from '../get-cardinality.ts';
import { DefinitionParams, DefinitionsQuery, IngestLimits, NamesQuery, PutDefinition, ProjectQuery, QueryRequest, TagKeysQuery, TagValuesQuery } from '../schemas.ts';
import { setIngestLimits } from '../set-ingest-limits.ts';

/** The metrics function: names, tags, and series queries over rollups. Users, or keys with read scope. */
export function metricsRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/names', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ metrics: await listMetricNames(deps, claims, keyProjectId, parseQuery(c, NamesQuery)) });
  });

  app.get('/tags', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ tags: await listTagKeys(deps, claims, keyProjectId, parseQuery(c, TagKeysQuery)) });
  });

  app.get('/tags/values', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ values: await listTagValues(deps, claims, keyProjectId, parseQuery(c, TagValuesQuery)) });
  });

  app.post('/query', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const body = await parseBody(c, QueryRequest);
    return c.json({ results: await queryMetrics(deps, claims, keyProjectId, body) });
  });

  app.get('/definitions', async (c) => {
    const claims = actorClaims(c);
    const q = parseQuery(c, DefinitionsQuery);
    return c.json({ definitions: await listMetricDefinitions(deps, claims, q.organizationId, q.prefix) });
  });

  app.put('/definitions/:name', async (c) => {
    const claims = actorClaims(c);
    const { name } = parseParams(c, DefinitionParams);
    return c.json({ definition: await putMetricDefinition(deps, claims, { ...(await parseBody(c, PutDefinition)), name }) });
  });

  app.get('/cardinality', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await getCardinality(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)));
  });

  // The service role (the operator) may raise limits above the ceiling users can set (see migration
  // ..20261206000100); owners and admins set them up to it.
  app.put('/limits', async (c) => {
    const claims = authorize(c.get('identity'), ['user', 'service']).claims;
    return c.json({ limits: await setIngestLimits(deps, claims, await parseBody(c, IngestLimits)) });
  });

  return app;
}
