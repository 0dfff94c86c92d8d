/**
 * api-keys function over HTTP (in-process via app.request): happy, error and security cases per
 * route, asserting status, body and stored rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../src/auth/jwt.ts';
import type { fakeClock } from '../../src/core/clock.ts';
import { createTestEnv, TEST_JWT_SECRET, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const BASE = '/functions/v1/api-keys';

describe('api-keys function', () => {
  let env: TestEnv;
  let t: Tenant;
  beforeAll(async () => {
    env = await createTestEnv();
    t = await createTenant(env);
  });
  afterAll(async () => env?.close());

  const keyCount = async () => Number((await env.db.query<{ n: string }>('select count(*) as n from public.api_keys'))[0]!.n);

  describe('POST / (create)', () => {
    it('creates a key, shows the secret once and stores only its hash', async () => {
      const res = await env.request('POST', BASE, { token: t.people.admin.jwt, body: { projectId: t.projectA, name: 'deploy', scopes: ['ingest', 'read', 'ingest'] } });
      expect(res.status).toBe(201);
      const body = await res.json();
      expect(body.secret).toMatch(/^oai_[a-zA-Z0-9]{12}_[a-zA-Z0-9]{32}$/);
      expect(body.apiKey).toMatchObject({ name: 'deploy', projectId: t.projectA, organizationId: t.orgId, scopes: ['ingest', 'read'], status: 'active', createdBy: t.people.admin.id });
      expect(JSON.stringify(body.apiKey)).not.toContain(body.secret.slice(18));
      const [row] = await env.db.query<{ secret_hash: string; prefix: string }>('select secret_hash, prefix from public.api_keys where id = $1', [body.apiKey.id]);
      expect(row!.prefix).toBe(body.secret.slice(4, 16));
      expect(row!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row!.secret_hash).not.toContain(body.secret);
      const audit = await env.db.query<{ action: string; actor_id: string }>(`select action, actor_id from public.audit_log where target_id = $1`, [body.apiKey.id]);
      expect(audit).toEqual([{ action: 'api_key.created', actor_id: t.people.admin.id }]);
      // The new key authenticates.
      const me = await env.request('GET', `${BASE}/${body.apiKey.id}`, { apiKey: body.secret });
      expect(me.status).toBe(403); // ingest/read key: the api-keys function needs the admin scope
    });

    it.each([
      ['missing name', { scopes: ['read'] }, 'body.name'],
      ['unknown scope', { name: 'x', scopes: ['root'] }, 'body.scopes.0'],
      ['empty scopes', { name: 'x', scopes: [] }, 'body.scopes'],
      ['bad expiry', { name: 'x', expiresAt: 'tomorrow' }, 'body.expiresAt'],
      ['past expiry', { name: 'x', expiresAt: '2001-01-01T00:00:00Z' }, 'body.expiresAt'],
      ['unknown field', { name: 'x', secret: 'mine' }, 'body'],
    ])('rejects %s with a 400 naming the field and stores nothing', async (_, extra, field) => {
      const before = await keyCount();
      const res = await env.request('POST', BASE, { token: t.people.owner.jwt, body: { projectId: t.projectA, ...extra } });
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.requestId).toMatch(/^req_/);
      expect(body.error.details.map((d: { field: string }) => d.field)).toContain(field);
      expect(await keyCount()).toBe(before);
    });

    it('rejects malformed JSON and non-JSON bodies', async () => {
      const bad = await env.request('POST', BASE, { token: t.people.owner.jwt, body: '{"projectId": ' });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.code).toBe('BAD_REQUEST');
      const text = await env.request('POST', BASE, { token: t.people.owner.jwt, body: 'name=x', headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(415);
    });

    it.each([
      ['member (can read the project, cannot manage keys)', 'member', 403],
      ['viewer', 'viewer', 403],
      ['unassigned member (cannot see the project)', 'unassigned', 404],
      ['member of another organization', 'outsider', 404],
    ] as const)('%s gets %i and nothing is stored', async (_, actor, status) => {
      const before = await keyCount();
      const res = await env.request('POST', BASE, { token: t.people[actor].jwt, body: { projectId: t.projectA, name: 'x' } });
      expect(res.status).toBe(status);
      expect(await keyCount()).toBe(before);
    });
  });

  describe('GET / (list)', () => {
    it('lists the keys the caller may see, filterable by project, never the hash', async () => {
      const res = await env.request('GET', `${BASE}?projectId=${t.projectA}`, { token: t.people.viewer.jwt });
      expect(res.status).toBe(200);
      const { apiKeys } = await res.json();
      expect(apiKeys.length).toBeGreaterThan(0);
      expect(apiKeys.every((k: { projectId: string }) => k.projectId === t.projectA)).toBe(true);
      expect(JSON.stringify(apiKeys)).not.toMatch(/secret|hash/i);
    });
    it('shows an outsider none of our keys', async () => {
      const { apiKeys } = await (await env.request('GET', BASE, { token: t.people.outsider.jwt })).json();
      expect(apiKeys.map((k: { organizationId: string }) => k.organizationId)).not.toContain(t.orgId);
      expect(apiKeys.some((k: { id: string }) => k.id === t.other.keyId)).toBe(true);
    });
    it('rejects a bad filter', async () => {
      const res = await env.request('GET', `${BASE}?projectId=nope`, { token: t.people.owner.jwt });
      expect(res.status).toBe(400);
      expect((await res.json()).error.details[0].field).toBe('query.projectId');
    });
  });

  describe('GET /:id', () => {
    it('returns a visible key and 404 for another organization\'s key', async () => {
      expect((await env.request('GET', `${BASE}/${t.keyA.id}`, { token: t.people.member.jwt })).status).toBe(200);
      const res = await env.request('GET', `${BASE}/${t.other.keyId}`, { token: t.people.owner.jwt });
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe('NOT_FOUND');
      expect((await env.request('GET', `${BASE}/not-a-uuid`, { token: t.people.owner.jwt })).status).toBe(400);
    });
  });

  describe('POST /:id/revoke', () => {
    it('revokes at once: the key stops authenticating, an audit row is written', async () => {
      const created = await (await env.request('POST', BASE, { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'r', scopes: ['admin'] } })).json();
      expect((await env.request('GET', BASE, { apiKey: created.secret })).status).toBe(200);
      const res = await env.request('POST', `${BASE}/${created.apiKey.id}/revoke`, { token: t.people.owner.jwt });
      expect(res.status).toBe(200);
      expect((await res.json()).apiKey.status).toBe('revoked');
      const denied = await env.request('GET', BASE, { apiKey: created.secret });
      expect(denied.status).toBe(401);
      expect((await denied.json()).error.message).toMatch(/revoked/);
      const audit = await env.db.query(`select 1 from public.audit_log where target_id = $1 and action = 'api_key.revoked'`, [created.apiKey.id]);
      expect(audit).toHaveLength(1);
      // Revoking again is a no-op.
      expect((await env.request('POST', `${BASE}/${created.apiKey.id}/revoke`, { token: t.people.owner.jwt })).status).toBe(200);
    });
    it('forbids a member who can see the key, hides it from an outsider', async () => {
      expect((await env.request('POST', `${BASE}/${t.keyA.id}/revoke`, { token: t.people.member.jwt })).status).toBe(403);
      expect((await env.request('POST', `${BASE}/${t.keyA.id}/revoke`, { token: t.people.outsider.jwt })).status).toBe(404);
      const [row] = await env.db.query<{ revoked_at: Date | null }>('select revoked_at from public.api_keys where id = $1', [t.keyA.id]);
      expect(row!.revoked_at).toBeNull();
    });
  });

  describe('POST /:id/rotate', () => {
    it('issues a new secret; the old one works through the grace period, then not', async () => {
      const created = await (await env.request('POST', BASE, { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'rot', scopes: ['admin', 'read'] } })).json();
      const res = await env.request('POST', `${BASE}/${created.apiKey.id}/rotate`, { token: t.people.owner.jwt, body: { gracePeriodSeconds: 3600 } });
      expect(res.status).toBe(201);
      const rotated = await res.json();
      expect(rotated.secret).not.toBe(created.secret);
      expect(rotated.apiKey).toMatchObject({ name: 'rot', scopes: ['admin', 'read'], rotatedFrom: created.apiKey.id, status: 'active' });
      expect(new Date(rotated.previous.expiresAt).getTime() - Date.now()).toBeGreaterThan(3500_000);
      expect((await env.request('GET', BASE, { apiKey: created.secret })).status).toBe(200);
      expect((await env.request('GET', BASE, { apiKey: rotated.secret })).status).toBe(200);
      const audit = await env.db.query<{ action: string }>(`select action from public.audit_log where target_id = $1`, [rotated.apiKey.id]);
      expect(audit.map((a) => a.action)).toEqual(['api_key.rotated']);
      // A zero grace period ends the old secret now.
      const again = await (await env.request('POST', `${BASE}/${rotated.apiKey.id}/rotate`, { token: t.people.owner.jwt, body: { gracePeriodSeconds: 0 } })).json();
      const old = await env.request('GET', BASE, { apiKey: rotated.secret });
      expect(old.status).toBe(401);
      expect((await old.json()).error.message).toMatch(/expired/);
      expect((await env.request('GET', BASE, { apiKey: again.secret })).status).toBe(200);
    });
    it('rejects a bad grace period and a revoked key', async () => {
      const bad = await env.request('POST', `${BASE}/${t.keyA.id}/rotate`, { token: t.people.owner.jwt, body: { gracePeriodSeconds: -1 } });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error.details[0].field).toBe('body.gracePeriodSeconds');
      const created = await (await env.request('POST', BASE, { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'x' } })).json();
      await env.request('POST', `${BASE}/${created.apiKey.id}/revoke`, { token: t.people.owner.jwt });
      expect((await env.request('POST', `${BASE}/${created.apiKey.id}/rotate`, { token: t.people.owner.jwt })).status).toBe(409);
    });
  });

  describe('credentials', () => {
    it.each([
      ['no credentials', {}, 401],
      ['a malformed bearer', { headers: { authorization: 'Bearer' } }, 401],
      ['a garbage JWT', { token: 'a.b.c' }, 401],
      ['a well-formed but unknown API key', { apiKey: `oai_${'a'.repeat(12)}_${'b'.repeat(32)}` }, 401],
      ['a key of the wrong shape', { apiKey: 'sk_live_123' }, 401],
    ] as const)('%s -> %i', async (_, opts, status) => {
      const res = await env.request('GET', BASE, opts as { token?: string });
      expect(res.status).toBe(status);
      const body = await res.json();
      expect(body.error.code).toBe('UNAUTHENTICATED');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('rejects a JWT signed with another secret, an expired JWT, and an anon-role JWT', async () => {
      const forged = await signJwt('another-secret-that-is-long-enough-0123456789', { sub: t.people.owner.id, role: 'authenticated' });
      expect((await env.request('GET', BASE, { token: forged })).status).toBe(401);
      const expired = await signJwt(TEST_JWT_SECRET, { sub: t.people.owner.id, role: 'authenticated' }, { now: new Date(Date.now() - 7200_000), expiresInSeconds: 3600 });
      const res = await env.request('GET', BASE, { token: expired });
      expect(res.status).toBe(401);
      expect((await res.json()).error.message).toMatch(/expired/);
      const anon = await signJwt(TEST_JWT_SECRET, { role: 'anon' });
      expect((await env.request('GET', BASE, { token: anon })).status).toBe(401);
    });

    it.each(['anon', 'authenticated'])('the key lookup (private.api_key_by_prefix) is refused to %s', async (role) => {
      // anon cannot even use the schema; the function's own grant is what keeps authenticated out.
      const [grant] = await env.db.query<{ ok: boolean }>(`select has_function_privilege($1, 'private.api_key_by_prefix(text)', 'execute') as ok`, [role]);
      expect(grant!.ok).toBe(false);
      const [key] = await env.db.query<{ prefix: string }>('select prefix from public.api_keys where id = $1', [t.keyA.id]);
      await expect(
        env.db.transaction(async (tx) => {
          await tx.query(`select set_config('role', $1, true)`, [role]);
          return tx.query('select secret_hash from private.api_key_by_prefix($1)', [key!.prefix]);
        }),
      ).rejects.toMatchObject({ code: '42501' });
    });

    it('an expired key is refused', async () => {
      const created = await (await env.request('POST', BASE, { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'exp', scopes: ['admin'], expiresAt: new Date(Date.now() + 60_000).toISOString() } })).json();
      await env.db.query(`update public.api_keys set expires_at = now() - interval '1 second' where id = $1`, [created.apiKey.id]);
      const res = await env.request('GET', BASE, { apiKey: created.secret });
      expect(res.status).toBe(401);
      expect((await res.json()).error.message).toMatch(/expired/);
    });

    it('an admin-scoped key manages only its own project\'s keys', async () => {
      const created = await (await env.request('POST', BASE, { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'adm', scopes: ['admin'] } })).json();
      const list = await (await env.request('GET', BASE, { apiKey: created.secret })).json();
      expect(list.apiKeys.every((k: { projectId: string }) => k.projectId === t.projectA)).toBe(true);
      expect((await env.request('POST', BASE, { apiKey: created.secret, body: { projectId: t.projectA, name: 'child' } })).status).toBe(201);
      expect((await env.request('POST', BASE, { apiKey: created.secret, body: { projectId: t.projectB, name: 'child' } })).status).toBe(404);
      const audit = await env.db.query<{ actor_type: string; actor_id: string }>(
        `select actor_type, actor_id from public.audit_log where action = 'api_key.created' order by id desc limit 1`,
      );
      expect(audit[0]).toEqual({ actor_type: 'api_key', actor_id: created.apiKey.id });
    });

    it('records last use at most once a minute, asking the database at most once a minute per process', async () => {
      // Its own environment with a clock the test moves.
      const timed = await createTestEnv({ fakeTime: '2026-06-01T12:00:00Z' });
      try {
        const tenant = await createTenant(timed);
        const created = await (await timed.request('POST', BASE, { token: tenant.people.owner.jwt, body: { projectId: tenant.projectA, name: 'use', scopes: ['admin'] } })).json();
        const lastUsed = async () =>
          (await timed.db.query<{ last_used_at: Date | null }>('select last_used_at from public.api_keys where id = $1', [created.apiKey.id]))[0]!.last_used_at;
        const use = async () => {
          expect((await timed.request('GET', BASE, { apiKey: created.secret })).status).toBe(200);
          await timed.deps.settle();
        };
        expect(await lastUsed()).toBeNull();
        await use();
        expect((await lastUsed())!.getTime()).toBe(timed.clock.now().getTime());
        // Within the minute the process does not ask the database at all: even a value the database
        // would move (made 2 minutes old here) stays.
        const stale = new Date(timed.clock.now().getTime() - 120_000);
        await timed.db.query('update public.api_keys set last_used_at = $2 where id = $1', [created.apiKey.id, stale]);
        (timed.clock as ReturnType<typeof fakeClock>).advance(30_000);
        await use();
        expect((await lastUsed())!.getTime()).toBe(stale.getTime());
        // A minute later the process asks again, and the database moves it (its own value is 2 minutes old).
        (timed.clock as ReturnType<typeof fakeClock>).advance(61_000);
        await timed.db.query('update public.api_keys set last_used_at = $2 where id = $1', [created.apiKey.id, new Date(timed.clock.now().getTime() - 120_000)]);
        await use();
        expect((await lastUsed())!.getTime()).toBe(timed.clock.now().getTime());
        // Another process may have just recorded it: the database keeps it then.
        (timed.clock as ReturnType<typeof fakeClock>).advance(61_000);
        const other = new Date(timed.clock.now().getTime() - 10_000);
        await timed.db.query('update public.api_keys set last_used_at = $2 where id = $1', [created.apiKey.id, other]);
        await use();
        expect((await lastUsed())!.getTime()).toBe(other.getTime());
      } finally {
        await timed.close();
      }
    });
  });
});
