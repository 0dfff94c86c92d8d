import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { createDashboard } from '../create-dashboard.ts';
import { deleteDashboard } from '../delete-dashboard.ts';
import { exportDashboard } from '../export-dashboard.ts';
import { getDashboard } from '../get-dashboard.ts';
import { importDashboard } from '../import-dashboard.ts';
import { listDashboards } from '../list-dashboards.ts';
import { replaceDashboard } from '../replace-dashboard.ts';
import { CreateDashboard, DashboardParams, ImportDashboard, ProjectQuery, ReplaceDashboard } from '../schemas.ts';
import { DashboardExportResponse, DashboardResponse, DashboardsResponse } from '../responses.ts';

/** Reads: a signed-in user, or a project API key with the read scope (shared dashboards only). */
const READER = { auth: ['user', 'apiKey'], scope: 'read' } as const;
/** Writes: signed-in users (a dashboard has a creator; keys have none). RLS decides which. */
const WRITER = { auth: ['user'] } as const;

/** Saved dashboards (mounted in the metrics function at /metrics/dashboards). */
export function dashboardRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', describe({ summary: "A project's dashboards the caller may see (shared ones and their own private ones)", ...READER, query: ProjectQuery, responses: { 200: DashboardsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ dashboards: await listDashboards(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.post('/', describe({ summary: 'Create a dashboard (owners, admins, members assigned to the project)', ...WRITER, body: CreateDashboard, responses: { 201: DashboardResponse } }), async (c) => {
    return c.json({ dashboard: await createDashboard(deps, actorClaims(c), await parseBody(c, CreateDashboard)) }, 201);
  });

  // Before /:id, which would otherwise take "import" for an id.
  app.post('/import', describe({ summary: 'Create a dashboard from an export', description: 'Takes the document GET /dashboards/{id}/export gives, validated as a create is.', ...WRITER, body: ImportDashboard, responses: { 201: DashboardResponse } }), async (c) => {
    return c.json({ dashboard: await importDashboard(deps, actorClaims(c), await parseBody(c, ImportDashboard)) }, 201);
  });

  app.get('/:id', describe({ summary: 'One dashboard with its panels', ...READER, params: DashboardParams, responses: { 200: DashboardResponse } }), async (c) => {
    return c.json({ dashboard: await getDashboard(deps, readerClaims(c).claims, parseParams(c, DashboardParams).id) });
  });

  app.get('/:id/export', describe({ summary: 'A dashboard as portable JSON (no ids, project or versions)', ...READER, params: DashboardParams, responses: { 200: DashboardExportResponse } }), async (c) => {
    const exported = await exportDashboard(deps, readerClaims(c).claims, parseParams(c, DashboardParams).id);
    const name = exported.title.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100) || 'dashboard';
    c.header('content-disposition', `attachment; filename="${name}.json"`);
    return c.json(exported);
  });

  app.put('/:id', describe({ summary: 'Replace a dashboard, if it is still at the version read', description: 'A stale `version` is a 409 and nothing is written.', ...WRITER, params: DashboardParams, body: ReplaceDashboard, responses: { 200: DashboardResponse } }), async (c) => {
    const { id } = parseParams(c, DashboardParams);
    return c.json({ dashboard: await replaceDashboard(deps, actorClaims(c), id, await parseBody(c, ReplaceDashboard)) });
  });

  app.delete('/:id', describe({ summary: 'Delete a dashboard', ...WRITER, params: DashboardParams, responses: { 204: null } }), async (c) => {
    await deleteDashboard(deps, actorClaims(c), parseParams(c, DashboardParams).id);
    return c.body(null, 204);
  });

  return app;
}
