import { type Context, Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { notFound } from '../../core/errors.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { respondWithStream } from '../../http/sse-stream.ts';
import { createStreamSlots } from '../../http/stream-slots.ts';
import { invalid, parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { streamCredential } from '../../auth/stream-credential.ts';
import { IncidentStreamQuery, openIncidentStream, TimelineId } from '../stream-incidents.ts';
import { followLink, isLinkAction, type LinkPage, showLink } from '../act-by-link.ts';
import { actOnIncident } from '../act-on-incident.ts';
import { createEscalationPolicy } from '../create-escalation-policy.ts';
import { createService } from '../create-service.ts';
import { deleteEscalationPolicy } from '../delete-escalation-policy.ts';
import { deleteService } from '../delete-service.ts';
import { enqueueEvent } from '../enqueue-event.ts';
import { getEscalationPolicy } from '../get-escalation-policy.ts';
import { getIncident } from '../get-incident.ts';
import { incidentStats } from '../incident-stats.ts';
import { createMaintenance, endMaintenance, listMaintenance } from '../maintenance.ts';
import { mergeIncident } from '../merge-incidents.ts';
import { createPagerDutyWebhook, deletePagerDutyWebhook, listPagerDutyWebhooks, receivePagerDutyWebhook } from '../pagerduty-webhooks.ts';
import { deleteSlackApp, getSlackApp, handleSlackAction, putSlackApp } from '../slack-actions.ts';
import { getService } from '../get-service.ts';
import { listEscalationPolicies } from '../list-escalation-policies.ts';
import { listIncidents } from '../list-incidents.ts';
import { listServices } from '../list-services.ts';
import { deleteMyNotificationRules, getMyNotificationRules, putMyNotificationRules } from '../my-notification-rules.ts';
import { AddNote, CreateMaintenance, MergeIncident, CreatePagerDutyWebhook, CreatePolicy, OrganizationQuery, PutSlackApp, CreateService, IdParams, IncidentsQuery, IncidentStatsQuery, PoliciesQuery, PutNotificationRules, ReassignIncident, ServicesQuery, SnoozeIncident, UpdatePolicy, UpdateService } from '../schemas.ts';
import { updateEscalationPolicy } from '../update-escalation-policy.ts';
import { updateService } from '../update-service.ts';
import { scheduleRoutes } from './schedule-routes.ts';

/**
 * The oncall function: services (each with an Events v2 routing key shown once), escalation
 * policies, incidents and their timelines, and the PagerDuty Events API v2-compatible inbound
 * endpoint. RLS decides every read: what the caller cannot see is a 404. Incident changes are the
 * API's (the incident core, then state + version + timeline in one transaction).
 */
/** The incidents stream as a kind of stream: its name in messages, and its slot sets' prefix. */
const INCIDENT_STREAM = { name: 'incident stream', plural: 'incident streams', reading: 'incident changes', prefix: 'incident-stream' };

export function oncallRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const incidentSlots = createStreamSlots(deps, { ...INCIDENT_STREAM, caps: deps.config.logTail });

  // PagerDuty Events API v2: the routing key in the body is the credential (no JWT, no API key, as
  // PagerDuty's own endpoint); whatever identity the request carries is not used.
  app.post('/v2/enqueue', async (c) => {
    const result = await enqueueEvent(deps, await c.req.text());
    if (result.status === 429) return c.json(result.body, 429, result.headers);
    return c.json(result.body, result.status);
  });

  // Signed one-click links from pages (acknowledge, resolve): the token is the credential, like the
  // routing key above. GET asks to confirm; POST acts as the person the link was signed for.
  const linkAnswer = (c: Context<AppEnv>, p: LinkPage) =>
    c.html(p.html, p.status, { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
  app.get('/actions/:action/:token', async (c) => {
    const action = c.req.param('action');
    if (!isLinkAction(action)) throw notFound('Action');
    return linkAnswer(c, await showLink(deps, action, c.req.param('token')));
  });
  app.post('/actions/:action/:token', async (c) => {
    const action = c.req.param('action');
    if (!isLinkAction(action)) throw notFound('Action');
    return linkAnswer(c, await followLink(deps, action, c.req.param('token')));
  });

  // Slack's interactive requests: the app's signing secret is the credential (Slack sends no other).
  app.post('/slack/actions/:id', async (c) => {
    const status = await handleSlackAction(
      deps,
      c.req.param('id'),
      { timestamp: c.req.header('x-slack-request-timestamp') ?? null, signature: c.req.header('x-slack-signature') ?? null },
      await c.req.text(),
    );
    return status === 200 ? c.body(null, 200) : c.json({ error: { code: 'UNAUTHENTICATED', message: 'The request is not signed by this Slack app' } }, 401);
  });
  // PagerDuty webhooks v3: the subscription's signature is the credential.
  app.post('/pagerduty/webhooks/:id', async (c) => {
    const r = await receivePagerDutyWebhook(deps, c.req.param('id'), c.req.header('x-pagerduty-signature') ?? null, await c.req.text());
    return r.status === 200 ? c.json({ applied: r.applied }) : c.json({ error: { code: 'UNAUTHENTICATED', message: 'The request is not signed by this webhook subscription' } }, 401);
  });
  app.post('/pagerduty-webhooks', async (c) => {
    const claims = actorClaims(c);
    return c.json({ pagerdutyWebhook: await createPagerDutyWebhook(deps, claims, await parseBody(c, CreatePagerDutyWebhook)) }, 201);
  });
  app.get('/pagerduty-webhooks', async (c) => {
    const claims = actorClaims(c);
    return c.json({ pagerdutyWebhooks: await listPagerDutyWebhooks(deps, claims, parseQuery(c, OrganizationQuery).organizationId) });
  });
  app.delete('/pagerduty-webhooks/:id', async (c) => {
    await deletePagerDutyWebhook(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });
  // ---- an organization's Slack app (its signing secret): owners and admins.
  app.put('/slack-app', async (c) => {
    const claims = actorClaims(c);
    const { organizationId, signingSecret } = await parseBody(c, PutSlackApp);
    return c.json({ slackApp: await putSlackApp(deps, claims, organizationId, signingSecret) });
  });
  app.get('/slack-app', async (c) => {
    const claims = actorClaims(c);
    return c.json({ slackApp: await getSlackApp(deps, claims, parseQuery(c, OrganizationQuery).organizationId) });
  });
  app.delete('/slack-app', async (c) => {
    await deleteSlackApp(deps, actorClaims(c), parseQuery(c, OrganizationQuery).organizationId);
    return c.body(null, 204);
  });

  // ---- services: readers list and read; owners and admins create and remove.
  app.post('/services', async (c) => {
    const claims = actorClaims(c);
    return c.json(await createService(deps, claims, await parseBody(c, CreateService)), 201);
  });
  app.get('/services', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ services: await listServices(deps, claims, keyProjectId, parseQuery(c, ServicesQuery)) });
  });
  app.get('/services/:id', async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ service: await getService(deps, claims, parseParams(c, IdParams).id) });
  });
  app.patch('/services/:id', async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json({ service: await updateService(deps, claims, id, await parseBody(c, UpdateService)) });
  });
  app.post('/services/:id/maintenance', async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json({ maintenanceWindow: await createMaintenance(deps, claims, id, await parseBody(c, CreateMaintenance)) }, 201);
  });
  app.get('/services/:id/maintenance', async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ maintenanceWindows: await listMaintenance(deps, claims, parseParams(c, IdParams).id) });
  });
  app.delete('/maintenance/:id', async (c) => {
    const claims = actorClaims(c);
    return c.json(await endMaintenance(deps, claims, parseParams(c, IdParams).id));
  });
  app.delete('/services/:id', async (c) => {
    await deleteService(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  // ---- escalation policies: an organization's members read; its owners and admins manage.
  app.post('/escalation-policies', async (c) => {
    return c.json({ escalationPolicy: await createEscalationPolicy(deps, actorClaims(c), await parseBody(c, CreatePolicy)) }, 201);
  });
  app.get('/escalation-policies', async (c) => {
    const claims = actorClaims(c);
    return c.json({ escalationPolicies: await listEscalationPolicies(deps, claims, parseQuery(c, PoliciesQuery).organizationId) });
  });
  app.get('/escalation-policies/:id', async (c) => {
    const claims = actorClaims(c);
    return c.json({ escalationPolicy: await getEscalationPolicy(deps, claims, parseParams(c, IdParams).id) });
  });
  app.put('/escalation-policies/:id', async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json({ escalationPolicy: await updateEscalationPolicy(deps, claims, id, await parseBody(c, UpdatePolicy)) });
  });
  app.delete('/escalation-policies/:id', async (c) => {
    await deleteEscalationPolicy(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  // ---- incidents: readers list and read; whoever may change the project acts (signed-in users).
  app.get('/incidents', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ incidents: await listIncidents(deps, claims, keyProjectId, parseQuery(c, IncidentsQuery)) });
  });
  // Incident changes as Server-Sent Events, with the alert stream's machinery and caps.
  app.get('/incidents/stream', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const q = parseQuery(c, IncidentStreamQuery);
    const header = c.req.header('last-event-id');
    if (header !== undefined && !TimelineId.safeParse(header).success) throw invalid('header.last-event-id', 'must be an incident timeline id');
    const stream = await openIncidentStream(deps, claims, keyProjectId, streamCredential(c.get('identity'), claims), { ...q, lastId: header ?? q.lastId });
    return respondWithStream(c, deps, INCIDENT_STREAM, incidentSlots, {
      projectId: stream.projectId,
      get lastId() {
        return stream.lastId;
      },
      async poll() {
        const { changes, end } = await stream.poll();
        return { end, events: changes.map((ch) => ({ event: 'incident', id: ch.id, data: JSON.stringify(ch) })) };
      },
    });
  });
  app.get('/incidents/stats', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await incidentStats(deps, claims, keyProjectId, parseQuery(c, IncidentStatsQuery)));
  });
  app.get('/incidents/:id', async (c) => {
    const { claims } = readerClaims(c);
    return c.json(await getIncident(deps, claims, parseParams(c, IdParams).id));
  });
  app.post('/incidents/:id/acknowledge', async (c) => {
    const claims = actorClaims(c);
    return c.json({ incident: await actOnIncident(deps, claims, parseParams(c, IdParams).id, { type: 'acknowledge' }) });
  });
  app.post('/incidents/:id/resolve', async (c) => {
    const claims = actorClaims(c);
    return c.json({ incident: await actOnIncident(deps, claims, parseParams(c, IdParams).id, { type: 'resolve' }) });
  });
  app.post('/incidents/:id/unacknowledge', async (c) => {
    const claims = actorClaims(c);
    return c.json({ incident: await actOnIncident(deps, claims, parseParams(c, IdParams).id, { type: 'unacknowledge' }) });
  });
  app.post('/incidents/:id/snooze', async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    const body = await parseBody(c, SnoozeIncident);
    const until = body.until !== undefined ? Date.parse(body.until) : deps.clock.now().getTime() + body.minutes! * 60_000;
    return c.json({ incident: await actOnIncident(deps, claims, id, { type: 'snooze', until }) });
  });
  app.post('/incidents/:id/reassign', async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    const { targets } = await parseBody(c, ReassignIncident);
    return c.json({ incident: await actOnIncident(deps, claims, id, { type: 'reassign', targets }) });
  });
  app.post('/incidents/:id/merge', async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json(await mergeIncident(deps, claims, id, (await parseBody(c, MergeIncident)).into));
  });
  app.post('/incidents/:id/notes', async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    const { text } = await parseBody(c, AddNote);
    return c.json({ incident: await actOnIncident(deps, claims, id, { type: 'note', text }) }, 201);
  });

  // ---- the caller's own notification rules (how and when a page reaches them).
  app.get('/me/notification-rules', async (c) => c.json(await getMyNotificationRules(deps, actorClaims(c))));
  app.put('/me/notification-rules', async (c) => {
    const claims = actorClaims(c);
    return c.json(await putMyNotificationRules(deps, claims, await parseBody(c, PutNotificationRules)));
  });
  app.delete('/me/notification-rules', async (c) => {
    await deleteMyNotificationRules(deps, actorClaims(c));
    return c.body(null, 204);
  });

  // ---- on-call schedules, shifts and iCal feeds.
  app.route('/', scheduleRoutes(deps));

  return app;
}
