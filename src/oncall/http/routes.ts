import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../../core/deps.ts';
import { actorClaims, readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { respondWithStream } from '../../http/sse-stream.ts';
import { createStreamSlots } from '../../http/stream-slots.ts';
import { acceptStreamToken, describeStreamToken, mintStreamToken } from '../../http/stream-token.ts';
import { invalid, parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { streamCredential } from '../../auth/stream-credential.ts';
import { IncidentStreamQuery, openIncidentStream, TimelineId } from '../stream-incidents.ts';
import { followLink, isLinkAction, LinkActionName, type LinkPage, showLink, unknownLinkPage } from '../act-by-link.ts';
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
import { PagerDutyEvent } from '../pagerduty-events.ts';
import {
  CreatedServiceResponse,
  EndMaintenanceResponse,
  EscalationPoliciesResponse,
  EscalationPolicyResponse,
  EventAccepted,
  EventInvalid,
  EventThrottled,
  INCIDENT_STREAM_EVENTS,
  IncidentDetailResponse,
  IncidentResponse,
  IncidentsResponse,
  IncidentStatsResponse,
  LINK_PAGES,
  MaintenanceWindowResponse,
  MaintenanceWindowsResponse,
  MaybeSlackAppResponse,
  MergeResponse,
  NotificationRulesResponse,
  PagerDutyWebhookReceived,
  PagerDutyWebhookResponse,
  PagerDutyWebhooksResponse,
  ServiceResponse,
  ServicesResponse,
  SlackAppResponse,
} from '../responses.ts';

/** Readers: signed-in users, or API keys with the read scope (src/http/actor.ts readerClaims). */
const READER = { auth: ['user', 'apiKey'], scope: 'read' } as const;
/** Signed-in users only (src/http/actor.ts actorClaims); RLS and the verb decide the role. */
const USER = { auth: ['user'] } as const;
/** The route's own credential (a routing key, a signed token, a signature), none of ours. */
const OWN_CREDENTIAL = { auth: [] } as const;
const LinkParams = z.object({ action: LinkActionName, token: z.string() });
const SignedParams = z.object({ id: z.string() });

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
  app.post('/v2/enqueue', describe({ summary: 'PagerDuty Events API v2: trigger, acknowledge or resolve an alert', description: "The routing key in the body (a service's integration key) is the credential. Answers as PagerDuty does: 202 with the dedup key (also for an acknowledge or resolve with nothing open), 400 with `errors`, 429 with Retry-After.", ...OWN_CREDENTIAL, body: PagerDutyEvent, responses: { 202: EventAccepted, 400: EventInvalid, 429: EventThrottled } }), async (c) => {
    const result = await enqueueEvent(deps, await c.req.text());
    if (result.status === 429) return c.json(result.body, 429, result.headers);
    return c.json(result.body, result.status);
  });

  // Signed one-click links from pages (acknowledge, resolve): the token is the credential, like the
  // routing key above. GET asks to confirm; POST acts as the person the link was signed for.
  const linkAnswer = (c: Context<AppEnv>, p: LinkPage) =>
    c.html(p.html, p.status, { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
  app.get('/actions/:action/:token', describe({ summary: 'A signed action link from a page: the confirmation page', description: 'The signed token is the credential. Answers HTML.', ...OWN_CREDENTIAL, params: LinkParams, responses: LINK_PAGES }), async (c) => {
    const action = c.req.param('action');
    if (!isLinkAction(action)) return linkAnswer(c, unknownLinkPage());
    return linkAnswer(c, await showLink(deps, action, c.req.param('token')));
  });
  app.post('/actions/:action/:token', describe({ summary: 'A signed action link from a page: act (acknowledge or resolve)', description: 'Acts as the person the link was signed for. Answers HTML.', ...OWN_CREDENTIAL, params: LinkParams, responses: LINK_PAGES }), async (c) => {
    const action = c.req.param('action');
    if (!isLinkAction(action)) return linkAnswer(c, unknownLinkPage());
    return linkAnswer(c, await followLink(deps, action, c.req.param('token')));
  });

  // Slack's interactive requests: the app's signing secret is the credential (Slack sends no other).
  app.post('/slack/actions/:id', describe({ summary: "Slack's interactive requests (the buttons on a page)", description: "Verified with the organization's Slack app signing secret (X-Slack-Signature); 401 when not signed by it.", ...OWN_CREDENTIAL, params: SignedParams, body: { content: { 'application/x-www-form-urlencoded': undefined } }, responses: { 200: null } }), async (c) => {
    const status = await handleSlackAction(
      deps,
      c.req.param('id'),
      { timestamp: c.req.header('x-slack-request-timestamp') ?? null, signature: c.req.header('x-slack-signature') ?? null },
      await c.req.text(),
    );
    return status === 200 ? c.body(null, 200) : c.json({ error: { code: 'UNAUTHENTICATED', message: 'The request is not signed by this Slack app' } }, 401);
  });
  // PagerDuty webhooks v3: the subscription's signature is the credential.
  app.post('/pagerduty/webhooks/:id', describe({ summary: 'PagerDuty webhooks v3: acknowledgements and resolutions made in PagerDuty', description: "Verified with the subscription's signing secret (X-PagerDuty-Signature); 401 when not signed by it. Events of other types or incidents are accepted and ignored.", ...OWN_CREDENTIAL, params: SignedParams, body: { content: { 'application/json': undefined } }, responses: { 200: PagerDutyWebhookReceived } }), async (c) => {
    const r = await receivePagerDutyWebhook(deps, c.req.param('id'), c.req.header('x-pagerduty-signature') ?? null, await c.req.text());
    return r.status === 200 ? c.json({ applied: r.applied }) : c.json({ error: { code: 'UNAUTHENTICATED', message: 'The request is not signed by this webhook subscription' } }, 401);
  });
  app.post('/pagerduty-webhooks', describe({ summary: 'Register a PagerDuty webhook subscription (owners and admins)', ...USER, body: CreatePagerDutyWebhook, responses: { 201: PagerDutyWebhookResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ pagerdutyWebhook: await createPagerDutyWebhook(deps, claims, await parseBody(c, CreatePagerDutyWebhook)) }, 201);
  });
  app.get('/pagerduty-webhooks', describe({ summary: "An organization's PagerDuty webhook subscriptions", ...USER, query: OrganizationQuery, responses: { 200: PagerDutyWebhooksResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ pagerdutyWebhooks: await listPagerDutyWebhooks(deps, claims, parseQuery(c, OrganizationQuery).organizationId) });
  });
  app.delete('/pagerduty-webhooks/:id', describe({ summary: 'Remove a PagerDuty webhook subscription', ...USER, params: IdParams, responses: { 204: null } }), async (c) => {
    await deletePagerDutyWebhook(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });
  // ---- an organization's Slack app (its signing secret): owners and admins.
  app.put('/slack-app', describe({ summary: "Set an organization's Slack app signing secret (owners and admins)", ...USER, body: PutSlackApp, responses: { 200: SlackAppResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { organizationId, signingSecret } = await parseBody(c, PutSlackApp);
    return c.json({ slackApp: await putSlackApp(deps, claims, organizationId, signingSecret) });
  });
  app.get('/slack-app', describe({ summary: "An organization's Slack app (never its secret); null when none is set", ...USER, query: OrganizationQuery, responses: { 200: MaybeSlackAppResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ slackApp: await getSlackApp(deps, claims, parseQuery(c, OrganizationQuery).organizationId) });
  });
  app.delete('/slack-app', describe({ summary: "Remove an organization's Slack app", ...USER, query: OrganizationQuery, responses: { 204: null } }), async (c) => {
    await deleteSlackApp(deps, actorClaims(c), parseQuery(c, OrganizationQuery).organizationId);
    return c.body(null, 204);
  });

  // ---- services: readers list and read; owners and admins create and remove.
  app.post('/services', describe({ summary: 'Create an on-call service (owners and admins)', description: 'The Events v2 routing key (`integrationKey`) is shown this once.', ...USER, body: CreateService, responses: { 201: CreatedServiceResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json(await createService(deps, claims, await parseBody(c, CreateService)), 201);
  });
  app.get('/services', describe({ summary: "A project's on-call services", ...READER, query: ServicesQuery, responses: { 200: ServicesResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ services: await listServices(deps, claims, keyProjectId, parseQuery(c, ServicesQuery)) });
  });
  app.get('/services/:id', describe({ summary: 'One on-call service', ...READER, params: IdParams, responses: { 200: ServiceResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ service: await getService(deps, claims, parseParams(c, IdParams).id) });
  });
  app.patch('/services/:id', describe({ summary: 'Change an on-call service (owners and admins)', ...USER, params: IdParams, body: UpdateService, responses: { 200: ServiceResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json({ service: await updateService(deps, claims, id, await parseBody(c, UpdateService)) });
  });
  app.post('/services/:id/maintenance', describe({ summary: 'Open a maintenance window on a service (incidents open held: nobody is paged)', ...USER, params: IdParams, body: CreateMaintenance, responses: { 201: MaintenanceWindowResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json({ maintenanceWindow: await createMaintenance(deps, claims, id, await parseBody(c, CreateMaintenance)) }, 201);
  });
  app.get('/services/:id/maintenance', describe({ summary: "A service's maintenance windows, latest first", ...READER, params: IdParams, responses: { 200: MaintenanceWindowsResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ maintenanceWindows: await listMaintenance(deps, claims, parseParams(c, IdParams).id) });
  });
  app.delete('/maintenance/:id', describe({ summary: 'End a maintenance window now (or remove one still to come)', ...USER, params: IdParams, responses: { 200: EndMaintenanceResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json(await endMaintenance(deps, claims, parseParams(c, IdParams).id));
  });
  app.delete('/services/:id', describe({ summary: 'Delete an on-call service (owners and admins)', ...USER, params: IdParams, responses: { 204: null } }), async (c) => {
    await deleteService(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  // ---- escalation policies: an organization's members read; its owners and admins manage.
  app.post('/escalation-policies', describe({ summary: 'Create an escalation policy (owners and admins)', ...USER, body: CreatePolicy, responses: { 201: EscalationPolicyResponse } }), async (c) => {
    return c.json({ escalationPolicy: await createEscalationPolicy(deps, actorClaims(c), await parseBody(c, CreatePolicy)) }, 201);
  });
  app.get('/escalation-policies', describe({ summary: "An organization's escalation policies", ...USER, query: PoliciesQuery, responses: { 200: EscalationPoliciesResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ escalationPolicies: await listEscalationPolicies(deps, claims, parseQuery(c, PoliciesQuery).organizationId) });
  });
  app.get('/escalation-policies/:id', describe({ summary: 'One escalation policy', ...USER, params: IdParams, responses: { 200: EscalationPolicyResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ escalationPolicy: await getEscalationPolicy(deps, claims, parseParams(c, IdParams).id) });
  });
  app.put('/escalation-policies/:id', describe({ summary: 'Change an escalation policy (owners and admins)', ...USER, params: IdParams, body: UpdatePolicy, responses: { 200: EscalationPolicyResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json({ escalationPolicy: await updateEscalationPolicy(deps, claims, id, await parseBody(c, UpdatePolicy)) });
  });
  app.delete('/escalation-policies/:id', describe({ summary: 'Delete an escalation policy (owners and admins)', ...USER, params: IdParams, responses: { 204: null } }), async (c) => {
    await deleteEscalationPolicy(deps, actorClaims(c), parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  // ---- incidents: readers list and read; whoever may change the project acts (signed-in users).
  app.get('/incidents', describe({ summary: "A project's incidents, newest first", ...READER, query: IncidentsQuery, responses: { 200: IncidentsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ incidents: await listIncidents(deps, claims, keyProjectId, parseQuery(c, IncidentsQuery)) });
  });
  // Incident changes as Server-Sent Events, with the alert stream's machinery and caps.
  app.post('/incidents/stream/token', describeStreamToken('incident stream'), mintStreamToken(deps));
  app.get(
    '/incidents/stream',
    describe({ summary: "A project's incident changes as server-sent events", description: 'Open with a header credential, or `?access_token=` from POST /incidents/stream/token (EventSource).', ...READER, query: IncidentStreamQuery, responses: { 200: INCIDENT_STREAM_EVENTS } }),
    acceptStreamToken(deps),
    async (c) => {
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
    },
  );
  app.get('/incidents/stats', describe({ summary: 'MTTA and MTTR by service, escalation policy and responder', description: 'Over incidents opened in [from, to): by default the last 30 days, at most 366.', ...READER, query: IncidentStatsQuery, responses: { 200: IncidentStatsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await incidentStats(deps, claims, keyProjectId, parseQuery(c, IncidentStatsQuery)));
  });
  app.get('/incidents/:id', describe({ summary: 'One incident with its timeline', ...READER, params: IdParams, responses: { 200: IncidentDetailResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    return c.json(await getIncident(deps, claims, parseParams(c, IdParams).id));
  });
  app.post('/incidents/:id/acknowledge', describe({ summary: 'Acknowledge an incident', ...USER, params: IdParams, responses: { 200: IncidentResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ incident: await actOnIncident(deps, claims, parseParams(c, IdParams).id, { type: 'acknowledge' }) });
  });
  app.post('/incidents/:id/resolve', describe({ summary: 'Resolve an incident', ...USER, params: IdParams, responses: { 200: IncidentResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ incident: await actOnIncident(deps, claims, parseParams(c, IdParams).id, { type: 'resolve' }) });
  });
  app.post('/incidents/:id/unacknowledge', describe({ summary: 'Return an acknowledged incident to triggered', ...USER, params: IdParams, responses: { 200: IncidentResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json({ incident: await actOnIncident(deps, claims, parseParams(c, IdParams).id, { type: 'unacknowledge' }) });
  });
  app.post('/incidents/:id/snooze', describe({ summary: 'Snooze an incident (acknowledged until a time within 24 hours)', ...USER, params: IdParams, body: SnoozeIncident, responses: { 200: IncidentResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    const body = await parseBody(c, SnoozeIncident);
    const until = body.until !== undefined ? Date.parse(body.until) : deps.clock.now().getTime() + body.minutes! * 60_000;
    return c.json({ incident: await actOnIncident(deps, claims, id, { type: 'snooze', until }) });
  });
  app.post('/incidents/:id/reassign', describe({ summary: "Reassign an incident: these targets take level 1's place, paged at once", ...USER, params: IdParams, body: ReassignIncident, responses: { 200: IncidentResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    const { targets } = await parseBody(c, ReassignIncident);
    return c.json({ incident: await actOnIncident(deps, claims, id, { type: 'reassign', targets }) });
  });
  app.post('/incidents/:id/merge', describe({ summary: 'Merge an incident into another (it resolves into it)', ...USER, params: IdParams, body: MergeIncident, responses: { 200: MergeResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json(await mergeIncident(deps, claims, id, (await parseBody(c, MergeIncident)).into));
  });
  app.post('/incidents/:id/notes', describe({ summary: "Add a note to an incident's timeline", ...USER, params: IdParams, body: AddNote, responses: { 201: IncidentResponse } }), async (c) => {
    const claims = actorClaims(c);
    const { id } = parseParams(c, IdParams);
    const { text } = await parseBody(c, AddNote);
    return c.json({ incident: await actOnIncident(deps, claims, id, { type: 'note', text }) }, 201);
  });

  // ---- the caller's own notification rules (how and when a page reaches them).
  app.get('/me/notification-rules', describe({ summary: 'The caller\'s notification rules (how and when a page reaches them)', ...USER, responses: { 200: NotificationRulesResponse } }), async (c) => c.json(await getMyNotificationRules(deps, actorClaims(c))));
  app.put('/me/notification-rules', describe({ summary: 'Set the caller\'s notification rules', ...USER, body: PutNotificationRules, responses: { 200: NotificationRulesResponse } }), async (c) => {
    const claims = actorClaims(c);
    return c.json(await putMyNotificationRules(deps, claims, await parseBody(c, PutNotificationRules)));
  });
  app.delete('/me/notification-rules', describe({ summary: 'Back to the default notification rules (email at once)', ...USER, responses: { 204: null } }), async (c) => {
    await deleteMyNotificationRules(deps, actorClaims(c));
    return c.body(null, 204);
  });

  // ---- on-call schedules, shifts and iCal feeds.
  app.route('/', scheduleRoutes(deps));

  return app;
}
