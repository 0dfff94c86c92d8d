import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { parseParams, parseQuery } from '../../http/validate.ts';
import { getNotification } from '../get-notification.ts';
import { listGroups } from '../list-groups.ts';
import { listHistory } from '../list-history.ts';
import { listInstances } from '../list-instances.ts';
import { listNotifications } from '../list-notifications.ts';
import { retryNotification } from '../retry-notification.ts';
import { HistoryQuery, IdParams, InstancesQuery, NotificationsQuery, ProjectQuery } from '../schemas.ts';

/**
 * What alerting is doing (mounted at /alerts): current instances, their history, the dispatcher's
 * groups and the notification log. The jobs write all of it; users read it (RLS), and writers may
 * send a failed notification again.
 */
export function stateRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/instances', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ instances: await listInstances(deps, claims, keyProjectId, parseQuery(c, InstancesQuery)) });
  });

  app.get('/history', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await listHistory(deps, claims, keyProjectId, parseQuery(c, HistoryQuery)));
  });

  app.get('/groups', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ groups: await listGroups(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.get('/notifications', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await listNotifications(deps, claims, keyProjectId, parseQuery(c, NotificationsQuery)));
  });

  app.get('/notifications/:id', async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ notification: await getNotification(deps, claims, parseParams(c, IdParams).id) });
  });

  app.post('/notifications/:id/retry', async (c) => {
    const claims = actorClaims(c, { keyScope: 'admin' });
    return c.json({ notification: await retryNotification(deps, claims, parseParams(c, IdParams).id) }, 202);
  });

  return app;
}
