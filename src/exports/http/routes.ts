import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { createDestination } from '../create-destination.ts';
import { deleteDestination } from '../delete-destination.ts';
import { deleteSchedule } from '../delete-schedule.ts';
import { getDestination, listDestinations } from '../list-destinations.ts';
import { getExport, listExports } from '../list-exports.ts';
import { listSchedules } from '../list-schedules.ts';
import { putSchedule } from '../put-schedule.ts';
import { requestExport } from '../request-export.ts';
import { DestinationResponse, DestinationsResponse, ExportResponse, ExportsResponse, ScheduleResponse, SchedulesResponse } from '../responses.ts';
import { retryExport } from '../retry-export.ts';
import { CreateDestination, IdParams, ListExportsQuery, ProjectQuery, PutSchedule, RequestExport } from '../schemas.ts';

const READER = { auth: ['user', 'apiKey'], scope: 'read' } as const;

/**
 * Exports of logs and spans to S3-compatible storage: destinations, runs, schedules (mounted at
 * /logs/exports). Reads: users (RLS) or keys with read scope; writes: users, RLS decides who.
 * Requesting or retrying a run only queues it; the export-telemetry job does the work.
 */
export function exportRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/destinations', describe({ summary: 'Add an S3-compatible destination (verified by a test write)', auth: ['user'], body: CreateDestination, responses: { 201: DestinationResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ destination: await createDestination(deps, claims, await parseBody(c, CreateDestination)) }, 201);
  });

  app.get('/destinations', describe({ summary: 'Export destinations (never their secrets)', ...READER, query: ProjectQuery, responses: { 200: DestinationsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ destinations: await listDestinations(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.get('/destinations/:id', describe({ summary: 'One export destination', ...READER, params: IdParams, responses: { 200: DestinationResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ destination: await getDestination(deps, claims, parseParams(c, IdParams).id) });
  });

  app.delete('/destinations/:id', describe({ summary: 'Delete an export destination', auth: ['user'], params: IdParams, responses: { 204: null } }), async (c) => {
    await deleteDestination(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  app.put('/schedules', describe({ summary: 'Create or change the daily export of one signal to one destination', auth: ['user'], body: PutSchedule, responses: { 200: ScheduleResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ schedule: await putSchedule(deps, claims, undefined, await parseBody(c, PutSchedule)) });
  });

  app.get('/schedules', describe({ summary: 'Export schedules', ...READER, query: ProjectQuery, responses: { 200: SchedulesResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ schedules: await listSchedules(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.delete('/schedules/:id', describe({ summary: 'Delete an export schedule', auth: ['user'], params: IdParams, responses: { 204: null } }), async (c) => {
    await deleteSchedule(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  app.post('/', describe({ summary: 'Request a one-off export of a time range (queued)', auth: ['user'], body: RequestExport, responses: { 202: ExportResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ export: await requestExport(deps, claims, undefined, await parseBody(c, RequestExport)) }, 202);
  });

  app.get('/', describe({ summary: 'Export runs, newest first', ...READER, query: ListExportsQuery, responses: { 200: ExportsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ exports: await listExports(deps, claims, keyProjectId, parseQuery(c, ListExportsQuery)) });
  });

  app.get('/:id', describe({ summary: 'One export run', ...READER, params: IdParams, responses: { 200: ExportResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ export: await getExport(deps, claims, parseParams(c, IdParams).id) });
  });

  app.post('/:id/retry', describe({ summary: 'Retry a failed export run (queued)', auth: ['user'], params: IdParams, responses: { 202: ExportResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ export: await retryExport(deps, claims, parseParams(c, IdParams).id) }, 202);
  });

  return app;
}
