import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { createDestination } from '../create-destination.ts';
import { deleteDestination } from '../delete-destination.ts';
import { deleteSchedule } from '../delete-schedule.ts';
import { getDestination, listDestinations } from '../list-destinations.ts';
import { getExport, listExports } from '../list-exports.ts';
import { listSchedules } from '../list-schedules.ts';
import { putSchedule } from '../put-schedule.ts';
import { requestExport } from '../request-export.ts';
import { retryExport } from '../retry-export.ts';
import { CreateDestination, IdParams, ListExportsQuery, ProjectQuery, PutSchedule, RequestExport } from '../schemas.ts';

/**
 * Exports of logs and spans to S3-compatible storage: destinations, runs, schedules (mounted at
 * /logs/exports). Reads: users (RLS) or keys with read scope; writes: users, RLS decides who.
 * Requesting or retrying a run only queues it; the export-telemetry job does the work.
 */
export function exportRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/destinations', async (c) => {
    const claims = actorClaims(c);
    return c.json({ destination: await createDestination(deps, claims, await parseBody(c, CreateDestination)) }, 201);
  });

  app.get('/destinations', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ destinations: await listDestinations(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.get('/destinations/:id', async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ destination: await getDestination(deps, claims, parseParams(c, IdParams).id) });
  });

  app.delete('/destinations/:id', async (c) => {
    await deleteDestination(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  app.put('/schedules', async (c) => {
    const claims = actorClaims(c);
    return c.json({ schedule: await putSchedule(deps, claims, undefined, await parseBody(c, PutSchedule)) });
  });

  app.get('/schedules', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ schedules: await listSchedules(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.delete('/schedules/:id', async (c) => {
    await deleteSchedule(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  app.post('/', async (c) => {
    const claims = actorClaims(c);
    return c.json({ export: await requestExport(deps, claims, undefined, await parseBody(c, RequestExport)) }, 202);
  });

  app.get('/', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ exports: await listExports(deps, claims, keyProjectId, parseQuery(c, ListExportsQuery)) });
  });

  app.get('/:id', async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ export: await getExport(deps, claims, parseParams(c, IdParams).id) });
  });

  app.post('/:id/retry', async (c) => {
    const claims = actorClaims(c);
    return c.json({ export: await retryExport(deps, claims, parseParams(c, IdParams).id) }, 202);
  });

  return app;
}
