/**
 * Export destinations (tests/helpers/exports-env.ts has the world: a real S3 server through
 * @aws-sdk/client-s3, a tenant, the gateway with an encryption key): adding one after a connection
 * check, the sealed secret, who may add, list and remove them, bad fields and failing checks as 400s
 * naming the field, the routes without SECRET_ENCRYPTION_KEY, and no response carrying the secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlState } from '../../src/core/errors.ts';
import { exportTelemetry } from '../../src/exports/export-telemetry.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import type { TestEnv } from '../helpers/env.ts';
import { BASE, type Clock, createExportsEnv, type ExportsEnv, field, type Json, NOW, SECRET } from '../helpers/exports-env.ts';
import type { Tenant } from '../helpers/tenant.ts';

describe('exports to S3-compatible storage', () => {
  let x: ExportsEnv;
  let env: TestEnv;
  let clock: Clock;
  let t: Tenant;
  let s3url: string;
  let bodies: string[];
  let token: ExportsEnv['token'];
  let call: ExportsEnv['call'];
  let listKeys: ExportsEnv['listKeys'];
  let destinationBody: ExportsEnv['destinationBody'];
  beforeAll(async () => {
    x = await createExportsEnv({ telemetry: false });
    ({ env, clock, t, s3url, bodies, token, call, listKeys, destinationBody } = x);
  }, 180_000);
  afterAll(async () => x?.close());

  describe('destinations', () => {
    it('an owner adds one after a connection check; the secret is sealed and never readable', async () => {
      clock.set(NOW);
      const res = await call('POST', '/destinations', { as: t.people.owner, body: destinationBody({ name: 'warehouse' }) });
      expect(res.status).toBe(201);
      const d = res.body.destination as Json;
      expect(d).toMatchObject({ projectId: t.projectA, name: 'warehouse', endpoint: s3url, bucket: 'exports-main', prefix: 'observai/prod', forcePathStyle: true, accessKeyId: 'S3RVER' });
      expect(Object.keys(d).sort()).toEqual(
        ['accessKeyId', 'bucket', 'createdAt', 'createdBy', 'endpoint', 'forcePathStyle', 'id', 'name', 'organizationId', 'prefix', 'projectId', 'region', 'verifiedAt'].sort(),
      );
      // The check object is what the connection check wrote.
      expect(await listKeys('exports-main', `observai/prod/${t.projectA}/`)).toContain(`observai/prod/${t.projectA}/_observai-check.json`);
      // Stored sealed; the owner cannot read the column even through SQL (supabase-js), only the service role can.
      const [stored] = await env.db.query<{ secret_ciphertext: string }>('select secret_ciphertext from public.export_destinations where id = $1', [d.id]);
      expect(stored!.secret_ciphertext).toMatch(/^v1\./);
      expect(stored!.secret_ciphertext).not.toContain(SECRET);
      const denied = await env.db
        .transaction(async (tx) => {
          await tx.query('set local role authenticated');
          await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role: 'authenticated', sub: t.people.owner.id })]);
          return tx.query('select secret_ciphertext from public.export_destinations');
        })
        .catch((err) => sqlState(err));
      expect(denied).toBe('42501');
      // Audited, without the secret.
      const audit = await env.db.query<{ action: string; actor_id: string; details: Json }>(
        `select action, actor_id, details from public.audit_log where target_id = $1`,
        [d.id],
      );
      expect(audit).toEqual([{ action: 'export_destination.created', actor_id: t.people.owner.id, details: expect.objectContaining({ bucket: 'exports-main' }) }]);
      expect(JSON.stringify(audit)).not.toContain(SECRET);
    });

    it.each([
      // actor, expected status: admins manage; members and viewers may not; others do not see the project
      ['admin', 201],
      ['member', 403],
      ['viewer', 403],
      ['unassigned', 404],
      ['outsider', 404],
    ] as const)('POST by %s answers %i', async (actor, status) => {
      clock.set(NOW);
      const res = await call('POST', '/destinations', { as: t.people[actor], body: destinationBody() });
      expect(res.status).toBe(status);
    });

    it('an API key cannot add one, even with the read scope', async () => {
      expect((await call('POST', '/destinations', { apiKey: t.keyA.secret, body: destinationBody() })).status).toBe(403);
    });

    it.each([
      // what is wrong, the field the 400 names
      [{ bucket: 'no-such-bucket' }, 'body.bucket'],
      [{ accessKeyId: 'WRONG' }, 'body.accessKeyId'],
      [{ endpoint: 'http://127.0.0.1:9' }, 'body.endpoint'],
      [{ bucket: 'x' }, 'body.bucket'],
      [{ prefix: 'a/../b' }, 'body.prefix'],
      [{ endpoint: 'ftp://example.test' }, 'body.endpoint'],
      [{ secretAccessKey: '' }, 'body.secretAccessKey'],
    ])('a failing check or bad field is a 400 naming it: %j', async (over, name) => {
      clock.set(NOW);
      const res = await call('POST', '/destinations', { as: t.people.owner, body: destinationBody(over) });
      expect(res.status).toBe(400);
      expect(field(res.body)).toBe(name);
    });

    it('members and viewers list destinations without secrets; other organizations see none', async () => {
      clock.set(NOW);
      for (const actor of ['viewer', 'member'] as const) {
        const res = await call('GET', `/destinations?projectId=${t.projectA}`, { as: t.people[actor] });
        expect(res.status).toBe(200);
        expect((res.body.destinations as Json[]).map((d) => d.name)).toContain('warehouse');
      }
      const [d] = (await call('GET', `/destinations?projectId=${t.projectA}`, { as: t.people.viewer })).body.destinations as Json[];
      expect((await call('GET', `/destinations/${d!.id}`, { as: t.people.viewer })).status).toBe(200);
      expect((await call('GET', `/destinations/${d!.id}`, { as: t.people.outsider })).status).toBe(404);
      expect((await call('GET', `/destinations/${d!.id}`, { as: t.people.unassigned })).status).toBe(404);
      expect((await call('GET', `/destinations?projectId=${t.projectA}`, { as: t.people.outsider })).status).toBe(404);
      expect((await call('GET', '/destinations', { as: t.people.outsider })).body.destinations).toEqual([]);
      expect((await call('GET', '/destinations', { apiKey: t.keyA.secret })).status).toBe(200);
    });

    it('only owners and admins remove one; removing it takes its schedules and runs along (audited)', async () => {
      clock.set(NOW);
      const d = (await call('POST', '/destinations', { as: t.people.owner, body: destinationBody({ name: 'to-delete' }) })).body.destination as Json;
      const s = await call('PUT', '/schedules', { as: t.people.owner, body: { destinationId: d.id, signal: 'logs' } });
      expect(s.status).toBe(200);
      expect((await call('DELETE', `/destinations/${d.id}`, { as: t.people.member })).status).toBe(403);
      expect((await call('DELETE', `/destinations/${d.id}`, { as: t.people.outsider })).status).toBe(404);
      expect((await call('DELETE', `/destinations/${d.id}`, { as: t.people.admin })).status).toBe(204);
      expect((await call('GET', `/destinations/${d.id}`, { as: t.people.owner })).status).toBe(404);
      expect(await env.db.query('select 1 from public.export_schedules where destination_id = $1', [d.id])).toEqual([]);
      const actions = await env.db.query<{ action: string }>('select action from public.audit_log where target_id = $1 order by id', [d.id]);
      expect(actions.map((a) => a.action)).toEqual(['export_destination.created', 'export_destination.deleted']);
    });
  });

  describe('without SECRET_ENCRYPTION_KEY', () => {
    it('the routes that need it answer 501 naming the variable; the job does nothing', async () => {
      clock.set(NOW);
      const res = await env.request('POST', `${BASE}/destinations`, { token: await token(t.people.owner), body: destinationBody() });
      expect(res.status).toBe(501);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/SECRET_ENCRYPTION_KEY/);
      expect((await env.request('GET', `${BASE}/destinations`, { token: await token(t.people.owner) })).status).toBe(200);
      expect((await runJob(env.deps, exportTelemetry)).summary).toEqual({ skipped: 'SECRET_ENCRYPTION_KEY is not set' });
    });
  });

  // Over this file's responses only; destination views (the responses that would carry it) among them.
  it('never returned the secret in any response', () => {
    expect(bodies.length).toBeGreaterThan(25);
    expect(bodies.some((b) => b.includes('"accessKeyId":"S3RVER"'))).toBe(true);
    for (const body of bodies) expect(body).not.toContain(SECRET);
  });
});
