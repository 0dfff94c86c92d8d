/**
 * The notification policy through the alerts function (/alerts/policy): Alertmanager's routing tree,
 * inhibition rules and time intervals as one document per project. Setting it (owners and admins),
 * reading it back as it was sent, every 400 naming its field (the document's own errors, and receivers
 * that name no contact point), removing it, and the 409 that keeps the tree from routing to nothing
 * when its last contact point of a name would be deleted or renamed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

const BASE = '/functions/v1/alerts';
type Json = Record<string, any>;

let env: TestEnv;
let t: Tenant;
const field = (body: Json) => body.error?.details?.[0]?.field;

async function call(method: string, path: string, o: { as?: Person; apiKey?: string; body?: unknown } = {}): Promise<{ status: number; body: Json }> {
  const res = await env.request(method, `${BASE}${path}`, { token: o.as?.jwt, apiKey: o.apiKey, body: o.body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/** A contact point through the API (alertmanager kind: no secret needed). */
async function contactPoint(name: string, projectId = t.projectA): Promise<string> {
  const res = await call('POST', '/contact-points', { as: t.people.owner, body: { projectId, name, kind: 'alertmanager', settings: { url: 'https://am.example.test/api/v2/alerts' } } });
  expect(res.status).toBe(201);
  return res.body.contactPoint.id;
}

/** A realistic document, in Alertmanager's shape and text forms. */
const POLICY = {
  route: {
    receiver: 'ops',
    group_by: ['alertname', 'cluster'],
    group_wait: '30s',
    group_interval: '5m',
    repeat_interval: '4h',
    routes: [
      { matchers: ['team="db"'], receiver: 'db-team', continue: true, routes: [{ matchers: ['severity="critical"'], receiver: 'ops', group_wait: '10s' }] },
      { matchers: ['env=~"staging|dev"'], mute_time_intervals: ['nights'] },
    ],
  },
  inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['cluster'] }],
  time_intervals: [{ name: 'nights', time_intervals: [{ times: [{ start_time: '22:00', end_time: '24:00' }], location: 'Europe/Berlin' }] }],
};

