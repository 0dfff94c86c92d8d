import { Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { readerClaims, writerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { createSilence } from '../create-silence.ts';
import { expireSilence } from '../expire-silence.ts';
import { getSilence, listSilences } from '../list-silences.ts';
import { CreateSilence, IdParams, SilencesQuery } from '../schemas.ts';
import { SilenceResponse, SilencesResponse } from '../responses.ts';
import { READER, WRITER } from './callers.ts';

/**
 * Silences (mounted at /alerts/silences), with Alertmanager's semantics: matchers and a time range;
 * members who may change the project create and expire them, readers list them.
 */
export function silenceRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/', describe({ summary: 'Create a silence (matchers and a time range)', ...WRITER, body: CreateSilence, responses: { 201: SilenceResponse } }), async (c) => {
    const { claims, keyProjectId } = writerClaims(c);
    return c.json({ silence: await createSilence(deps, claims, keyProjectId, await parseBody(c, CreateSilence)) }, 201);
  });

  app.get('/', describe({ summary: 'Silences, newest first, by state at the server\'s time', ...READER, query: SilencesQuery, responses: { 200: SilencesResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json({ silences: await listSilences(deps, claims, keyProjectId, parseQuery(c, SilencesQuery)) });
  });

  app.get('/:id', describe({ summary: 'One silence', ...READER, params: IdParams, responses: { 200: SilenceResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    return c.json({ silence: await getSilence(deps, claims, parseParams(c, IdParams).id) });
  });

  // Expires the silence (it stays listed, as history): Alertmanager's DELETE /silence/{id}.
  app.delete('/:id', describe({ summary: 'Expire a silence now (it stays listed, as history)', ...WRITER, params: IdParams, responses: { 200: SilenceResponse } }), async (c) => {
    const { claims } = writerClaims(c);
    return c.json({ silence: await expireSilence(deps, claims, parseParams(c, IdParams).id) });
  });

  return app;
}
