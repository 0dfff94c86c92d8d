import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../../core/deps.ts';
import { actorClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { createApiKey } from '../create-api-key.ts';
import { getApiKey } from '../get-api-key.ts';
import { listApiKeys } from '../list-api-keys.ts';
import { revokeApiKey } from '../revoke-api-key.ts';
import { rotateApiKey } from '../rotate-api-key.ts';
import { ApiKeyCreated, ApiKeyResponse, ApiKeyRotated, ApiKeysResponse, CreateApiKey, ListApiKeysQuery, RotateApiKey } from '../schemas.ts';

const KeyParams = z.object({ id: z.uuid() });
/** Owners and admins (RLS decides), or a key with the admin scope. */
const MANAGER = { auth: ['user', 'apiKey'], scope: 'admin' } as const;

/** The api-keys function. Users (owners and admins manage) or admin-scoped keys. */
export function apiKeysRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const opts = { keyScope: 'admin' } as const;

  app.post('/', describe({ summary: 'Create an API key for a project; the secret is shown once', ...MANAGER, body: CreateApiKey, responses: { 201: ApiKeyCreated } }), async (c) => {
    const actor = actorClaims(c, opts);
    const result = await createApiKey(deps, actor, await parseBody(c, CreateApiKey));
    return c.json(result, 201);
  });

  app.get('/', describe({ summary: 'List API keys', ...MANAGER, query: ListApiKeysQuery, responses: { 200: ApiKeysResponse } }), async (c) => {
    const actor = actorClaims(c, opts);
    return c.json({ apiKeys: await listApiKeys(deps, actor, parseQuery(c, ListApiKeysQuery)) });
  });

  app.get('/:id', describe({ summary: 'Get one API key', ...MANAGER, params: KeyParams, responses: { 200: ApiKeyResponse } }), async (c) => {
    const actor = actorClaims(c, opts);
    return c.json({ apiKey: await getApiKey(deps, actor, parseParams(c, KeyParams).id) });
  });

  app.post('/:id/revoke', describe({ summary: 'Revoke an API key at once', ...MANAGER, params: KeyParams, responses: { 200: ApiKeyResponse } }), async (c) => {
    const actor = actorClaims(c, opts);
    return c.json({ apiKey: await revokeApiKey(deps, actor, parseParams(c, KeyParams).id) });
  });

  app.post('/:id/rotate', describe({ summary: 'Rotate an API key: a new secret, the old one ends after the grace period', ...MANAGER, params: KeyParams, body: RotateApiKey, responses: { 201: ApiKeyRotated } }), async (c) => {
    const actor = actorClaims(c, opts);
    const { id } = parseParams(c, KeyParams);
    return c.json(await rotateApiKey(deps, actor, id, await parseBody(c, RotateApiKey)), 201);
  });

  return app;
}
