import { Hono } from 'hono';
import { authorize } from '../../auth/authenticate.ts';
import type { Deps } from '../../core/deps.ts';
import { writerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { createEndpoint } from '../create-endpoint.ts';
import { deleteEndpoint } from '../delete-endpoint.ts';
import { eventCatalogue } from '../events.ts';
import { getEndpoint } from '../get-endpoint.ts';
import { getMessage } from '../get-message.ts';
import { listEndpoints } from '../list-endpoints.ts';
import { listMessages } from '../list-messages.ts';
import { recoverMessages } from '../recover-messages.ts';
import { replayMessage } from '../replay-message.ts';
import { rotateEndpointSecret } from '../rotate-endpoint-secret.ts';
import { CreateEndpoint, EndpointsQuery, IdParams, MessagesQuery, RecoverMessages, RotateSecret, TestEndpoint, UpdateEndpoint } from '../schemas.ts';
import { testEndpoint } from '../test-endpoint.ts';
import { updateEndpoint } from '../update-endpoint.ts';
import {
  EndpointResponse,
  EndpointsResponse,
  EndpointWithSecretResponse,
  EventTypesResponse,
  MessageDetailResponse,
  MessageResponse,
  MessagesResponse,
  RecoverResponse,
  TestEndpointResponse,
} from '../responses.ts';

/** Owners and admins of the organization, or an admin-scoped key for its project's endpoints (src/http/actor.ts writerClaims). */
const MANAGER = { auth: ['user', 'apiKey'], scope: 'admin' } as const;

/**
 * The webhooks function: the event catalogue; endpoints (owners and admins of the organization, or an
 * admin-scoped API key for its project's endpoints: everything else, including reads, since a
 * delivery log shows what a receiver answered); their signing secrets (shown on creation and
 * rotation only); test-sends; the messages and attempts the deliver-webhooks job records; replay
 * and recovery. RLS decides every read and write: an endpoint the caller cannot see is a 404.
 */
export function webhooksRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // The catalogue is no tenant's data: any signed-in user or API key may read it.
  app.get('/event-types', describe({ summary: 'The event catalogue: every event type, with the JSON Schema of its data', auth: ['user', 'apiKey'], responses: { 200: EventTypesResponse } }), (c) => {
    authorize(c.get('identity'), ['user', 'apiKey']);
    return c.json({ eventTypes: eventCatalogue() });
  });

  app.post('/endpoints', describe({ summary: 'Add a webhook endpoint (a project\'s, or an organization\'s)', description: 'The signing secret is returned this once.', ...MANAGER, body: CreateEndpoint, responses: { 201: EndpointWithSecretResponse } }), async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json(await createEndpoint(deps, claims, keyProjectId, await parseBody(c, CreateEndpoint)), 201);
  });

  app.get('/endpoints', describe({ summary: 'Webhook endpoints the caller manages', ...MANAGER, query: EndpointsQuery, responses: { 200: EndpointsResponse } }), async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json({ endpoints: await listEndpoints(deps, claims, keyProjectId, parseQuery(c, EndpointsQuery)) });
  });

  app.get('/endpoints/:id', describe({ summary: 'One webhook endpoint', ...MANAGER, params: IdParams, responses: { 200: EndpointResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    return c.json({ endpoint: await getEndpoint(deps, claims, parseParams(c, IdParams).id) });
  });

  app.patch('/endpoints/:id', describe({ summary: 'Change a webhook endpoint', description: '`enabled: true` clears a disable.', ...MANAGER, params: IdParams, body: UpdateEndpoint, responses: { 200: EndpointResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json({ endpoint: await updateEndpoint(deps, claims, id, await parseBody(c, UpdateEndpoint)) });
  });

  app.delete('/endpoints/:id', describe({ summary: 'Remove a webhook endpoint', ...MANAGER, params: IdParams, responses: { 204: null } }), async (c) => {
    const { claims } = writerClaims(c);
    await deleteEndpoint(deps, claims, parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  app.post('/endpoints/:id/rotate-secret', describe({ summary: "Give an endpoint a new signing secret (returned this once)", description: 'The old secret keeps signing beside the new one until `secretRotation.previousExpiresAt`.', ...MANAGER, params: IdParams, body: RotateSecret, responses: { 200: EndpointWithSecretResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json(await rotateEndpointSecret(deps, claims, id, await parseBody(c, RotateSecret)));
  });

  // Sends one webhook.test event now; a failed delivery is a 200 with {ok: false} and the reason.
  app.post('/endpoints/:id/test', describe({ summary: 'Send one webhook.test event now', description: 'A failed delivery is a 200 with `result.ok: false` and the reason.', ...MANAGER, params: IdParams, body: TestEndpoint, responses: { 200: TestEndpointResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json(await testEndpoint(deps, claims, id, await parseBody(c, TestEndpoint)));
  });

  app.get('/endpoints/:id/messages', describe({ summary: "An endpoint's messages, newest first, in keyset pages", ...MANAGER, params: IdParams, query: MessagesQuery, responses: { 200: MessagesResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json(await listMessages(deps, claims, id, parseQuery(c, MessagesQuery)));
  });

  app.post('/endpoints/:id/recover', describe({ summary: 'Send again every failed message since a time (once a minute per endpoint)', ...MANAGER, params: IdParams, body: RecoverMessages, responses: { 202: RecoverResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json(await recoverMessages(deps, claims, id, await parseBody(c, RecoverMessages)), 202);
  });

  app.get('/messages/:id', describe({ summary: 'One message with its payload and every attempt', ...MANAGER, params: IdParams, responses: { 200: MessageDetailResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    return c.json({ message: await getMessage(deps, claims, parseParams(c, IdParams).id) });
  });

  app.post('/messages/:id/replay', describe({ summary: 'Send a delivered or failed message again (same webhook-id)', ...MANAGER, params: IdParams, responses: { 202: MessageResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    return c.json({ message: await replayMessage(deps, claims, parseParams(c, IdParams).id) }, 202);
  });

  return app;
}
