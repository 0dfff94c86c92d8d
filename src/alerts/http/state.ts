import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseParams, parseQuery } from '../../http/validate.ts';
import { getNotification } from '../get-notification.ts';
import { listGroups } from '../list-groups.ts';
import { listHistory } from '../list-history.ts';
import { listInstances } from '../list-instances.ts';
import { listNotifications } from '../list-notifications.ts';
import { retryNotification } from '../retry-notification.ts';
import { HistoryQuery, IdParams, InstancesQuery, NotificationsQuery, ProjectQuery } from '../schemas.ts';
import { GroupsResponse, HistoryResponse, InstancesResponse, NotificationDetailResponse, NotificationResponse, NotificationsResponse } from '../responses.ts';
import { READER, WRITER } from './callers.ts';

/**
 * What alerting is doing (mounted at /alerts): current instances, their history, the dispatcher's
 * groups and the notification log. The jobs write all of it; users read it (RLS), and writers may
 * send a failed notification again.
 */
export function stateRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/instances', describe({ summary: 'Current alerts (pending, firing, recently resolved), newest first', description: 'Filter with Alertmanager matcher text: `{severity="critical", service=~"api|web"}`.', ...READER, query: InstancesQuery, responses: { 200: InstancesResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ instances: await listInstances(deps, claims, keyProjectId, parseQuery(c, InstancesQuery)) });
  });

  app.get('/history', describe({ summary: 'Alert state transitions, newest first, in keyset pages', ...READER, query: HistoryQuery, responses: { 200: HistoryResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await listHistory(deps, claims, keyProjectId, parseQuery(c, HistoryQuery)));
  });

  app.get('/groups', describe({ summary: "The dispatcher's notification groups", ...READER, query: ProjectQuery, responses: { 200: GroupsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ groups: await listGroups(deps, claims, keyProjectId, parseQuery(c, ProjectQuery)) });
  });

  app.get('/notifications', describe({ summary: 'The notification log, newest first, in keyset pages', ...READER, query: NotificationsQuery, responses: { 200: NotificationsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await listNotifications(deps, claims, keyProjectId, parseQuery(c, NotificationsQuery)));
  });

  app.get('/notifications/:id', describe({ summary: 'One notification with its payload and every delivery attempt', ...READER, params: IdParams, responses: { 200: NotificationDetailResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ notification: await getNotification(deps, claims, parseParams(c, IdParams).id) });
  });

  app.post('/notifications/:id/retry', describe({ summary: 'Send a failed notification again', ...WRITER, params: IdParams, responses: { 202: NotificationResponse } }), async (c) => {
    const claims = actorClaims(c, { keyScope: 'admin' });
    return c.json({ notification: await retryNotification(deps, claims, parseParams(c, IdParams).id) }, 202);
  });

  return app;
}
