import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { readerClaims, writerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { createSilence } from '../create-silence.ts';
import { expireSilence } from '../expire-silence.ts';
import { getSilence, listSilences } from '../list-silences.ts';
import { CreateSilence, IdParams, SilencesQuery } from '../schemas.ts';

/**
 * Silences (mounted at /alerts/silences), with Alertmanager's semantics: matchers and a time range;
 * members who may change the project create and expire them, readers list them.
 */
export function silenceRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/', async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json({ silence: await createSilence(deps, claims, keyProjectId, await parseBody(c, CreateSilence)) }, 201);
  });

  app.get('/', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ silences: await listSilences(deps, claims, keyProjectId, parseQuery(c, SilencesQuery)) });
  });

  app.get('/:id', async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ silence: await getSilence(deps, claims, parseParams(c, IdParams).id) });
  });

  // Expires the silence (it stays listed, as history): Alertmanager's DELETE /silence/{id}.
  app.delete('/:id', async (c) => {
    const { claims } = writerClaims(c);
    return c.json({ silence: await expireSilence(deps, claims, parseParams(c, IdParams).id) });
  });

  return app;
}
