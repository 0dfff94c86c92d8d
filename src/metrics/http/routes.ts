import { Hono } from 'hono';
import { authorize } from '../../auth/authenticate.ts';
import type { Deps } from '../../core/deps.ts';
import { meterQuery } from '../../billing/meter-query.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { listMetricNames } from '../list-metric-names.ts';
import { listTagKeys, listTagValues } from '../list-tags.ts';
import { queryMetrics } from '../query-metrics.ts';
import { listMetricDefinitions, putMetricDefinition } from '../definitions.ts';
import { getCardinality } from '../get-cardinality.ts';
import { DefinitionParams, DefinitionsQuery, IngestLimits, NamesQuery, PutDefinition, ProjectQuery, QueryRequest, TagKeysQuery, TagValuesQuery } from '../schemas.ts';
import { setIngestLimits } from '../set-ingest-limits.ts';
import {
  CardinalityResponse,
  DefinitionResponse,
  DefinitionsResponse,
  IngestLimitsResponse,
  MetricNamesResponse,
  QueryResponse,
  TagKeysResponse,
  TagValuesResponse,
} from '../responses.ts';

const READER = { auth: ['user', 'apiKey'], scope: 'read' } as const;

/** The metrics function: names, tags, and series queries over rollups. Users, or keys with read scope. */
export function metricsRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/names', describe({ summary: "A project's metric names with their definition and series count", ...READER, query: NamesQuery, responses: { 200: MetricNamesResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ metrics: await listMetricNames(deps, claims, keyProjectId, parseQuery(c, NamesQuery)) });
  });

  app.get('/tags', describe({ summary: 'Tag keys of a metric, with how many values each has', ...READER, query: TagKeysQuery, responses: { 200: TagKeysResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ tags: await listTagKeys(deps, claims, keyProjectId, parseQuery(c, TagKeysQuery)) });
  });

  app.get('/tags/values', describe({ summary: 'Values of one tag key of a metric', ...READER, query: TagValuesQuery, responses: { 200: TagValuesResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ values: await listTagValues(deps, claims, keyProjectId, parseQuery(c, TagValuesQuery)) });
  });

  app.post('/query', describe({ summary: 'Query series over the rollups', description: 'Up to 20 queries per request; each answers its series with one point per step.', ...READER, body: QueryRequest, responses: { 200: QueryResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const body = await parseBody(c, QueryRequest);
    const results = await queryMetrics(deps, claims, keyProjectId, body);
    await meterQuery(deps, c, 'metrics', body.projectId ?? keyProjectId, results.reduce((n, r) => n + r.series.reduce((m, s) => m + s.points.length, 0), 0));
    return c.json({ results });
  });

  app.get('/definitions', describe({ summary: "An organization's metric definitions", auth: ['user'], query: DefinitionsQuery, responses: { 200: DefinitionsResponse } }), async (c) => {
    const claims = actorClaims(c);
    const q = parseQuery(c, DefinitionsQuery);
    return c.json({ definitions: await listMetricDefinitions(deps, claims, q.organizationId, q.prefix) });
  });

  app.put('/definitions/:name', describe({ summary: 'Create or edit a metric definition (owners and admins)', auth: ['user'], params: DefinitionParams, body: PutDefinition, responses: { 200: DefinitionResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { name } = parseParams(c, DefinitionParams);
    return c.json({ definition: await putMetricDefinition(deps, claims, { ...(await parseBody(c, PutDefinition)), name }) });
  });

  app.get('/cardinality', describe({ summary: "Where a project's series come from, against its limit", ...READER, query: ProjectQuery, responses: { 200: CardinalityResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await getCardinality(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)));
  });

  // The service role (the operator) may raise limits above the ceiling users can set (see migration
  // ..20261206000100); owners and admins set them up to it.
  app.put('/limits', describe({ summary: "Set a project's ingest limits (owners, admins, the service role)", auth: ['user', 'service'], body: IngestLimits, responses: { 200: IngestLimitsResponse } }), async (c) => {
    const claims = authorize(c.get('identity'), ['user', 'service']).claims;
    return c.json({ limits: await setIngestLimits(deps, claims, await parseBody(c, IngestLimits)) });
  });

  return app;
}
