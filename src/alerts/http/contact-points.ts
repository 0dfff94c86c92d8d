import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { readerClaims, writerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { createContactPoint } from '../create-contact-point.ts';
import { deleteContactPoint } from '../delete-contact-point.ts';
import { getContactPoint } from '../get-contact-point.ts';
import { listContactPoints } from '../list-contact-points.ts';
import type { SmtpSender } from '../notifiers/index.ts';
import { CreateContactPoint, IdParams, ProjectQuery, UpdateContactPoint } from '../schemas.ts';
import { testContactPoint } from '../test-contact-point.ts';
import { updateContactPoint } from '../update-contact-point.ts';

/**
 * Contact points (mounted at /alerts/contact-points): where notifications go. Readers list them
 * (never a secret: `hasSecret` says whether one is set); owners and admins add, change, remove and
 * test them.
 */
export function contactPointRoutes(deps: Deps & { smtp?: SmtpSender }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/', async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json(await createContactPoint(deps, claims, keyProjectId, await parseBody(c, CreateContactPoint)), 201);
  });

  app.get('/', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ contactPoints: await listContactPoints(deps, claims, keyProjectId, parseQuery(c, ProjectQuery).projectId) });
  });

  app.get('/:id', async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ contactPoint: await getContactPoint(deps, claims, parseParams(c, IdParams).id) });
  });

  app.patch('/:id', async (c) => {
    const { claims } = writerClaims(c);
    const { id } = parseParams(c, IdParams);
    return c.json({ contactPoint: await updateContactPoint(deps, claims, id, await parseBody(c, UpdateContactPoint)) });
  });

  app.delete('/:id', async (c) => {
    await deleteContactPoint(deps, writerClaims(c).claims, parseParams(c, IdParams).id);
    return c.body(null, 204);
  });

  // Sends one synthetic notification now; a failed delivery is a 200 with {ok: false} and the reason.
  app.post('/:id/test', async (c) => {
    const { claims } = writerClaims(c);
    return c.json({ result: await testContactPoint(deps, claims, parseParams(c, IdParams).id) });
  });

  return app;
}
