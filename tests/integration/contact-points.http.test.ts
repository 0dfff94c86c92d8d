/**
 * Contact points through the alerts function (/alerts/contact-points): adding them (settings and
 * secret checked by the kind's notifier, URLs by the outbound guard), the sealed secret that no
 * response carries (except a webhook's generated signing secret, once), who may manage them, and
 * test-sends to a real local receiver that records the request and checks its Standard Webhooks
 * signature with the `standardwebhooks` package. The outbound guard allows exactly that receiver's
 * port; a second local server on another port is a private address it must refuse.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_LIMITS } from '../../src/alerts/schemas.ts';
import { createGatewayApp } from '../../src/app/app.ts';
import { sqlState } from '../../src/core/errors.ts';
import { UNREACHABLE_MESSAGE } from '../../src/net/outbound.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

const BASE = '/functions/v1/alerts/contact-points';
const KEY = Buffer.alloc(32, 9).toString('base64');
type Json = Record<string, any>;

// Secrets given to the API; none may come back in any response.
const SLACK_URL = 'https://hooks.slack.example.test/services/T000/B000/sEcReTslacktoken123';
const PD_KEY = 'R0utingKeyR0utingKeyR0utingKey12';
const AM_TOKEN = 'am-bearer-token-never-returned-42';
const GIVEN_WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;

interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local HTTP server that records every request; `/fail` answers 500, anything else 200. */
async function startReceiver(): Promise<{ port: number; url(path: string): string; requests: Received[]; close(): Promise<void> }> {
  const requests: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = req.url === '/fail' ? 500 : 200;
      res.end(req.url === '/fail' ? 'upstream exploded' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let env: TestEnv;
let t: Tenant;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
/** Listening, but not on the outbound allowlist: a private address the guard must refuse. */
let forbidden: Awaited<ReturnType<typeof startReceiver>>;
const bodies: string[] = [];
const field = (body: Json) => body.error?.details?.[0]?.field;

async function call(method: string, path: string, o: { as?: Person; apiKey?: string; body?: unknown } = {}): Promise<{ status: number; body: Json }> {
  const res = await env.request(method, `${BASE}${path}`, { token: o.as?.jwt, apiKey: o.apiKey, body: o.body });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

const webhookBody = (over: Json = {}) => ({ projectId: t.projectA, name: 'hooks', kind: 'webhook', settings: { url: receiver.url('/hook') }, ...over });

beforeAll(async () => {
  receiver = await startReceiver();
  forbidden = await startReceiver();
  env = await createTestEnv({ env: { SECRET_ENCRYPTION_KEY: KEY, OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${receiver.port}` } });
  t = await createTenant(env);
}, 120_000);
afterAll(async () => {
  await env?.close();
  await receiver?.close();
  await forbidden?.close();
});

describe('adding contact points', () => {
  let generated: string;

  it('a webhook without a secret gets a generated signing secret, returned once; stored sealed; audited without it', async () => {
    const res = await call('POST', '', { as: t.people.owner, body: webhookBody() });
    expect(res.status).toBe(201);
    generated = res.body.secret;
    expect(generated).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const cp = res.body.contactPoint;
    expect(cp).toMatchObject({ projectId: t.projectA, name: 'hooks', kind: 'webhook', settings: { url: receiver.url('/hook') }, hasSecret: true, sendResolved: true, enabled: true });
    expect(Object.keys(cp).sort()).toEqual(
      ['createdAt', 'createdBy', 'disabledAt', 'disabledReason', 'enabled', 'hasSecret', 'id', 'kind', 'name', 'organizationId', 'projectId', 'sendResolved', 'settings', 'updatedAt'].sort(),
    );
    const [stored] = await env.db.query<{ secret_ciphertext: string }>('select secret_ciphertext from public.contact_points where id = $1', [cp.id]);
    expect(stored!.secret_ciphertext).toMatch(/^v1\./);
    expect(stored!.secret_ciphertext).not.toContain(generated.slice(6));
    const audit = await env.db.query<{ action: string; actor_id: string; details: Json }>('select action, actor_id, details from public.audit_log where target_id = $1', [cp.id]);
    expect(audit).toEqual([{ action: 'contact_point.created', actor_id: t.people.owner.id, details: expect.objectContaining({ name: 'hooks' }) }]);
    expect(JSON.stringify(audit)).not.toContain('secret_ciphertext');
    // Read back: the view again, never the secret; its URL in full only to owners and admins (a
    // webhook URL may carry a token), to a viewer only its origin.
    expect((await call('GET', `/${cp.id}`, { as: t.people.admin })).body.contactPoint).toEqual(cp);
    const seen = await call('GET', `/${cp.id}`, { as: t.people.viewer });
    expect(seen.body.contactPoint).toEqual({ ...cp, settings: { ...cp.settings, url: `${new URL(receiver.url('/hook')).origin}/…` } });
    const listed = (await call('GET', `?projectId=${t.projectA}`, { as: t.people.member })).body.contactPoints as Json[];
    expect(JSON.stringify(listed)).not.toContain(receiver.url('/hook'));
  });

  it('no API role can read the sealed column, not even its owner through SQL', async () => {
    const denied = await env.db
      .transaction(async (tx) => {
        await tx.query('set local role authenticated');
        await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role: 'authenticated', sub: t.people.owner.id })]);
        return tx.query('select secret_ciphertext from public.contact_points');
      })
      .catch((err) => sqlState(err));
    expect(denied).toBe('42501');
  });

  it.each([
    // kind, settings, secret: each kind with its own settings; the secret is sealed and never shown
    ['slack', { mention: '<!here>' }, SLACK_URL],
    ['pagerduty', { severity: 'critical' }, PD_KEY],
    ['alertmanager', { url: 'https://am.example.test/api/v2/alerts' }, AM_TOKEN],
    ['webhook', { url: 'https://hooks.example.test/in', maxAlerts: 10 }, GIVEN_WEBHOOK_SECRET],
    ['email', { to: ['oncall@example.test'], from: 'Alerts <alerts@example.test>', transport: 'http', http: { url: 'https://mail.example.test/send' } }, 'mail-api-key-1'],
  ])('a %s contact point is added with its secret sealed', async (kind, settings, secret) => {
    const res = await call('POST', '', { as: t.people.admin, body: { projectId: t.projectA, name: `${kind}-cp`, kind, settings, secret, sendResolved: false } });
    expect(res.status).toBe(201);
    expect(res.body.secret).toBeUndefined();
    expect(res.body.contactPoint).toMatchObject({ kind, hasSecret: true, sendResolved: false });
    expect(JSON.stringify(res.body)).not.toContain(secret);
  });

  it("the kind's defaults are stored; an optional secret may be left out", async () => {
    const pd = await call('POST', '', { as: t.people.owner, body: { projectId: t.projectA, name: 'pd-default', kind: 'pagerduty', secret: PD_KEY } });
    expect(pd.body.contactPoint.settings).toEqual({ url: 'https://events.pagerduty.com/v2/enqueue' });
    const am = await call('POST', '', { as: t.people.owner, body: { projectId: t.projectA, name: 'am-open', kind: 'alertmanager', settings: { url: 'https://am.example.test/' } } });
    expect(am.status).toBe(201);
    expect(am.body.contactPoint).toMatchObject({ hasSecret: false, settings: { url: 'https://am.example.test/', maxAlerts: 0, auth: 'bearer' } });
  });

  it.each([
    // what is wrong, the field the 400 names
    [{ kind: 'carrier-pigeon' }, 'body.kind'],
    [{ name: '' }, 'body.name'],
    [{ name: 'x'.repeat(101) }, 'body.name'],
    [{ name: 'two\nlines' }, 'body.name'],
    [{ settings: {} }, 'body.settings.url'],
    [{ settings: { url: 'ftp://files.example.test/' } }, 'body.settings.url'],
    [{ settings: { url: 'http://user:pw@hooks.example.test/' } }, 'body.settings.url'],
    [{ settings: { url: 'https://hooks.example.test/', color: 'red' } }, 'body.settings'],
    [{ settings: { url: 'https://hooks.example.test/', maxAlerts: -1 } }, 'body.settings.maxAlerts'],
    [{ settings: 'https://hooks.example.test/' }, 'body.settings'],
    [{ secret: 'not-a-whsec' }, 'body.secret'],
    [{ secret: `whsec_${Buffer.alloc(8).toString('base64')}` }, 'body.secret'],
    [{ kind: 'slack', settings: {} }, 'body.secret'],
    [{ kind: 'slack', settings: {}, secret: 'hooks.slack.com/services/x' }, 'body.secret'],
    [{ kind: 'pagerduty', settings: {} }, 'body.secret'],
    [{ kind: 'pagerduty', settings: {}, secret: 'short' }, 'body.secret'],
    [{ kind: 'pagerduty', settings: { url: 'gopher://pd.example.test/' }, secret: PD_KEY }, 'body.settings.url'],
    [{ kind: 'email', settings: { transport: 'http', from: 'a@example.test', http: { url: 'https://m.example.test/' } } }, 'body.settings.to'],
    [{ kind: 'email', settings: { to: ['a@example.test'], transport: 'http', from: 'a@example.test' } }, 'body.settings.http'],
    [{ kind: 'email', settings: { to: ['a@example.test'], transport: 'http', from: 'a@example.test', http: { url: 'file:///etc/passwd' } } }, 'body.settings.http.url'],
    [{ sendResolved: 'yes' }, 'body.sendResolved'],
    [{ projectId: 'p' }, 'body.projectId'],
    [{ id: crypto.randomUUID() }, 'body'],
  ])('a bad contact point is a 400 naming the field: %j', async (over, name) => {
    const res = await call('POST', '', { as: t.people.owner, body: webhookBody(over) });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe(name);
  });

  it(`refuses a contact point past the project's limit of ${ALERT_LIMITS.contactPointsPerProject}`, async () => {
    await env.db.query(
      `insert into public.contact_points (project_id, organization_id, name, kind, settings)
       select $1, $2, 'filler-' || i, 'alertmanager', '{"url": "https://am.example.test/"}' from generate_series(1, $3) i`,
      [t.projectB, t.orgId, ALERT_LIMITS.contactPointsPerProject - 1],
    );
    const body = { projectId: t.projectB, name: 'last', kind: 'alertmanager', settings: { url: 'https://am.example.test/' } };
    expect((await call('POST', '', { as: t.people.owner, body })).status).toBe(201);
    const over = await call('POST', '', { as: t.people.owner, body });
    expect(over.status).toBe(400);
    expect(over.body.error.message).toMatch(/limit/);
  });

  it.each([
    // actor, status: owners and admins manage contact points; members and viewers may not; others do not see the project
    ['owner', 201],
    ['admin', 201],
    ['member', 403],
    ['viewer', 403],
    ['unassigned', 404],
    ['outsider', 404],
  ] as const)('POST by %s answers %i', async (actor, status) => {
    expect((await call('POST', '', { as: t.people[actor], body: webhookBody({ name: `by-${actor}` }) })).status).toBe(status);
  });

  it('API keys cannot add them (they act for a project, not as its owner)', async () => {
    const { projectId: _, ...body } = webhookBody();
    expect((await call('POST', '', { apiKey: t.keyA.secret, body })).status).toBe(403);
    expect((await call('POST', '', { body })).status).toBe(401);
  });

  it('the generated secret was in exactly one response: the one that created it', () => {
    expect(bodies.filter((b) => b.includes(generated))).toHaveLength(1);
  });
});

describe('reading, changing and removing contact points', () => {
  it('readers list them without secrets; another tenant sees none, and its ids are 404 like unknown ones', async () => {
    for (const who of ['viewer', 'member', 'admin'] as const) {
      const res = await call('GET', `?projectId=${t.projectA}`, { as: t.people[who] });
      expect(res.status).toBe(200);
      const names = (res.body.contactPoints as Json[]).map((c) => c.name);
      expect(names).toEqual(expect.arrayContaining(['hooks', 'slack-cp', 'pagerduty-cp', 'am-open']));
      expect(names).toEqual([...names].sort());
    }
    const list = (await call('GET', `?projectId=${t.projectA}`, { as: t.people.viewer })).body.contactPoints as Json[];
    expect(list.find((c) => c.name === 'am-open')!.hasSecret).toBe(false);
    expect(list.find((c) => c.name === 'slack-cp')!.hasSecret).toBe(true);
    expect((await call('GET', '', { apiKey: t.keyA.secret })).body.contactPoints.length).toBe(list.length);

    const id = list[0]!.id;
    const theirs = await call('GET', `/${id}`, { as: t.people.outsider });
    const unknown = await call('GET', `/${crypto.randomUUID()}`, { as: t.people.owner });
    expect(theirs.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(theirs.body.error.message).toBe(unknown.body.error.message);
    expect((await call('GET', `/${id}`, { as: t.people.unassigned })).status).toBe(404);
    expect((await call('GET', '', { as: t.people.outsider })).body.contactPoints).toEqual([]);
    expect((await call('GET', `?projectId=${t.projectA}`, { as: t.people.outsider })).status).toBe(404);
  });

  it('an owner changes name, settings, secret and sendResolved; the kind stays; audited', async () => {
    const cp = (await call('POST', '', { as: t.people.owner, body: webhookBody({ name: 'to-change' }) })).body.contactPoint;
    const res = await call('PATCH', `/${cp.id}`, {
      as: t.people.owner,
      body: { name: 'changed', settings: { url: receiver.url('/other') }, secret: GIVEN_WEBHOOK_SECRET, sendResolved: false },
    });
    expect(res.status).toBe(200);
    expect(res.body.contactPoint).toMatchObject({ id: cp.id, name: 'changed', kind: 'webhook', settings: { url: receiver.url('/other') }, sendResolved: false, hasSecret: true });
    expect(JSON.stringify(res.body)).not.toContain(GIVEN_WEBHOOK_SECRET);
    const actions = await env.db.query<{ action: string }>('select action from public.audit_log where target_id = $1 order by id', [cp.id]);
    expect(actions.map((a) => a.action)).toEqual(['contact_point.created', 'contact_point.changed']);
    expect((await call('PATCH', `/${cp.id}`, { as: t.people.owner, body: { kind: 'slack' } })).status).toBe(400);
  });

  it('an optional secret can be removed, a required one cannot', async () => {
    const am = (await call('POST', '', { as: t.people.owner, body: { projectId: t.projectA, name: 'am-token', kind: 'alertmanager', settings: { url: 'https://am.example.test/' }, secret: AM_TOKEN } }))
      .body.contactPoint;
    expect(am.hasSecret).toBe(true);
    expect((await call('PATCH', `/${am.id}`, { as: t.people.owner, body: { secret: null } })).body.contactPoint.hasSecret).toBe(false);
    const hook = (await call('POST', '', { as: t.people.owner, body: webhookBody({ name: 'keeps-secret' }) })).body.contactPoint;
    const res = await call('PATCH', `/${hook.id}`, { as: t.people.owner, body: { secret: null } });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe('body.secret');
  });

  it('enabled: true clears a disable (a receiver that answered 410 Gone); enabled: false sets one', async () => {
    const cp = (await call('POST', '', { as: t.people.owner, body: webhookBody({ name: 'gone' }) })).body.contactPoint;
    await env.db.query(`update public.contact_points set disabled_at = now(), disabled_reason = 'The receiver answered 410' where id = $1`, [cp.id]);
    const disabled = (await call('GET', `/${cp.id}`, { as: t.people.viewer })).body.contactPoint;
    expect(disabled).toMatchObject({ enabled: false, disabledReason: 'The receiver answered 410' });
    const res = await call('PATCH', `/${cp.id}`, { as: t.people.admin, body: { enabled: true } });
    expect(res.body.contactPoint).toMatchObject({ enabled: true, disabledAt: null, disabledReason: null });
    const off = await call('PATCH', `/${cp.id}`, { as: t.people.admin, body: { enabled: false } });
    expect(off.body.contactPoint).toMatchObject({ enabled: false, disabledReason: 'Disabled by a user' });
  });

  it.each([
    [{}, 'body'],
    [{ settings: { url: 'nope' } }, 'body.settings.url'],
    [{ settings: { url: 'https://x.example.test/', extra: 1 } }, 'body.settings'],
    [{ secret: 'whsec_' }, 'body.secret'],
    [{ name: '' }, 'body.name'],
    [{ enabled: 'yes' }, 'body.enabled'],
  ])('a bad change is a 400 naming the field: %j', async (patch, name) => {
    const cp = (await call('GET', `?projectId=${t.projectA}`, { as: t.people.owner })).body.contactPoints.find((c: Json) => c.name === 'hooks');
    const res = await call('PATCH', `/${cp.id}`, { as: t.people.owner, body: patch });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe(name);
  });

  it('members and viewers may not change or remove them; other tenants get 404; owners remove them (audited)', async () => {
    const cp = (await call('POST', '', { as: t.people.owner, body: webhookBody({ name: 'doomed' }) })).body.contactPoint;
    for (const who of ['member', 'viewer'] as const) {
      expect((await call('PATCH', `/${cp.id}`, { as: t.people[who], body: { sendResolved: false } })).status).toBe(403);
      expect((await call('DELETE', `/${cp.id}`, { as: t.people[who] })).status).toBe(403);
    }
    expect((await call('PATCH', `/${cp.id}`, { as: t.people.outsider, body: { sendResolved: false } })).status).toBe(404);
    expect((await call('DELETE', `/${cp.id}`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('DELETE', `/${cp.id}`, { apiKey: t.keyA.secret })).status).toBe(403);
    expect((await call('GET', `/${cp.id}`, { as: t.people.owner })).body.contactPoint.sendResolved).toBe(true);
    expect((await call('DELETE', `/${cp.id}`, { as: t.people.admin })).status).toBe(204);
    expect((await call('GET', `/${cp.id}`, { as: t.people.owner })).status).toBe(404);
    expect((await call('DELETE', `/${cp.id}`, { as: t.people.admin })).status).toBe(404);
    const actions = await env.db.query<{ action: string }>('select action from public.audit_log where target_id = $1 order by id', [cp.id]);
    expect(actions.map((a) => a.action)).toEqual(['contact_point.created', 'contact_point.deleted']);
  });
});

describe('test-send', () => {
  it('sends a signed test notification to the webhook; the receiver verifies it with standardwebhooks', async () => {
    const created = await call('POST', '', { as: t.people.owner, body: webhookBody({ name: 'signed' }) });
    const { contactPoint: cp, secret } = created.body;
    const before = receiver.requests.length;
    const res = await call('POST', `/${cp.id}/test`, { as: t.people.admin });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ ok: true, status: 200 });
    const got = receiver.requests.slice(before);
    expect(got).toHaveLength(1);
    const req = got[0]!;
    expect(req).toMatchObject({ method: 'POST', path: '/hook' });
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
    const payload = new Webhook(secret).verify(req.body, headers) as Json;
    expect(payload.type).toBe('alert.firing');
    expect(payload.data).toMatchObject({ id: headers['webhook-id'], status: 'firing', receiver: 'signed', project: { id: t.projectA, name: 'A' } });
    expect(payload.data.alerts).toHaveLength(1);
    expect(payload.data.alerts[0]).toMatchObject({ status: 'firing', labels: { alertname: 'TestAlert', test: 'true' } });
    expect(payload.data.alerts[0].annotations.summary).toMatch(/test/i);
    // A signature made with another secret does not verify.
    expect(() => new Webhook(GIVEN_WEBHOOK_SECRET).verify(req.body, headers)).toThrow();

    // Each test is a new notification: a receiver deduplicating on webhook-id shows both.
    await call('POST', `/${cp.id}/test`, { as: t.people.owner });
    const ids = receiver.requests.slice(before).map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it('sends the stored secret as the Alertmanager receiver authorization', async () => {
    const cp = (await call('POST', '', { as: t.people.owner, body: { projectId: t.projectA, name: 'am-test', kind: 'alertmanager', settings: { url: receiver.url('/am') }, secret: AM_TOKEN } }))
      .body.contactPoint;
    const before = receiver.requests.length;
    const res = await call('POST', `/${cp.id}/test`, { as: t.people.owner });
    expect(res.body.result).toMatchObject({ ok: true });
    const req = receiver.requests.slice(before)[0]!;
    expect(req.headers.authorization).toBe(`Bearer ${AM_TOKEN}`);
    expect(JSON.parse(req.body)).toMatchObject({ version: '4', status: 'firing', receiver: 'am-test', alerts: [{ labels: { alertname: 'TestAlert' } }] });
  });

  it('a failed delivery is still a 200, with the result saying why', async () => {
    const cp = (await call('POST', '', { as: t.people.owner, body: webhookBody({ name: 'failing', settings: { url: receiver.url('/fail') } }) })).body.contactPoint;
    const res = await call('POST', `/${cp.id}/test`, { as: t.people.owner });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ ok: false, retryable: true, status: 500 });
    expect(res.body.result.error).toMatch(/500/);
  });

  it('a private address the outbound guard does not allow is refused before connecting, with the generic message', async () => {
    const body = webhookBody({ name: 'private', settings: { url: forbidden.url('/steal') } });
    const cp = (await call('POST', '', { as: t.people.owner, body })).body.contactPoint;
    const res = await call('POST', `/${cp.id}/test`, { as: t.people.owner });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ ok: false, status: null, error: UNREACHABLE_MESSAGE });
    // Indistinguishable from a port where nothing listens.
    const closed = (await call('POST', '', { as: t.people.owner, body: webhookBody({ name: 'nothing', settings: { url: 'http://127.0.0.1:9/' } }) })).body.contactPoint;
    expect((await call('POST', `/${closed.id}/test`, { as: t.people.owner })).body.result.error).toBe(UNREACHABLE_MESSAGE);
    expect(forbidden.requests).toEqual([]);
  });

  it('members, viewers and keys may not test; other tenants get 404', async () => {
    const cp = (await call('GET', `?projectId=${t.projectA}`, { as: t.people.owner })).body.contactPoints.find((c: Json) => c.name === 'hooks');
    const before = receiver.requests.length;
    expect((await call('POST', `/${cp.id}/test`, { as: t.people.member })).status).toBe(403);
    expect((await call('POST', `/${cp.id}/test`, { as: t.people.viewer })).status).toBe(403);
    expect((await call('POST', `/${cp.id}/test`, { apiKey: t.keyA.secret })).status).toBe(403);
    expect((await call('POST', `/${cp.id}/test`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('POST', `/${crypto.randomUUID()}/test`, { as: t.people.owner })).status).toBe(404);
    expect(receiver.requests.length).toBe(before);
  });
});

describe('without SECRET_ENCRYPTION_KEY', () => {
  it('adding a contact point with a secret answers 501 naming the variable; one without a secret works', async () => {
    const app = createGatewayApp({ ...env.deps, config: { ...env.deps.config, exports: { encryptionKey: undefined } } });
    const post = async (body: Json) => {
      const res = await app.request(BASE, { method: 'POST', headers: { authorization: `Bearer ${t.people.owner.jwt}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      bodies.push(text);
      return { status: res.status, body: JSON.parse(text) as Json };
    };
    const res = await post(webhookBody({ name: 'no-key' }));
    expect(res.status).toBe(501);
    expect(res.body.error.message).toMatch(/SECRET_ENCRYPTION_KEY/);
    expect((await post({ projectId: t.projectA, name: 'no-key-am', kind: 'alertmanager', settings: { url: 'https://am.example.test/' } })).status).toBe(201);
  });
});

// Over every response of this file.
it('never returned a secret in any response body', () => {
  expect(bodies.length).toBeGreaterThan(60);
  for (const body of bodies) {
    for (const secret of [SLACK_URL, PD_KEY, AM_TOKEN, GIVEN_WEBHOOK_SECRET, 'mail-api-key-1']) expect(body).not.toContain(secret);
    expect(body).not.toMatch(/v1\.[0-9a-f]{16}\./);
    expect(body).not.toContain('secret_ciphertext');
  }
});
