/**
 * The webhooks function (/functions/v1/webhooks) as its users drive it: endpoints added, read,
 * changed and removed by owners and admins (and an admin-scoped API key for its project), the signing
 * secret shown once (on creation and rotation) and never again, bad input refused with a 400 naming
 * the field and nothing saved, the role matrix (404 for an endpoint the caller cannot see, 403 to
 * create where they may see but not manage), audit rows without secrets, test-sends to a real local
 * receiver whose Standard Webhooks signatures the `standardwebhooks` package verifies (both of them
 * while a rotated secret's grace lasts), the message log with its attempts, and replay and recovery.
 * The outbound guard allows exactly the receiver's port.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import { deliverDueWebhooks } from '../../src/webhooks/deliver-webhooks.ts';
import { EVENT_TYPE_NAMES } from '../../src/webhooks/events.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { type Receiver, type Received, startReceiver } from '../helpers/receiver.ts';
import { createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

const BASE = '/functions/v1/webhooks';
const KEY = Buffer.alloc(32, 11).toString('base64');
const SEALED = 'v1.0123456789abcdef.aaaa.bbbb';
type Json = Record<string, any>;

let env: TestEnv;
let t: Tenant;
let receiver: Receiver;
let adminKey: string;
/** Every response body, to check that no secret ever comes back where it should not. */
const bodies: string[] = [];
const field = (body: Json) => body.error?.details?.[0]?.field;