beforeAll(async () => {
  env = await createTestEnv({ env: { SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64') } });
  t = await createTenant(env);
  await contactPoint('ops');
  await contactPoint('db-team');
}, 120_000);
afterAll(async () => env?.close());

describe('the policy document', () => {
  it('a project without one answers policy: null', async () => {
    const res = await call('GET', `/policy?projectId=${t.projectB}`, { as: t.people.viewer });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ projectId: t.projectB, policy: null, updatedAt: null, updatedBy: null });
  });

  it('an owner sets it; readers get it back as it was sent; audited', async () => {
    const res = await call('PUT', '/policy', { as: t.people.owner, body: { projectId: t.projectA, policy: POLICY } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ projectId: t.projectA, policy: POLICY, updatedBy: t.people.owner.id });
    for (const who of ['viewer', 'member', 'admin'] as const) {
      const got = await call('GET', `/policy?projectId=${t.projectA}`, { as: t.people[who] });
      expect(got.status).toBe(200);
      expect(got.body.policy).toEqual(POLICY);
      expect(Date.parse(got.body.updatedAt)).not.toBeNaN();
    }
    // A read key reads its own project's without naming it.
    expect((await call('GET', '/policy', { apiKey: t.keyA.secret })).body.policy).toEqual(POLICY);
    const audit = await env.db.query<{ action: string; actor_id: string }>("select action, actor_id from public.audit_log where target_type = 'notification_policy' and target_id = $1", [t.projectA]);
    expect(audit).toEqual([{ action: 'notification_policy.created', actor_id: t.people.owner.id }]);
  });

  it('an admin replaces it whole (the audit log names who changed it)', async () => {
    const smaller = { route: { receiver: 'db-team' } };
    const res = await call('PUT', '/policy', { as: t.people.admin, body: { projectId: t.projectA, policy: smaller } });
    expect(res.status).toBe(200);
    expect(res.body.policy).toEqual(smaller);
    const [last] = await env.db.query<{ action: string; actor_id: string }>(
      "select action, actor_id from public.audit_log where target_type = 'notification_policy' and target_id = $1 order by id desc limit 1",
      [t.projectA],
    );
    expect(last).toEqual({ action: 'notification_policy.changed', actor_id: t.people.admin.id });
    expect((await call('PUT', '/policy', { as: t.people.owner, body: { projectId: t.projectA, policy: POLICY } })).status).toBe(200);
  });

  it('every receiver must be a contact point of the project: a 400 naming each route that is not', async () => {
    const policy = { route: { receiver: 'ops', routes: [{ matchers: ['a="b"'], receiver: 'nobody' }, { matchers: ['c="d"'], routes: [{ receiver: 'ghost' }] }] } };
    const res = await call('PUT', '/policy', { as: t.people.owner, body: { projectId: t.projectA, policy } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { field: 'body.policy.route.routes.0.receiver', message: "no contact point of this project is named 'nobody'" },
      { field: 'body.policy.route.routes.1.routes.0.receiver', message: "no contact point of this project is named 'ghost'" },
    ]);
    // Another project's contact point of that name does not count.
    await contactPoint('b-only', t.projectB);
    const other = await call('PUT', '/policy', { as: t.people.owner, body: { projectId: t.projectA, policy: { route: { receiver: 'b-only' } } } });
    expect(other.status).toBe(400);
    expect(field(other.body)).toBe('body.policy.route.receiver');
    // Unchanged by the refused writes.
    expect((await call('GET', `/policy?projectId=${t.projectA}`, { as: t.people.owner })).body.policy).toEqual(POLICY);
  });

  it.each([
    // the document, the field the 400 names
    [{}, 'body.policy.route'],
    [{ route: { group_by: ['x'] } }, 'body.policy.route.receiver'],
    [{ route: { receiver: 'ops', matchers: ['a="b"'] } }, 'body.policy.route.matchers'],
    [{ route: { receiver: 'ops', routes: [{ matchers: ['a="b'] }] } }, 'body.policy.route.routes.0.matchers.0'],
    [{ route: { receiver: 'ops', routes: [{ group_wait: 'soon' }] } }, 'body.policy.route.routes.0.group_wait'],
    [{ route: { receiver: 'ops', routes: [{ group_interval: '0s' }] } }, 'body.policy.route.routes.0.group_interval'],
    [{ route: { receiver: 'ops', group_by: ['...', 'a'] } }, 'body.policy.route.group_by'],
    [{ route: { receiver: 'ops', routes: [{ mute_time_intervals: ['weekends'] }] } }, 'body.policy.route.routes.0.mute_time_intervals.0'],
    [{ route: { receiver: 'ops' }, inhibit_rules: [{ source_matchers: [], target_matchers: ['a="b"'] }] }, 'body.policy.inhibit_rules.0.source_matchers'],
    [
      { route: { receiver: 'ops' }, time_intervals: [{ name: 'n', time_intervals: [{ location: 'Mars/Olympus' }] }] },
      'body.policy.time_intervals.0.time_intervals.0.location',
    ],
    [{ route: { receiver: 'ops', extra: true } }, 'body.policy.route'],
    ['route: receiver: ops', 'body.policy'],
  ])('a bad document is a 400 naming the field: %j', async (policy, name) => {
    const res = await call('PUT', '/policy', { as: t.people.owner, body: { projectId: t.projectA, policy } });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe(name);
  });

  it('a tree deeper than routing allows is a 400, not a stack overflow', async () => {
    let route: Json = { receiver: 'ops' };
    for (let i = 0; i < 50; i++) route = { receiver: 'ops', routes: [route] };
    const res = await call('PUT', '/policy', { as: t.people.owner, body: { projectId: t.projectA, policy: { route } } });
    expect(res.status).toBe(400);
    expect(field(res.body)).toMatch(/^body\.policy\.route/);
  });

  it('DELETE removes it (204, audited) and is the same success when there is none', async () => {
    const [p] = await env.db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'C', 'proj-c') returning id`, [t.orgId]);
    const cp = await contactPoint('ops', p!.id);
    expect((await call('PUT', '/policy', { as: t.people.owner, body: { projectId: p!.id, policy: { route: { receiver: 'ops' } } } })).status).toBe(200);
    expect((await call('DELETE', `/policy?projectId=${p!.id}`, { as: t.people.admin })).status).toBe(204);
    expect((await call('GET', `/policy?projectId=${p!.id}`, { as: t.people.owner })).body.policy).toBeNull();
    expect((await call('DELETE', `/policy?projectId=${p!.id}`, { as: t.people.admin })).status).toBe(204);
    const actions = await env.db.query<{ action: string }>("select action from public.audit_log where target_type = 'notification_policy' and target_id = $1 order by id", [p!.id]);
    expect(actions.map((a) => a.action)).toEqual(['notification_policy.created', 'notification_policy.deleted']);
    // With no policy naming it, its contact point may go.
    expect((await call('DELETE', `/contact-points/${cp}`, { as: t.people.owner })).status).toBe(204);
  });
});

describe('contact points the policy routes to', () => {
  it("deleting or renaming a receiver's only contact point is a 409 naming the policy's routes; with a second of that name it is allowed", async () => {
    const [db] = (await call('GET', `/contact-points?projectId=${t.projectA}`, { as: t.people.owner })).body.contactPoints.filter((c: Json) => c.name === 'db-team');
    const del = await call('DELETE', `/contact-points/${db.id}`, { as: t.people.owner });
    expect(del.status).toBe(409);
    expect(del.body.error.details).toEqual([{ field: 'policy.route.routes.0.receiver', message: "routes to 'db-team', whose only contact point this is" }]);
    const rename = await call('PATCH', `/contact-points/${db.id}`, { as: t.people.owner, body: { name: 'dba' } });
    expect(rename.status).toBe(409);
    // Other changes are fine.
    expect((await call('PATCH', `/contact-points/${db.id}`, { as: t.people.owner, body: { sendResolved: false } })).status).toBe(200);

    const [ops] = (await call('GET', `/contact-points?projectId=${t.projectA}`, { as: t.people.owner })).body.contactPoints.filter((c: Json) => c.name === 'ops');
    const opsDel = await call('DELETE', `/contact-points/${ops.id}`, { as: t.people.owner });
    expect(opsDel.status).toBe(409);
    expect(opsDel.body.error.details.map((d: Json) => d.field)).toEqual(['policy.route.receiver', 'policy.route.routes.0.routes.0.receiver']);

    await contactPoint('db-team');
    expect((await call('PATCH', `/contact-points/${db.id}`, { as: t.people.owner, body: { name: 'dba' } })).status).toBe(200);
    expect((await call('DELETE', `/contact-points/${db.id}`, { as: t.people.owner })).status).toBe(204);
  });
});

describe('who may read and change the policy', () => {
  it.each([
    // actor, PUT status: owners and admins decide what the pager does; members and viewers do not; others do not see the project
    ['owner', 200],
    ['admin', 200],
    ['member', 403],
    ['viewer', 403],
    ['unassigned', 404],
    ['outsider', 404],
  ] as const)('PUT by %s answers %i', async (actor, status) => {
    const res = await call('PUT', '/policy', { as: t.people[actor], body: { projectId: t.projectA, policy: POLICY } });
    expect(res.status).toBe(status);
  });

  it.each([
    ['member', 403],
    ['viewer', 403],
    ['unassigned', 404],
    ['outsider', 404],
  ] as const)('DELETE by %s answers %i and removes nothing', async (actor, status) => {
    expect((await call('DELETE', `/policy?projectId=${t.projectA}`, { as: t.people[actor] })).status).toBe(status);
    expect((await call('GET', `/policy?projectId=${t.projectA}`, { as: t.people.owner })).body.policy).toEqual(POLICY);
  });

  it('API keys cannot change it (not even admin-scoped ones: they act for a project, not as its owner); others cannot read it', async () => {
    expect((await call('PUT', '/policy', { apiKey: t.keyA.secret, body: { policy: POLICY } })).status).toBe(403);
    expect((await call('GET', `/policy?projectId=${t.projectA}`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('GET', `/policy?projectId=${t.projectA}`, { as: t.people.unassigned })).status).toBe(404);
    const unnamed = await call('GET', '/policy', { as: t.people.owner });
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error.message).toContain('query.projectId');
    expect((await call('GET', '/policy')).status).toBe(401);
  });
});
