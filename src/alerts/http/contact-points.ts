import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { readerClaims, writerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { createContactPoint } from '../create-contact-point.ts';
import { deleteContactPoint } from '../delete-contact-point.ts';
import { getContactPoint } from '../get-contact-point.ts';
import { listContactPoints } from '../list-contact-points.ts';
import type { SmtpSender } from '../notifiers/index.ts';
import { CreateContactPoint, IdParams, ProjectQuery, UpdateContactPoint } from '../schemas.ts';
import { testContactPoint } from '../test-contact-point.ts';
import { updateContactPoint } from '../update-contact-point.ts';
import { ContactPointResponse, ContactPointsResponse, ContactPointTestResponse, CreatedContactPointResponse } from '../responses.ts';
import { READER, WRITER } from './callers.ts';

/**
 * Contact points (mounted at /alerts/contact-points): where notifications go. Readers list them
 * (never a secret: `hasSecret` says whether one is set); owners and admins add, change, remove and
 * test them.
 */
export function contactPointRoutes(deps: Deps & { smtp?: SmtpSender }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/', describe({ summary: 'Add a contact point (owners and admins)', description: 'The secret is sealed and never returned; a webhook without one gets a generated signing secret, shown once as `secret`.', ...WRITER, body: CreateContactPoint, responses: { 201: CreatedContactPointResponse } }), async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json(await createContactPoint(deps, claims, keyProjectId, await parseBody(c, CreateContactPoint)), 201);
  });

  app.get('/', describe({ summary: "A project's contact points (never a secret)", ...READER, query: ProjectQuery, responses: { 200: ContactPointsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ contactPoints: await listContactPoints(deps, claims, keyProjectId, parseQuery(c, ProjectQuery).projectId) });
  });

  app.get('/:id', describe({ summary: 'One contact point', ...READER, params: IdParams, responses: { 200: ContactPointResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ contactPoint: await getContactPoint(deps, claims, parseParams(c, IdParams).id) });
  });

  app.patch('/:id', describe({ summary: 'Change a contact point (owners and admins)', description: 'Settings replace the old ones whole; `secret: null` removes an optional secret; `enabled: true` clears a disable.', ...WRITER, params: IdParams, body: UpdateContactPoint, responses: { 200: ContactPointResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json({ contactPoint: await updateContactPoint(deps, claims, id, await parseBody(c, UpdateContactPoint)) });
  });

  app.delete('/:id', describe({ summary: 'Remove a contact point (owners and admins)', ...WRITER, params: IdParams, responses: { 204: null } }), async (c) => {
    await deleteContactPoint(deps, writerClaims(c).claims, parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  // Sends one synthetic notification now; a failed delivery is a 200 with {ok: false} and the reason.
  app.post('/:id/test', describe({ summary: 'Send one synthetic notification now', description: 'A failed delivery is a 200 with `ok: false` and the reason.', ...WRITER, params: IdParams, responses: { 200: ContactPointTestResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    return c.json({ result: await testContactPoint(deps, claims, parseParams(c, IdParams).id) });
  });

  return app;
}