async function call(method: string, path: string, o: { as?: Person; apiKey?: string; body?: unknown } = {}): Promise<{ status: number; body: Json }> {
  const res = await env.request(method, `${BASE}${path}`, { token: o.as?.jwt, apiKey: o.apiKey, body: o.body });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

const hookUrl = (path = '/hook') => `${receiver.url}${path}`;
const endpointBody = (over: Json = {}) => ({ projectId: t.projectA, url: hookUrl(), eventTypes: ['alert.*', 'webhook.test'], ...over });

async function create(as: Person = t.people.owner, over: Json = {}): Promise<{ endpoint: Json; secret: string }> {
  const res = await call('POST', '/endpoints', { as, body: endpointBody(over) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { endpoint: Json; secret: string };
}

const countEndpoints = async (orgId = t.orgId) =>
  (await env.db.query<{ n: number }>('select count(*)::int as n from public.webhook_endpoints where organization_id = $1', [orgId]))[0]!.n;

const audit = (id: string) =>
  env.db.query<{ action: string; actor_id: string | null; details: Json }>('select action, actor_id, details from public.audit_log where target_id = $1 order by id', [id]);

/** The Standard Webhooks headers of a received request, as a verifier takes them. */
const swHeaders = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

/** An event in the outbox as a trigger writes it (the fan-out makes its messages). */
async function emit(type: string, projectId: string | null = t.projectA): Promise<string> {
  const [e] = await env.db.query<{ id: string }>(
    `insert into public.webhook_events (organization_id, project_id, type, payload)
     values ($1, $2, $3, jsonb_build_object('type', $3::text, 'timestamp', '2026-12-06T00:00:00.000Z', 'data', jsonb_build_object('id', 'x'))) returning id`,
    [t.orgId, projectId, type],
  );
  return e!.id;
}

beforeAll(async () => {
  receiver = await startReceiver({ status: 200, body: 'thanks' });
  env = await createTestEnv({ env: { SECRET_ENCRYPTION_KEY: KEY, OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${receiver.port}` } });
  t = await createTenant(env);
  const key = await generateApiKey();
  await env.db.query(
    `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'ci', $3, $4, array['admin'])`,
    [t.orgId, t.projectA, key.prefix, key.hash],
  );
  adminKey = key.key;
}, 120_000);
afterAll(async () => {
  await env?.close();
  await receiver?.close();
});

describe('the event catalogue', () => {
  it('lists every event type with its JSON Schema, for any user or API key', async () => {
    const res = await call('GET', '/event-types', { as: t.people.viewer });
    expect(res.status).toBe(200);
    expect(res.body.eventTypes.map((e: Json) => e.type)).toEqual(EVENT_TYPE_NAMES);
    expect(res.body.eventTypes.find((e: Json) => e.type === 'alert.firing')).toMatchObject({ scope: 'project', schema: { type: 'object' } });
    expect((await call('GET', '/event-types', { apiKey: t.keyA.secret })).status).toBe(200);
    expect((await call('GET', '/event-types')).status).toBe(401);
  });
});

describe('endpoints', () => {
  let ep: Json;
  let secret: string;

  it('an owner adds one: 201 with the secret, shown this once; stored sealed; audited without it, the URL as its origin', async () => {
    const res = await create(t.people.owner, { url: hookUrl('/hook?token=abc'), description: 'pager bridge', rateLimitPerSecond: 5 });
    ({ endpoint: ep, secret } = res);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(ep).toMatchObject({
      projectId: t.projectA,
      organizationId: t.orgId,
      url: hookUrl('/hook?token=abc'),
      description: 'pager bridge',
      eventTypes: ['alert.*', 'webhook.test'],
      rateLimitPerSecond: 5,
      enabled: true,
      disabledAt: null,
      disabledReason: null,
      failingSince: null,
      secretRotation: null,
      createdBy: t.people.owner.id,
    });
    expect(Object.keys(ep).sort()).toEqual(
      [
        'createdAt', 'createdBy', 'description', 'disabledAt', 'disabledReason', 'enabled', 'eventTypes', 'failingSince', 'id', 'organizationId',
        'projectId', 'rateLimitPerSecond', 'secretRotation', 'updatedAt', 'url',
      ].sort(),
    );
    const [stored] = await env.db.query<{ secret_ciphertext: string }>('select secret_ciphertext from public.webhook_endpoints where id = $1', [ep.id]);
    expect(stored!.secret_ciphertext).toMatch(/^v1\./);
    expect(stored!.secret_ciphertext).not.toContain(secret.slice(6));
    const rows = await audit(ep.id);
    expect(rows).toEqual([{ action: 'webhook_endpoint.created', actor_id: t.people.owner.id, details: expect.objectContaining({ url: receiver.url }) }]);
    expect(JSON.stringify(rows)).not.toMatch(/secret_ciphertext|secret_rotated|token=abc|v1\./);
  });

  it('reads never carry the secret: GET one, the listing', async () => {
    const from = bodies.length;
    const got = await call('GET', `/endpoints/${ep.id}`, { as: t.people.admin });
    expect(got.status).toBe(200);
    expect(got.body.endpoint).toEqual(ep);
    const list = await call('GET', `/endpoints?projectId=${t.projectA}`, { as: t.people.owner });
    expect(list.body.endpoints).toEqual([ep]);
    const byOrg = await call('GET', `/endpoints?organizationId=${t.orgId}`, { as: t.people.owner });
    expect(byOrg.body.endpoints.map((e: Json) => e.id)).toEqual([ep.id]);
    for (const text of bodies.slice(from)) expect(text).not.toContain(secret.slice(6));
  });

  it('PATCH changes what it is given, audited; null clears the rate limit; unknown fields are a 400', async () => {
    const res = await call('PATCH', `/endpoints/${ep.id}`, { as: t.people.admin, body: { description: 'renamed', eventTypes: ['*'], rateLimitPerSecond: null } });
    expect(res.status).toBe(200);
    expect(res.body.endpoint).toMatchObject({ id: ep.id, description: 'renamed', eventTypes: ['*'], rateLimitPerSecond: null, url: ep.url });
    expect((await audit(ep.id)).map((a) => a.action)).toEqual(['webhook_endpoint.created', 'webhook_endpoint.changed']);
    const [changed] = (await audit(ep.id)).slice(-1);
    expect(changed).toMatchObject({ actor_id: t.people.admin.id, details: expect.objectContaining({ url: receiver.url, description: 'renamed' }) });
    const bad = await call('PATCH', `/endpoints/${ep.id}`, { as: t.people.admin, body: { secret: 'whsec_x' } });
    expect(bad.status).toBe(400);
    expect((await call('PATCH', `/endpoints/${ep.id}`, { as: t.people.admin, body: {} })).status).toBe(400);
  });

  it('enabled: false disables it (no event: a user did it); enabled: true enables it and forgets when it started failing', async () => {
    const off = await call('PATCH', `/endpoints/${ep.id}`, { as: t.people.owner, body: { enabled: false } });
    expect(off.body.endpoint).toMatchObject({ enabled: false, disabledReason: 'Disabled by a user' });
    expect(off.body.endpoint.disabledAt).toEqual(expect.any(String));
    expect(await env.db.query(`select 1 from public.webhook_events where type = 'webhook.endpoint.disabled'`)).toEqual([]);
    // A disabled endpoint takes no test-send.
    const test = await call('POST', `/endpoints/${ep.id}/test`, { as: t.people.owner });
    expect(test.status).toBe(400);
    expect(test.body.error.message).toMatch(/enable it first/);
    await env.db.query(`update public.webhook_endpoints set failing_since = now() - interval '2 days' where id = $1`, [ep.id]);
    const on = await call('PATCH', `/endpoints/${ep.id}`, { as: t.people.owner, body: { enabled: true } });
    expect(on.body.endpoint).toMatchObject({ enabled: true, disabledAt: null, disabledReason: null, failingSince: null });
  });

  it('DELETE removes it (204, audited), then it is a 404', async () => {
    const { endpoint } = await create();
    expect((await call('DELETE', `/endpoints/${endpoint.id}`, { as: t.people.admin })).status).toBe(204);
    expect((await call('GET', `/endpoints/${endpoint.id}`, { as: t.people.owner })).status).toBe(404);
    expect((await audit(endpoint.id)).map((a) => a.action)).toEqual(['webhook_endpoint.created', 'webhook_endpoint.deleted']);
  });

  it('an organization endpoint: organizationId without projectId, owners and admins only', async () => {
    const { endpoint } = await create(t.people.admin, { projectId: undefined, organizationId: t.orgId, eventTypes: ['member.*'] });
    expect(endpoint).toMatchObject({ projectId: null, organizationId: t.orgId, eventTypes: ['member.*'] });
    // An admin-scoped key is not for organization endpoints, nor sees them.
    const byKey = await call('POST', '/endpoints', { apiKey: adminKey, body: { organizationId: t.orgId, url: hookUrl(), eventTypes: ['*'] } });
    expect(byKey.status).toBe(403);
    expect((await call('GET', `/endpoints/${endpoint.id}`, { apiKey: adminKey })).status).toBe(404);
    for (const who of ['member', 'viewer'] as const) {
      const res = await call('POST', '/endpoints', { as: t.people[who], body: { organizationId: t.orgId, url: hookUrl(), eventTypes: ['*'] } });
      expect(res.status, who).toBe(403);
    }
    expect((await call('POST', '/endpoints', { as: t.people.outsider, body: { organizationId: t.orgId, url: hookUrl(), eventTypes: ['*'] } })).status).toBe(404);
    // Both a project and another organization: refused, naming the field.
    const mixed = await call('POST', '/endpoints', { as: t.people.owner, body: endpointBody({ organizationId: t.other.orgId }) });
    expect(mixed.status).toBe(400);
    expect(field(mixed.body)).toBe('body.organizationId');
  });

  it("an admin-scoped API key manages its own project's endpoints (its project by default)", async () => {
    const res = await call('POST', '/endpoints', { apiKey: adminKey, body: { url: hookUrl(), eventTypes: ['export.*'] } });
    expect(res.status).toBe(201);
    expect(res.body.endpoint).toMatchObject({ projectId: t.projectA, createdBy: null });
    const id = res.body.endpoint.id;
    expect((await call('GET', '/endpoints', { apiKey: adminKey })).body.endpoints.map((e: Json) => e.id)).toContain(id);
    expect((await call('PATCH', `/endpoints/${id}`, { apiKey: adminKey, body: { description: 'ci' } })).status).toBe(200);
    // Not project B's, and a read-only key is refused outright.
    expect((await call('POST', '/endpoints', { apiKey: adminKey, body: { projectId: t.projectB, url: hookUrl(), eventTypes: ['*'] } })).status).toBe(404);
    expect((await call('GET', `/endpoints/${id}`, { apiKey: t.keyA.secret })).status).toBe(403);
    expect((await call('DELETE', `/endpoints/${id}`, { apiKey: adminKey })).status).toBe(204);
  });
});

describe('who may do what', () => {
  let ep: Json;
  let foreign: Json;
  beforeAll(async () => {
    ep = (await create()).endpoint;
    foreign = (await create(t.people.outsider, { projectId: t.other.projectId })).endpoint;
  });

  it.each(['member', 'unassigned', 'viewer', 'outsider'] as const)('%s cannot see, change, test or remove an endpoint: 404 as for an unknown id', async (who) => {
    const as = t.people[who];
    expect((await call('GET', `/endpoints/${ep.id}`, { as })).status).toBe(404);
    expect((await call('PATCH', `/endpoints/${ep.id}`, { as, body: { description: 'x' } })).status).toBe(404);
    expect((await call('POST', `/endpoints/${ep.id}/rotate-secret`, { as })).status).toBe(404);
    expect((await call('POST', `/endpoints/${ep.id}/test`, { as })).status).toBe(404);
    expect((await call('GET', `/endpoints/${ep.id}/messages`, { as })).status).toBe(404);
    expect((await call('POST', `/endpoints/${ep.id}/recover`, { as, body: { since: new Date(Date.now() - 60_000).toISOString() } })).status).toBe(404);
    expect((await call('DELETE', `/endpoints/${ep.id}`, { as })).status).toBe(404);
    const list = await call('GET', '/endpoints', { as });
    expect(list.body.endpoints.map((e: Json) => e.id)).not.toContain(ep.id);
  });

  it('members and viewers get a 403 creating in a project they can see; an outsider a 404', async () => {
    expect((await call('POST', '/endpoints', { as: t.people.member, body: endpointBody() })).status).toBe(403);
    expect((await call('POST', '/endpoints', { as: t.people.viewer, body: endpointBody() })).status).toBe(403);
    expect((await call('POST', '/endpoints', { as: t.people.unassigned, body: endpointBody() })).status).toBe(404);
    expect((await call('POST', '/endpoints', { as: t.people.outsider, body: endpointBody() })).status).toBe(404);
    // Listing a project or organization they can see but not manage is a 403 too.
    expect((await call('GET', `/endpoints?projectId=${t.projectA}`, { as: t.people.viewer })).status).toBe(403);
    expect((await call('GET', `/endpoints?organizationId=${t.orgId}`, { as: t.people.member })).status).toBe(403);
    expect((await call('GET', `/endpoints?organizationId=${t.orgId}`, { as: t.people.outsider })).status).toBe(404);
  });

  it("another organization's endpoint is a 404 to our owner, exactly like an unknown id", async () => {
    const unknown = await call('GET', `/endpoints/${crypto.randomUUID()}`, { as: t.people.owner });
    const other = await call('GET', `/endpoints/${foreign.id}`, { as: t.people.owner });
    expect(other.status).toBe(404);
    expect(other.body.error).toEqual({ ...unknown.body.error, requestId: expect.any(String) });
    expect((await call('DELETE', `/endpoints/${foreign.id}`, { as: t.people.owner })).status).toBe(404);
    expect(await countEndpoints(t.other.orgId)).toBe(1);
  });
});

describe('bad input is a 400 naming the field, and nothing is saved', () => {
  it.each([
    ['an ftp URL', { url: 'ftp://files.example.com/hook' }, 'body.url', /http or https/],
    ['the cloud metadata address', { url: 'http://169.254.169.254/latest/meta-data/' }, 'body.url', /link-local/],
    ['a loopback port the guard does not allow', { url: 'http://127.0.0.1:1/hook' }, 'body.url', /loopback/],
    ['a private address', { url: 'https://10.1.2.3/hook' }, 'body.url', /private/],
    ['credentials in the URL', { url: 'https://user:pw@example.com/hook' }, 'body.url', /user name or password/],
    ['not a URL', { url: 'hook me' }, 'body.url', /not a valid URL/],
    ['an unknown event type', { eventTypes: ['alert.firing', 'alert.fired'] }, 'body.eventTypes.1', /unknown event type "alert.fired"/],
    ['a wildcard that matches nothing', { eventTypes: ['invoice.*'] }, 'body.eventTypes.0', /unknown event type/],
    ['no event types', { eventTypes: [] }, 'body.eventTypes', /at least one/],
    ['an oversize description', { description: 'x'.repeat(501) }, 'body.description', /500/],
    ['a rate limit out of range', { rateLimitPerSecond: 0 }, 'body.rateLimitPerSecond', /./],
    ['a field of our own', { secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` }, 'body', /secret/],
  ])('%s', async (_, over, where, message) => {
    const before = await countEndpoints();
    const res = await call('POST', '/endpoints', { as: t.people.owner, body: endpointBody(over) });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe(where);
    expect(res.body.error.message).toMatch(message);
    expect(await countEndpoints()).toBe(before);
  });

  it('a PATCH with a refused URL changes nothing', async () => {
    const { endpoint } = await create();
    const res = await call('PATCH', `/endpoints/${endpoint.id}`, { as: t.people.owner, body: { url: 'http://169.254.169.254/', description: 'changed' } });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe('body.url');
    expect((await call('GET', `/endpoints/${endpoint.id}`, { as: t.people.owner })).body.endpoint).toEqual(endpoint);
  });

  // The limit is the plan's (billing_plans.webhook_endpoints_limit): 10 on the free plan.
  const FREE_ENDPOINTS = 10;
  it(`an organization holds at most its plan's endpoints (${FREE_ENDPOINTS} on the free plan)`, async () => {
    const org = t.other.orgId;
    const have = await countEndpoints(org);
    for (let i = have; i < FREE_ENDPOINTS; i++) {
      await env.db.query(
        `insert into public.webhook_endpoints (organization_id, project_id, url, event_types, secret_ciphertext) values ($1, $2, 'https://example.com/', array['*'], $3)`,
        [org, t.other.projectId, SEALED],
      );
    }
    const res = await call('POST', '/endpoints', { as: t.people.outsider, body: endpointBody({ projectId: t.other.projectId }) });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/already has 10 webhook endpoints, and its Free plan allows 10/);
    expect(await countEndpoints(org)).toBe(FREE_ENDPOINTS);
  });
});

