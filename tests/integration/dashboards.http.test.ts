/**
 * Saved dashboards through the metrics function (/metrics/dashboards): create, list, get, replace
 * with optimistic concurrency, delete, export and import, with the stored rows and their audit trail;
 * who may do what (readers see shared dashboards, a private one only its creator; its creator, owners
 * and admins write; viewers and API keys never); bad panels as 400s naming the field; another
 * tenant's dashboard is a 404 like an unknown id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { type Actor, createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

type Json = Record<string, any>;
const BASE = '/functions/v1/metrics/dashboards';

let env: TestEnv;
let t: Tenant;

beforeAll(async () => {
  env = await createTestEnv();
  t = await createTenant(env);
}, 120_000);
afterAll(async () => env?.close());

async function call(method: string, path: string, o: { as?: Person; apiKey?: string; body?: unknown } = {}): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await env.request(method, `${BASE}${path}`, { token: o.as?.jwt, apiKey: o.apiKey, body: o.body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
}
const field = (body: Json) => body.error?.details?.[0]?.field;

const timeseries = (over: Json = {}): Json => ({
  kind: 'timeseries',
  title: 'Latency p95 by service',
  gridPos: { x: 0, y: 0, w: 12, h: 8 },
  queries: [{ metric: 'http.latency', aggregation: 'p95', groupBy: ['service'], filters: [{ key: 'env', op: '=', value: 'prod' }] }],
  unit: 'ms',
  ...over,
});
const panels = (): Json[] => [
  timeseries({ id: 'latency' }),
  { kind: 'stat', title: 'Errors', gridPos: { x: 12, y: 0, w: 6, h: 4 }, query: { metric: 'http.errors', aggregation: 'sum' }, reducer: 'sum', thresholds: [{ value: 10, color: 'red' }] },
  { kind: 'logs', title: 'Errors in checkout', gridPos: { x: 0, y: 8, w: 24, h: 10 }, query: { q: 'timeout OR refused', minLevel: 'warn', service: ['checkout'] } },
  { kind: 'traces', title: 'Slow traces', gridPos: { x: 18, y: 0, w: 6, h: 8 }, query: { service: 'checkout', minDurationMs: 500, status: 'error' }, limit: 10 },
];
const dashboard = (over: Json = {}): Json => ({
  projectId: t.projectA,
  title: 'Checkout',
  description: 'The checkout service at a glance',
  panels: panels(),
  variables: [{ name: 'service', metric: 'http.latency', tagKey: 'service', multi: true }],
  time: { from: 'now-24h', to: 'now', refreshSeconds: 30 },
  ...over,
});
async function create(as: Person, over: Json = {}): Promise<Json> {
  const res = await call('POST', '', { as, body: dashboard(over) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.dashboard;
}
const auditActions = async (id: string) =>
  (await env.db.query<{ action: string }>('select action from public.audit_log where target_id = $1 order by id', [id])).map((r) => r.action);
const replaceBody = (d: Json, over: Json = {}) => ({ version: d.version, visibility: d.visibility, title: d.title, description: d.description, panels: d.panels, variables: d.variables, time: d.time, ...over });

describe('dashboards: create, read, replace, delete', () => {
  it('a member creates a dashboard: 201 with the whole view, panel ids filled in, the row stored as theirs, audited', async () => {
    const res = await call('POST', '', { as: t.people.member, body: dashboard() });
    expect(res.status).toBe(201);
    const d = res.body.dashboard;
    expect(Object.keys(d).sort()).toEqual(
      ['id', 'projectId', 'title', 'description', 'visibility', 'panelCount', 'version', 'createdBy', 'canEdit', 'createdAt', 'updatedAt', 'panels', 'variables', 'time'].sort(),
    );
    expect(d).toMatchObject({ projectId: t.projectA, title: 'Checkout', visibility: 'organization', panelCount: 4, version: 1, createdBy: t.people.member.id, canEdit: true });
    // The given id is kept; the others get the first free p<n>; defaults are filled in.
    expect(d.panels.map((p: Json) => p.id)).toEqual(['latency', 'p1', 'p2', 'p3']);
    expect(d.panels[0]).toMatchObject({ stacked: false, queries: [{ metric: 'http.latency', groupBy: ['service'] }] });
    expect(d.panels[2]).toMatchObject({ kind: 'logs', limit: 100 });
    expect(d.variables).toEqual([{ name: 'service', metric: 'http.latency', tagKey: 'service', multi: true, default: [] }]);
    expect(d.time).toEqual({ from: 'now-24h', to: 'now', refreshSeconds: 30 });
    const [row] = await env.db.query<Json>('select organization_id, created_by, version, jsonb_array_length(panels) as n from public.dashboards where id = $1', [d.id]);
    expect(row).toMatchObject({ organization_id: t.orgId, created_by: t.people.member.id, version: 1, n: 4 });
    expect(await auditActions(d.id)).toEqual(['dashboard.created']);
    const [audit] = await env.db.query<Json>(`select actor_id, details from public.audit_log where target_id = $1`, [d.id]);
    expect(audit!.actor_id).toBe(t.people.member.id);
    // The count of panels, not the panels.
    expect(audit!.details).toMatchObject({ title: 'Checkout', visibility: 'organization', version: 1, panels: 4 });
  });

  it('a dashboard needs only a title: empty panels, the default time range', async () => {
    const res = await call('POST', '', { as: t.people.owner, body: { projectId: t.projectA, title: 'Empty' } });
    expect(res.status).toBe(201);
    expect(res.body.dashboard).toMatchObject({ panels: [], variables: [], time: { from: 'now-6h', to: 'now' }, description: '' });
  });

  it.each([
    // actor, project, status: writers of the project create; a viewer may not; others do not see it
    ['owner', 'projectA', 201],
    ['admin', 'projectB', 201],
    ['member', 'projectA', 201],
    ['member', 'projectB', 404],
    ['viewer', 'projectA', 403],
    ['unassigned', 'projectA', 404],
    ['outsider', 'projectA', 404],
  ] as const)('POST by %s in %s answers %i', async (actor: Actor, project, status) => {
    const res = await call('POST', '', { as: t.people[actor], body: dashboard({ projectId: t[project] }) });
    expect(res.status).toBe(status);
  });

  it('API keys do not write dashboards (a dashboard has a creator), even with the read scope they read them with', async () => {
    const res = await call('POST', '', { apiKey: t.keyA.secret, body: dashboard() });
    expect(res.status).toBe(403);
    expect((await call('GET', '', { apiKey: t.keyA.secret })).status).toBe(200);
  });

  it('readers list and get shared dashboards; a private one only its creator; others get the 404 of an unknown id', async () => {
    const shared = await create(t.people.member, { title: 'Shared one' });
    const mine = await create(t.people.member, { title: 'Private one', visibility: 'private' });
    for (const actor of ['owner', 'admin', 'viewer', 'member'] as const) {
      const list = await call('GET', `?projectId=${t.projectA}`, { as: t.people[actor] });
      expect(list.status).toBe(200);
      const ids = list.body.dashboards.map((d: Json) => d.id);
      expect(ids).toContain(shared.id);
      expect(ids.includes(mine.id), actor).toBe(actor === 'member');
      // Summaries: no panels in lists.
      expect(list.body.dashboards[0].panels).toBeUndefined();
      const got = await call('GET', `/${shared.id}`, { as: t.people[actor] });
      expect(got.status).toBe(200);
      expect(got.body.dashboard.panels).toEqual(shared.panels);
      expect(got.body.dashboard.canEdit).toBe(actor !== 'viewer');
    }
    const unknown = await call('GET', '/00000000-0000-4000-8000-000000000000', { as: t.people.owner });
    expect(unknown.status).toBe(404);
    for (const [who, id] of [
      ['owner', mine.id],
      ['admin', mine.id],
      ['viewer', mine.id],
      ['outsider', shared.id],
      ['unassigned', shared.id],
    ] as const) {
      const res = await call('GET', `/${id}`, { as: t.people[who] });
      expect(res.status, who).toBe(404);
      expect(res.body.error.message).toBe(unknown.body.error.message);
      expect((await call('GET', `/${id}/export`, { as: t.people[who] })).status, who).toBe(404);
    }
    // The project's read key sees the shared dashboards of its project, never a private one.
    const keyList = await call('GET', '', { apiKey: t.keyA.secret });
    expect(keyList.body.dashboards.map((d: Json) => d.id)).toContain(shared.id);
    expect(keyList.body.dashboards.map((d: Json) => d.id)).not.toContain(mine.id);
    expect((await call('GET', `/${shared.id}`, { apiKey: t.keyA.secret })).body.dashboard.canEdit).toBe(false);
    expect((await call('GET', `/${mine.id}`, { apiKey: t.keyA.secret })).status).toBe(404);
    expect((await call('GET', `?projectId=${t.other.projectId}`, { as: t.people.owner })).status).toBe(404);
  });

  it('a list without projectId from a user is a 400 naming it', async () => {
    const res = await call('GET', '', { as: t.people.owner });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe('query.projectId');
  });

  it('PUT replaces at the version read: version + 1, audited; a stale version is a 409 and writes nothing', async () => {
    const d = await create(t.people.member);
    const next = await call('PUT', `/${d.id}`, { as: t.people.member, body: replaceBody(d, { title: 'Checkout v2', panels: [timeseries({ id: 'only' })] }) });
    expect(next.status).toBe(200);
    expect(next.body.dashboard).toMatchObject({ title: 'Checkout v2', version: 2, panelCount: 1 });
    expect(Date.parse(next.body.dashboard.updatedAt)).toBeGreaterThanOrEqual(Date.parse(d.updatedAt));
    const stale = await call('PUT', `/${d.id}`, { as: t.people.member, body: replaceBody(d, { title: 'Lost update' }) });
    expect(stale.status).toBe(409);
    expect(field(stale.body)).toBe('body.version');
    expect(stale.body.error.message).toContain('version 2');
    const [row] = await env.db.query<Json>('select title, version from public.dashboards where id = $1', [d.id]);
    expect(row).toEqual({ title: 'Checkout v2', version: 2 });
    expect(await auditActions(d.id)).toEqual(['dashboard.created', 'dashboard.changed']);
  });

  it('two replaces of the same version at once: one wins, the other is a 409', async () => {
    const d = await create(t.people.owner);
    const results = await Promise.all(
      ['a', 'b'].map((s) => call('PUT', `/${d.id}`, { as: t.people.owner, body: replaceBody(d, { title: `Concurrent ${s}` }) })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const [row] = await env.db.query<Json>('select title, version from public.dashboards where id = $1', [d.id]);
    expect(row!.version).toBe(2);
    expect(row!.title).toBe(results.find((r) => r.status === 200)!.body.dashboard.title);
  });

  it.each([
    // actor, status on a member's shared dashboard of project A: its creator, owners and admins write
    ['member', 200],
    ['owner', 200],
    ['admin', 200],
    ['viewer', 403],
    ['unassigned', 404],
    ['outsider', 404],
  ] as const)("PUT of a member's shared dashboard by %s answers %i", async (actor: Actor, status) => {
    const d = await create(t.people.member);
    const res = await call('PUT', `/${d.id}`, { as: t.people[actor], body: replaceBody(d, { title: 'Edited' }) });
    expect(res.status).toBe(status);
    const [row] = await env.db.query<Json>('select title from public.dashboards where id = $1', [d.id]);
    expect(row!.title).toBe(status === 200 ? 'Edited' : 'Checkout');
  });

  it("a member who may change the project cannot change a colleague's dashboard; a creator who became a viewer no longer writes", async () => {
    const byAdmin = await create(t.people.admin);
    const res = await call('PUT', `/${byAdmin.id}`, { as: t.people.member, body: replaceBody(byAdmin, { title: 'Not yours' }) });
    expect(res.status).toBe(403);
    expect((await call('DELETE', `/${byAdmin.id}`, { as: t.people.member })).status).toBe(403);
    expect((await call('GET', `/${byAdmin.id}`, { as: t.people.member })).body.dashboard.canEdit).toBe(false);

    const demoted = await env.createUser();
    await env.db.query(`insert into public.organization_members (organization_id, user_id, role) values ($1, $2, 'member')`, [t.orgId, demoted.id]);
    await env.db.query('insert into public.project_members (project_id, organization_id, user_id) values ($1, $2, $3)', [t.projectA, t.orgId, demoted.id]);
    const own = await create(demoted);
    await env.db.query(`update public.organization_members set role = 'viewer' where organization_id = $1 and user_id = $2`, [t.orgId, demoted.id]);
    expect((await call('PUT', `/${own.id}`, { as: demoted, body: replaceBody(own, { title: 'Still mine?' }) })).status).toBe(403);
  });

  it('only the creator makes a dashboard private; an admin cannot hide a colleague\'s', async () => {
    const d = await create(t.people.member);
    const byAdmin = await call('PUT', `/${d.id}`, { as: t.people.admin, body: replaceBody(d, { visibility: 'private' }) });
    expect(byAdmin.status).toBe(403);
    const byCreator = await call('PUT', `/${d.id}`, { as: t.people.member, body: replaceBody(d, { visibility: 'private' }) });
    expect(byCreator.status).toBe(200);
    expect(byCreator.body.dashboard.visibility).toBe('private');
    // Now the admin does not see it at all.
    expect((await call('GET', `/${d.id}`, { as: t.people.admin })).status).toBe(404);
    // Shared again by its creator.
    const shared = await call('PUT', `/${d.id}`, { as: t.people.member, body: replaceBody(byCreator.body.dashboard, { visibility: 'organization' }) });
    expect(shared.status).toBe(200);
    expect((await call('GET', `/${d.id}`, { as: t.people.admin })).status).toBe(200);
  });

  it.each([
    ['viewer', 403],
    ['unassigned', 404],
    ['outsider', 404],
    ['admin', 204],
  ] as const)("DELETE of a member's dashboard by %s answers %i", async (actor: Actor, status) => {
    const d = await create(t.people.member);
    expect((await call('DELETE', `/${d.id}`, { as: t.people[actor] })).status).toBe(status);
    const rows = await env.db.query('select 1 from public.dashboards where id = $1', [d.id]);
    expect(rows.length).toBe(status === 204 ? 0 : 1);
    if (status === 204) expect(await auditActions(d.id)).toEqual(['dashboard.created', 'dashboard.deleted']);
  });

  it('its creator deletes it; a second delete is a 404', async () => {
    const d = await create(t.people.member);
    expect((await call('DELETE', `/${d.id}`, { as: t.people.member })).status).toBe(204);
    expect((await call('DELETE', `/${d.id}`, { as: t.people.member })).status).toBe(404);
  });
});

describe('dashboards: export and import', () => {
  it('export gives the portable document (no ids, tenancy or versions) as a download; import makes a new dashboard of it', async () => {
    const d = await create(t.people.member, { title: 'Checkout / prod' });
    const res = await call('GET', `/${d.id}/export`, { as: t.people.viewer });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="Checkout-prod.json"');
    const doc = res.body;
    expect(Object.keys(doc).sort()).toEqual(['description', 'format', 'formatVersion', 'panels', 'time', 'title', 'variables']);
    expect(doc).toMatchObject({ format: 'observai.dashboard', formatVersion: 1, title: 'Checkout / prod', panels: d.panels, variables: d.variables, time: d.time });
    expect(JSON.stringify(doc)).not.toContain(t.projectA);
    expect(JSON.stringify(doc)).not.toContain(t.orgId);

    // Into another project, by an admin: a new dashboard of theirs, version 1, the same content.
    const imported = await call('POST', '/import', { as: t.people.admin, body: { projectId: t.projectB, dashboard: doc } });
    expect(imported.status).toBe(201);
    const copy = imported.body.dashboard;
    expect(copy.id).not.toBe(d.id);
    expect(copy).toMatchObject({ projectId: t.projectB, title: 'Checkout / prod', version: 1, createdBy: t.people.admin.id, visibility: 'organization' });
    expect({ panels: copy.panels, variables: copy.variables, time: copy.time }).toEqual({ panels: d.panels, variables: d.variables, time: d.time });
    // Export of the copy is the same document: the round trip is lossless.
    expect((await call('GET', `/${copy.id}/export`, { as: t.people.admin })).body).toEqual(doc);
    expect(await auditActions(copy.id)).toEqual(['dashboard.created']);

    const renamed = await call('POST', '/import', { as: t.people.member, body: { projectId: t.projectA, title: 'My copy', visibility: 'private', dashboard: doc } });
    expect(renamed.status).toBe(201);
    expect(renamed.body.dashboard).toMatchObject({ title: 'My copy', visibility: 'private' });
  });

  it.each([
    ['another format version', { formatVersion: 2 }, 'body.dashboard.formatVersion'],
    ['another format', { format: 'grafana' }, 'body.dashboard.format'],
    ['ids of the source', { id: '00000000-0000-4000-8000-000000000000' }, 'body.dashboard'],
    ['a bad panel', { panels: [timeseries({ gridPos: { x: 20, y: 0, w: 6, h: 4 } })] }, 'body.dashboard.panels.0.gridPos.w'],
  ])('import of a document with %s is a 400 naming the field', async (_, over, where) => {
    const doc = { format: 'observai.dashboard', formatVersion: 1, title: 'X', panels: [], variables: [], time: { from: 'now-1h', to: 'now' }, ...over };
    const res = await call('POST', '/import', { as: t.people.owner, body: { projectId: t.projectA, dashboard: doc } });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe(where);
  });

  it('import is a write: a viewer gets 403, another tenant 404', async () => {
    const doc = { format: 'observai.dashboard', formatVersion: 1, title: 'X' };
    expect((await call('POST', '/import', { as: t.people.viewer, body: { projectId: t.projectA, dashboard: doc } })).status).toBe(403);
    expect((await call('POST', '/import', { as: t.people.outsider, body: { projectId: t.projectA, dashboard: doc } })).status).toBe(404);
  });
});

describe('dashboards: bad input is a 400 naming the field', () => {
  const big = 'x'.repeat(1000);
  it.each([
    ['no project', { projectId: undefined }, 'body.projectId'],
    ['no title', { title: '' }, 'body.title'],
    ['a blank title', { title: '   ' }, 'body.title'],
    ['a long description', { description: 'd'.repeat(2001) }, 'body.description'],
    ['an unknown visibility', { visibility: 'public' }, 'body.visibility'],
    ['51 panels', { panels: Array.from({ length: 51 }, (_, i) => timeseries({ id: `p${i}` })) }, 'body.panels'],
    ['an unknown panel kind', { panels: [{ kind: 'pie', title: 'P', gridPos: { x: 0, y: 0, w: 1, h: 1 } }] }, 'body.panels.0.kind'],
    ['a panel past the grid', { panels: [timeseries({ gridPos: { x: 20, y: 0, w: 6, h: 4 } })] }, 'body.panels.0.gridPos.w'],
    ['a panel without a position', { panels: [timeseries({ gridPos: undefined })] }, 'body.panels.0.gridPos'],
    ['a panel id used twice', { panels: [timeseries({ id: 'a' }), timeseries({ id: 'a' })] }, 'body.panels.1.id'],
    ['a timeseries without queries', { panels: [timeseries({ queries: [] })] }, 'body.panels.0.queries'],
    ['an unknown aggregation', { panels: [timeseries({ queries: [{ metric: 'm', aggregation: 'median' }] })] }, 'body.panels.0.queries.0.aggregation'],
    ['a bad tag filter', { panels: [timeseries({ queries: [{ metric: 'm', filters: [{ key: 'k', op: '~' }] }] })] }, 'body.panels.0.queries.0.filters.0.op'],
    ['a step under a minute', { panels: [timeseries({ queries: [{ metric: 'm', step: 10 }] })] }, 'body.panels.0.queries.0.step'],
    ['a time range on a panel query', { panels: [timeseries({ queries: [{ metric: 'm', from: '2026-01-01T00:00:00Z' }] })] }, 'body.panels.0.queries.0'],
    ['a stat with group by', { panels: [{ kind: 'stat', title: 'S', gridPos: { x: 0, y: 0, w: 4, h: 4 }, query: { metric: 'm', groupBy: ['host'] } }] }, 'body.panels.0.query'],
    ['a log search the search refuses', { panels: [{ kind: 'logs', title: 'L', gridPos: { x: 0, y: 0, w: 4, h: 4 }, query: { q: '*** ???' } }] }, 'body.panels.0.query.q'],
    ['an unknown log level', { panels: [{ kind: 'logs', title: 'L', gridPos: { x: 0, y: 0, w: 4, h: 4 }, query: { level: ['loud'] } }] }, 'body.panels.0.query.level.0'],
    ['a trace duration range upside down', { panels: [{ kind: 'traces', title: 'T', gridPos: { x: 0, y: 0, w: 4, h: 4 }, query: { minDurationMs: 10, maxDurationMs: 5 } }] }, 'body.panels.0.query.maxDurationMs'],
    ['a variable defined twice', { variables: [{ name: 'a', metric: 'm', tagKey: 'k' }, { name: 'a', metric: 'm', tagKey: 'j' }] }, 'body.variables.1.name'],
    ['a bad variable name', { variables: [{ name: '1a', metric: 'm', tagKey: 'k' }] }, 'body.variables.0.name'],
    ['a bad relative time', { time: { from: 'yesterday', to: 'now' } }, 'body.time.from'],
    ['a refresh too fast', { time: { from: 'now-1h', to: 'now', refreshSeconds: 1 } }, 'body.time.refreshSeconds'],
    ['an unknown field', { owner: 'me' }, 'body'],
    // 50 panels of ~6 KB each: under the count, past the bytes.
    ['panels past 256 KiB of JSON', { panels: Array.from({ length: 50 }, (_, i) => timeseries({ id: `p${i}`, description: big.repeat(2), queries: Array.from({ length: 4 }, () => ({ metric: big.slice(0, 200), filters: [{ key: 'k', op: '=', value: big }] })) })) }, 'body.panels'],
  ])('%s', async (_, over, where) => {
    const res = await call('POST', '', { as: t.people.owner, body: dashboard(over) });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(field(res.body)).toBe(where);
  });

  it('the byte bound names the size', async () => {
    const many = Array.from({ length: 50 }, (_, i) => timeseries({ id: `p${i}`, description: big.repeat(2), queries: Array.from({ length: 4 }, () => ({ metric: big.slice(0, 200), filters: [{ key: 'k', op: '=', value: big }] })) }));
    const res = await call('POST', '', { as: t.people.owner, body: dashboard({ panels: many }) });
    expect(res.body.error.message).toMatch(/^body\.panels: must be at most 262144 bytes of JSON \(these panels are \d+\)$/);
  });

  it('a PUT without its version is a 400; a bad id is a 400 naming the path', async () => {
    const d = await create(t.people.owner);
    const { version: _, ...body } = replaceBody(d);
    const res = await call('PUT', `/${d.id}`, { as: t.people.owner, body });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe('body.version');
    const bad = await call('GET', '/not-a-uuid', { as: t.people.owner });
    expect(bad.status).toBe(400);
    expect(field(bad.body)).toBe('path.id');
  });

  it('a project holds at most 500 dashboards, private ones of others included', async () => {
    const [project] = await env.db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'Full', 'proj-full') returning id`, [t.orgId]);
    await env.db.query(
      `insert into public.dashboards (project_id, organization_id, title, visibility, created_by) select $1, $2, 'd' || g, 'private', $3 from generate_series(1, 499) g`,
      [project!.id, t.orgId, t.people.admin.id],
    );
    expect((await call('POST', '', { as: t.people.owner, body: dashboard({ projectId: project!.id }) })).status).toBe(201);
    const res = await call('POST', '', { as: t.people.owner, body: dashboard({ projectId: project!.id }) });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('at most 500 dashboards');
  });
});