describe('test-sends, rotation and the message log', () => {
  let ep: Json;
  let secret: string;
  let testMessage: Json;
  /** One test a 10 s per endpoint: the previous one is moved back in time, as though 10 s had passed. */
  const allowAnotherTest = () =>
    env.db.query(`update public.webhook_events set created_at = created_at - interval '1 minute' where endpoint_id = $1 and type = 'webhook.test'`, [ep.id]);

  beforeAll(async () => {
    ({ endpoint: ep, secret } = await create(t.people.owner, { url: hookUrl('/signed') }));
  });

  it('a test-send reaches the receiver now, signed so that the standardwebhooks package verifies it', async () => {
    const seen = receiver.received.length;
    const res = await call('POST', `/endpoints/${ep.id}/test`, { as: t.people.admin, body: { eventType: 'alert.firing' } });
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ ok: true, status: 200 });
    testMessage = res.body.message;
    expect(testMessage).toMatchObject({ endpointId: ep.id, eventType: 'webhook.test', status: 'delivered', attempts: 1, lastStatus: 200, lastError: null });
    expect(receiver.received).toHaveLength(seen + 1);
    const got = receiver.received[seen]!;
    expect(got.path).toBe('/signed');
    const payload = new Webhook(secret).verify(got.body, swHeaders(got)) as Json;
    expect(payload).toMatchObject({ type: 'webhook.test', data: { id: testMessage.eventId, endpointId: ep.id, message: expect.stringContaining('alert.firing') } });
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 2).toString('base64')}`).verify(got.body, swHeaders(got))).toThrow();
    // The test went to this endpoint only, whatever the others subscribe to.
    const [n] = await env.db.query<{ n: number }>('select count(*)::int as n from public.webhook_messages where event_id = $1', [testMessage.eventId]);
    expect(n!.n).toBe(1);
  });

  it('the message shows its attempt and the payload sent', async () => {
    const res = await call('GET', `/messages/${testMessage.id}`, { as: t.people.owner });
    expect(res.status).toBe(200);
    expect(res.body.message).toMatchObject({ id: testMessage.id, status: 'delivered', payload: { type: 'webhook.test', data: { endpointId: ep.id } } });
    expect(res.body.message.attemptLog).toEqual([
      { attempt: 1, startedAt: expect.any(String), durationMs: expect.any(Number), ok: true, statusCode: 200, error: null, responseBody: expect.toSatisfy((b: unknown) => b === null || typeof b === 'string') },
    ]);
    for (const who of ['member', 'viewer', 'outsider'] as const) expect((await call('GET', `/messages/${testMessage.id}`, { as: t.people[who] })).status, who).toBe(404);
  });

  it('a captured test-send is not replayed (400): a new test is sent instead', async () => {
    const res = await call('POST', `/messages/${testMessage.id}/replay`, { as: t.people.owner });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/a test-send is not replayed; send a new test/i);
    const [m] = await env.db.query<{ status: string; attempts: number }>('select status, attempts from public.webhook_messages where id = $1', [testMessage.id]);
    expect(m).toEqual({ status: 'delivered', attempts: 1 });
  });

  it('one test a 10 s per endpoint: another at once is a 429 with Retry-After, and nothing is sent', async () => {
    const seen = receiver.received.length;
    const res = await env.request('POST', `/functions/v1/webhooks/endpoints/${ep.id}/test`, { token: t.people.owner.jwt, body: {} });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(receiver.received).toHaveLength(seen);
  });

  it('a test-send to a receiver that fails is a 200 with the failure, recorded as one attempt, never retried', async () => {
    await allowAnotherTest();
    receiver.queue = [{ status: 500, body: 'upstream exploded' }];
    const res = await call('POST', `/endpoints/${ep.id}/test`, { as: t.people.owner });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ ok: false, status: 500, error: expect.any(String) });
    expect(res.body.message).toMatchObject({ attempts: 1, lastStatus: 500, status: 'failed' });
  });

  it('rotation: a new secret, shown once; for the grace period both secrets sign and both verify', async () => {
    const res = await call('POST', `/endpoints/${ep.id}/rotate-secret`, { as: t.people.owner, body: { graceSeconds: 3600 } });
    expect(res.status).toBe(200);
    const newSecret = res.body.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(secret);
    expect(res.body.endpoint.secretRotation).toEqual({ previousExpiresAt: expect.any(String) });
    expect(Date.parse(res.body.endpoint.secretRotation.previousExpiresAt)).toBeGreaterThan(Date.now() + 3000_000);
    const [changed] = (await audit(ep.id)).slice(-1);
    expect(changed).toMatchObject({ action: 'webhook_endpoint.changed', actor_id: t.people.owner.id, details: expect.objectContaining({ secret_rotated: true }) });
    expect(JSON.stringify(changed)).not.toContain('v1.');
    const got = await call('GET', `/endpoints/${ep.id}`, { as: t.people.owner });
    expect(JSON.stringify(got.body)).not.toContain(newSecret.slice(6));

    const seen = receiver.received.length;
    await allowAnotherTest();
    expect((await call('POST', `/endpoints/${ep.id}/test`, { as: t.people.owner })).body.result).toEqual({ ok: true, status: 200 });
    const sent = receiver.received[seen]!;
    expect(String(sent.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(newSecret).verify(sent.body, swHeaders(sent))).toMatchObject({ type: 'webhook.test' });
    expect(new Webhook(secret).verify(sent.body, swHeaders(sent))).toMatchObject({ type: 'webhook.test' });

    // With no grace the old secret stops at once: one signature, the new one's.
    const again = await call('POST', `/endpoints/${ep.id}/rotate-secret`, { as: t.people.admin, body: { graceSeconds: 0 } });
    expect(again.body.endpoint.secretRotation).toBeNull();
    const latest = again.body.secret as string;
    const before = receiver.received.length;
    await allowAnotherTest();
    await call('POST', `/endpoints/${ep.id}/test`, { as: t.people.owner });
    const last = receiver.received[before]!;
    expect(String(last.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(new Webhook(latest).verify(last.body, swHeaders(last))).toMatchObject({ type: 'webhook.test' });
    expect(() => new Webhook(newSecret).verify(last.body, swHeaders(last))).toThrow();
  });

  it('rotation takes a grace of 0 to 7 days only', async () => {
    const res = await call('POST', `/endpoints/${ep.id}/rotate-secret`, { as: t.people.owner, body: { graceSeconds: 8 * 86_400 } });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe('body.graceSeconds');
  });

  it('the message log: newest first, by status and time, in keyset pages', async () => {
    const all = await call('GET', `/endpoints/${ep.id}/messages`, { as: t.people.owner });
    expect(all.status).toBe(200);
    expect(all.body.messages.length).toBe(4);
    expect(all.body.nextCursor).toBeNull();
    const times = all.body.messages.map((m: Json) => Date.parse(m.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const pages: Json[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Json } = await call('GET', `/endpoints/${ep.id}/messages?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { as: t.people.owner });
      expect(page.status).toBe(200);
      pages.push(...page.body.messages);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages.map((m) => m.id)).toEqual(all.body.messages.map((m: Json) => m.id));
    const failed = await call('GET', `/endpoints/${ep.id}/messages?status=failed`, { as: t.people.owner });
    expect(failed.body.messages.map((m: Json) => m.lastStatus)).toEqual([500]);
    const future = await call('GET', `/endpoints/${ep.id}/messages?since=${new Date(Date.now() + 3600_000).toISOString()}`, { as: t.people.owner });
    expect(future.body.messages).toEqual([]);
    const first = await call('GET', `/endpoints/${ep.id}/messages?limit=1`, { as: t.people.owner });
    const mixed = await call('GET', `/endpoints/${ep.id}/messages?limit=1&status=delivered&cursor=${encodeURIComponent(first.body.nextCursor)}`, { as: t.people.owner });
    expect(mixed.status).toBe(400);
    expect(field(mixed.body)).toBe('query.cursor');
    expect((await call('GET', `/endpoints/${ep.id}/messages?status=lost`, { as: t.people.owner })).status).toBe(400);
  });
});

describe('replay and recovery', () => {
  let ep: Json;
  let secret: string;
  const messageOf = async (eventId: string) =>
    (await env.db.query<{ id: string }>('select id from public.webhook_messages where event_id = $1 and endpoint_id = $2', [eventId, ep.id]))[0]!.id;
  const state = async (id: string) =>
    (await env.db.query<{ status: string; attempts: number; schedule_from: number; last_error: string | null }>(
      'select status, attempts, schedule_from, last_error from public.webhook_messages where id = $1',
      [id],
    ))[0]!;
  /** As the job leaves a message whose retries ran out. */
  const fail = (id: string, attempts = 8, createdAgo = '1 hour') =>
    env.db.query(
      `update public.webhook_messages set status = 'failed', attempts = $2, last_status = 503, last_error = 'HTTP 503', created_at = now() - $3::interval where id = $1`,
      [id, attempts, createdAgo],
    );

  beforeAll(async () => {
    ({ endpoint: ep, secret } = await create(t.people.owner, { url: hookUrl('/replays'), eventTypes: ['export.*'] }));
  });

  it('replay: a failed message goes back to pending, due now, its schedule restarted; the job sends it under the same webhook-id', async () => {
    const eventId = await emit('export.failed');
    const id = await messageOf(eventId);
    await fail(id);
    const res = await call('POST', `/messages/${id}/replay`, { as: t.people.admin });
    expect(res.status).toBe(202);
    expect(res.body.message).toMatchObject({ id, status: 'pending', attempts: 8, lastError: null, nextAttemptAt: expect.any(String) });
    expect(await state(id)).toEqual({ status: 'pending', attempts: 8, schedule_from: 8, last_error: null });
    const seen = receiver.received.length;
    await deliverDueWebhooks(env.deps, Date.now());
    const sent = receiver.received.slice(seen).filter((r) => r.path === '/replays');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['webhook-id']).toBe(`msg_${eventId.replaceAll('-', '')}`);
    expect(new Webhook(secret).verify(sent[0]!.body, swHeaders(sent[0]!))).toMatchObject({ type: 'export.failed' });
    expect(await state(id)).toMatchObject({ status: 'delivered', attempts: 9 });
  });

  it('replay is refused while the message is being sent (409) and while the endpoint is disabled (400); viewers get a 404', async () => {
    const id = await messageOf(await emit('export.completed'));
    await env.db.query(`update public.webhook_messages set status = 'sending', lease_until = now() + interval '1 minute' where id = $1`, [id]);
    expect((await call('POST', `/messages/${id}/replay`, { as: t.people.owner })).status).toBe(409);
    await fail(id, 3);
    expect((await call('POST', `/messages/${id}/replay`, { as: t.people.viewer })).status).toBe(404);
    expect((await call('POST', `/messages/${id}/replay`, { as: t.people.outsider })).status).toBe(404);
    await call('PATCH', `/endpoints/${ep.id}`, { as: t.people.owner, body: { enabled: false } });
    const disabled = await call('POST', `/messages/${id}/replay`, { as: t.people.owner });
    expect(disabled.status).toBe(400);
    expect(disabled.body.error.message).toMatch(/enable the endpoint first/);
    expect(await state(id)).toMatchObject({ status: 'failed', attempts: 3 });
    await call('PATCH', `/endpoints/${ep.id}`, { as: t.people.owner, body: { enabled: true } });
    expect((await call('POST', `/messages/${crypto.randomUUID()}/replay`, { as: t.people.owner })).status).toBe(404);
  });

  it('recover: every failed message since T goes out again (not older ones, not delivered ones, not test-sends)', async () => {
    await env.db.query(`update public.webhook_messages set status = 'delivered' where endpoint_id = $1`, [ep.id]);
    const recent = [await messageOf(await emit('export.failed')), await messageOf(await emit('export.completed'))];
    for (const id of recent) await fail(id, 8, '2 hours');
    const old = await messageOf(await emit('export.failed'));
    await fail(old, 8, '3 days');
    const test = await call('POST', `/endpoints/${ep.id}/test`, { as: t.people.owner });
    await fail(test.body.message.id, 1, '1 hour');

    const since = new Date(Date.now() - 86_400_000).toISOString();
    const res = await call('POST', `/endpoints/${ep.id}/recover`, { as: t.people.owner, body: { since } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ replayed: 2 });
    for (const id of recent) expect(await state(id)).toMatchObject({ status: 'pending', schedule_from: 8 });
    expect(await state(old)).toMatchObject({ status: 'failed' });
    expect(await state(test.body.message.id)).toMatchObject({ status: 'failed' });
  });

  it('recover takes a time within the last 30 days, not in the future', async () => {
    for (const since of [new Date(Date.now() + 3600_000).toISOString(), new Date(Date.now() - 31 * 86_400_000).toISOString(), 'yesterday']) {
      const res = await call('POST', `/endpoints/${ep.id}/recover`, { as: t.people.owner, body: { since } });
      expect(res.status, since).toBe(400);
      expect(field(res.body)).toBe('body.since');
    }
    expect((await call('POST', `/endpoints/${ep.id}/recover`, { as: t.people.owner, body: {} })).status).toBe(400);
  });
});

describe('without SECRET_ENCRYPTION_KEY', () => {
  let bare: TestEnv;
  let tb: Tenant;
  beforeAll(async () => {
    bare = await createTestEnv();
    tb = await createTenant(bare);
  }, 120_000);
  afterAll(async () => {
    await bare?.close();
  });

  it('adding an endpoint is a 501 naming the variable, and nothing is saved', async () => {
    const res = await bare.request('POST', `${BASE}/endpoints`, {
      token: tb.people.owner.jwt,
      body: { projectId: tb.projectA, url: 'https://hooks.example.test/x', eventTypes: ['*'] },
    });
    expect(res.status).toBe(501);
    expect(((await res.json()) as Json).error.message).toMatch(/SECRET_ENCRYPTION_KEY/);
    expect(await bare.db.query('select 1 from public.webhook_endpoints')).toEqual([]);
  });
});
