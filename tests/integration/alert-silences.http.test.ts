/**
 * Silences through the alerts function (/alerts/silences), with Alertmanager's semantics: matchers
 * as strings, a time range, who and why; expiring instead of deleting. Happy paths, every 400 naming
 * its field, 404s that look the same for other tenants' ids and unknown ones, the 409 of expiring an
 * expired silence, and who may do what (members silence their assigned projects; viewers only read).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_LIMITS } from '../../src/alerts/schemas.ts';
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

const BASE = '/functions/v1/alerts/silences';
const HOUR = 3_600_000;
type Json = Record<string, any>;

let env: TestEnv;
let t: Tenant;
const iso = (ms: number) => new Date(ms).toISOString();
const field = (body: Json) => body.error?.details?.[0]?.field;

async function call(method: string, path: string, o: { as?: Person; apiKey?: string; body?: unknown } = {}): Promise<{ status: number; body: Json }> {
  const res = await env.request(method, `${BASE}${path}`, { token: o.as?.jwt, apiKey: o.apiKey, body: o.body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

const silenceBody = (over: Json = {}) => ({
  projectId: t.projectA,
  matchers: ['alertname="HighCPU"', 'env=~"prod|staging"'],
  endsAt: iso(Date.now() + HOUR),
  comment: 'database migration',
  ...over,
});

beforeAll(async () => {
  env = await createTestEnv();
  t = await createTenant(env);
}, 120_000);
afterAll(async () => env?.close());

describe('creating silences', () => {
  it('a member of the project silences matching alerts; who and why are kept, and audited', async () => {
    const before = Date.now();
    const res = await call('POST', '', { as: t.people.member, body: silenceBody() });
    expect(res.status).toBe(201);
    const s = res.body.silence;
    expect(s).toMatchObject({
      projectId: t.projectA,
      matchers: ['alertname="HighCPU"', 'env=~"prod|staging"'],
      comment: 'database migration',
      createdBy: t.people.member.id,
      state: 'active',
    });
    expect(Date.parse(s.startsAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(s.startsAt)).toBeLessThanOrEqual(Date.now());
    // Stored as parsed matchers, the form the dispatcher applies.
    const [row] = await env.db.query<{ matchers: unknown }>('select matchers from public.alert_silences where id = $1', [s.id]);
    expect(row!.matchers).toEqual([
      { name: 'alertname', op: '=', value: 'HighCPU' },
      { name: 'env', op: '=~', value: 'prod|staging' },
    ]);
    const audit = await env.db.query<{ action: string; actor_id: string; details: Json }>('select action, actor_id, details from public.audit_log where target_id = $1', [s.id]);
    expect(audit).toEqual([{ action: 'alert_silence.created', actor_id: t.people.member.id, details: expect.objectContaining({ comment: 'database migration' }) }]);
  });

  it('accepts several matchers in one string, braces, and {name, op, value} objects; answers them as strings', async () => {
    const res = await call('POST', '', {
      as: t.people.owner,
      body: silenceBody({ matchers: ['{service="api", instance!~"web-\\\\d+"}', { name: 'team', op: '!=', value: 'db "core"' }] }),
    });
    expect(res.status).toBe(201);
    expect(res.body.silence.matchers).toEqual(['service="api"', 'instance!~"web-\\\\d+"', 'team!="db \\"core\\""']);
  });

  it('a silence that starts later is pending; a start in the past becomes now', async () => {
    const later = await call('POST', '', { as: t.people.admin, body: silenceBody({ startsAt: iso(Date.now() + HOUR), endsAt: iso(Date.now() + 2 * HOUR) }) });
    expect(later.status).toBe(201);
    expect(later.body.silence.state).toBe('pending');
    const past = Date.now() - 10 * HOUR;
    const backdated = await call('POST', '', { as: t.people.admin, body: silenceBody({ startsAt: iso(past) }) });
    expect(backdated.status).toBe(201);
    expect(Date.parse(backdated.body.silence.startsAt)).toBeGreaterThan(past + 9 * HOUR);
    expect(backdated.body.silence.state).toBe('active');
  });

  it('an admin-scoped API key silences its own project without naming it', async () => {
    const key = await adminKey();
    const { projectId: _, ...body } = silenceBody();
    const res = await call('POST', '', { apiKey: key, body });
    expect(res.status).toBe(201);
    expect(res.body.silence).toMatchObject({ projectId: t.projectA, createdBy: null });
    const [audit] = await env.db.query<{ actor_type: string }>('select actor_type from public.audit_log where target_id = $1', [res.body.silence.id]);
    expect(audit!.actor_type).toBe('api_key');
  });

  it.each([
    // what is wrong, the field the 400 names
    [{ matchers: ['alertname="HighCPU'] }, 'body.matchers.0'],
    [{ matchers: ['alertname=~"(a+)+"'] }, 'body.matchers.0'],
    [{ matchers: ['1abc="x"'] }, 'body.matchers.0'],
    [{ matchers: 'alertname="x"' }, 'body.matchers'],
    // Each of these matches an alert without any labels, so together they would silence everything.
    [{ matchers: [] }, 'body.matchers'],
    [{ matchers: ['env=~".*"', 'team!="db"'] }, 'body.matchers'],
    [{ matchers: ['severity=""'] }, 'body.matchers'],
    [{ endsAt: iso(Date.now() - HOUR) }, 'body.endsAt'],
    [{ endsAt: 'tomorrow' }, 'body.endsAt'],
    [{ startsAt: iso(Date.now() + 2 * HOUR), endsAt: iso(Date.now() + HOUR) }, 'body.endsAt'],
    [{ comment: '' }, 'body.comment'],
    [{ comment: undefined }, 'body.comment'],
    [{ projectId: 'nope' }, 'body.projectId'],
    [{ extra: 1 }, 'body'],
  ])('a bad silence is a 400 naming the field: %j', async (over, name) => {
    const res = await call('POST', '', { as: t.people.owner, body: silenceBody(over) });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe(name);
  });

  it(`refuses the silence past the project's limit of ${ALERT_LIMITS.silencesPerProject} that have not ended`, async () => {
    // Project B: fill it to the limit directly (expired ones do not count).
    const insert = (n: number, ends: string) =>
      env.db.query(
        `insert into public.alert_silences (project_id, organization_id, matchers, starts_at, ends_at, comment)
         select $1, $2, '[{"name": "alertname", "op": "=", "value": "x"}]', now() - interval '2 hours', now() + $3::interval, 'fill' from generate_series(1, $4)`,
        [t.projectB, t.orgId, ends, n],
      );
    await insert(5, '-1 hour');
    await insert(ALERT_LIMITS.silencesPerProject - 1, '1 hour');
    expect((await call('POST', '', { as: t.people.owner, body: silenceBody({ projectId: t.projectB }) })).status).toBe(201);
    const over = await call('POST', '', { as: t.people.owner, body: silenceBody({ projectId: t.projectB }) });
    expect(over.status).toBe(400);
    expect(over.body.error.message).toMatch(/limit/);
  });
});

describe('listing and reading silences', () => {
  it('newest first, filtered by state; viewers read them', async () => {
    const a = (await call('POST', '', { as: t.people.owner, body: silenceBody({ comment: 'first' }) })).body.silence;
    const b = (await call('POST', '', { as: t.people.owner, body: silenceBody({ comment: 'second', startsAt: iso(Date.now() + HOUR), endsAt: iso(Date.now() + 2 * HOUR) }) })).body
      .silence;
    const all = await call('GET', `?projectId=${t.projectA}`, { as: t.people.viewer });
    expect(all.status).toBe(200);
    const ids = (all.body.silences as Json[]).map((s) => s.id);
    expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
    const times = (all.body.silences as Json[]).map((s) => Date.parse(s.createdAt));
    expect([...times].sort((x, y) => y - x)).toEqual(times);

    const pending = (await call('GET', `?projectId=${t.projectA}&state=pending`, { as: t.people.viewer })).body.silences as Json[];
    expect(pending.map((s) => s.id)).toContain(b.id);
    expect(pending.every((s) => s.state === 'pending')).toBe(true);
    const active = (await call('GET', `?projectId=${t.projectA}&state=active`, { as: t.people.member })).body.silences as Json[];
    expect(active.map((s) => s.id)).toContain(a.id);
    expect(active.map((s) => s.id)).not.toContain(b.id);

    expect((await call('GET', `/${a.id}`, { as: t.people.viewer })).body.silence).toMatchObject({ id: a.id, comment: 'first', state: 'active' });
    expect((await call('GET', `?projectId=${t.projectA}&limit=1`, { as: t.people.viewer })).body.silences).toHaveLength(1);
    expect((await call('GET', '', { apiKey: t.keyA.secret })).status).toBe(200);
  });

  it.each([
    ['?state=over', 'query.state'],
    ['?limit=0', 'query.limit'],
    ['?projectId=x', 'query.projectId'],
  ])('a bad query is a 400 naming it: %s', async (qs, name) => {
    const res = await call('GET', qs, { as: t.people.owner });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe(name);
  });

  it("other organizations see none: another tenant's id is a 404 like an unknown one", async () => {
    const s = (await call('POST', '', { as: t.people.owner, body: silenceBody() })).body.silence;
    const theirs = await call('GET', `/${s.id}`, { as: t.people.outsider });
    const unknown = await call('GET', `/${crypto.randomUUID()}`, { as: t.people.owner });
    expect(theirs.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(theirs.body.error.message).toBe(unknown.body.error.message);
    expect((await call('GET', '', { as: t.people.outsider })).body.silences).toEqual([]);
    expect((await call('GET', `?projectId=${t.projectA}`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('GET', `?projectId=${t.projectA}`, { as: t.people.unassigned })).status).toBe(404);
    expect((await call('GET', `/${s.id}`, { as: t.people.unassigned })).status).toBe(404);
  });
});

describe('expiring silences', () => {
  it('DELETE ends an active silence now; it stays listed as expired; a second DELETE is a 409', async () => {
    const s = (await call('POST', '', { as: t.people.member, body: silenceBody({ comment: 'to expire' }) })).body.silence;
    const before = Date.now();
    const res = await call('DELETE', `/${s.id}`, { as: t.people.member });
    expect(res.status).toBe(200);
    expect(res.body.silence).toMatchObject({ id: s.id, state: 'expired', startsAt: s.startsAt, comment: 'to expire' });
    expect(Date.parse(res.body.silence.endsAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(res.body.silence.endsAt)).toBeLessThanOrEqual(Date.now());
    const expired = (await call('GET', `?projectId=${t.projectA}&state=expired`, { as: t.people.viewer })).body.silences as Json[];
    expect(expired.map((x) => x.id)).toContain(s.id);
    const again = await call('DELETE', `/${s.id}`, { as: t.people.owner });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
    const actions = await env.db.query<{ action: string; actor_id: string }>('select action, actor_id from public.audit_log where target_id = $1 order by id', [s.id]);
    expect(actions).toEqual([
      { action: 'alert_silence.created', actor_id: t.people.member.id },
      { action: 'alert_silence.changed', actor_id: t.people.member.id },
    ]);
  });

  it('expiring a silence that has not begun moves its start back, so it never silences anything', async () => {
    const s = (await call('POST', '', { as: t.people.owner, body: silenceBody({ startsAt: iso(Date.now() + HOUR), endsAt: iso(Date.now() + 2 * HOUR) }) })).body.silence;
    const res = await call('DELETE', `/${s.id}`, { as: t.people.owner });
    expect(res.status).toBe(200);
    const v = res.body.silence;
    expect(v.state).toBe('expired');
    expect(Date.parse(v.startsAt)).toBeLessThan(Date.parse(v.endsAt));
    expect(Date.parse(v.endsAt)).toBeLessThanOrEqual(Date.now());
  });

  it('viewers may not; other tenants and unassigned members get the 404 of an unknown id', async () => {
    const s = (await call('POST', '', { as: t.people.owner, body: silenceBody() })).body.silence;
    expect((await call('DELETE', `/${s.id}`, { as: t.people.viewer })).status).toBe(403);
    expect((await call('DELETE', `/${s.id}`, { apiKey: t.keyA.secret })).status).toBe(403);
    const theirs = await call('DELETE', `/${s.id}`, { as: t.people.outsider });
    const unknown = await call('DELETE', `/${crypto.randomUUID()}`, { as: t.people.owner });
    expect(theirs.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(theirs.body.error.message).toBe(unknown.body.error.message);
    expect((await call('DELETE', `/${s.id}`, { as: t.people.unassigned })).status).toBe(404);
    expect((await call('DELETE', '/not-a-uuid', { as: t.people.owner })).status).toBe(400);
    // Still active: none of those changed it.
    expect((await call('GET', `/${s.id}`, { as: t.people.owner })).body.silence.state).toBe('active');
  });
});

describe('who may create silences', () => {
  it.each([
    // actor, status: owners, admins and the assigned member write; viewers read only; others do not see the project
    ['owner', 201],
    ['admin', 201],
    ['member', 201],
    ['viewer', 403],
    ['unassigned', 404],
    ['outsider', 404],
  ] as const)('POST in project A by %s answers %i', async (actor, status) => {
    expect((await call('POST', '', { as: t.people[actor], body: silenceBody() })).status).toBe(status);
  });

  it('a member not assigned to project B cannot silence it; a read-only key cannot silence at all', async () => {
    expect((await call('POST', '', { as: t.people.member, body: silenceBody({ projectId: t.projectB }) })).status).toBe(404);
    expect((await call('POST', '', { apiKey: t.keyA.secret, body: silenceBody() })).status).toBe(403);
    expect((await call('POST', '', { body: silenceBody() })).status).toBe(401);
  });
});

async function adminKey(): Promise<string> {
  const k = await generateApiKey();
  await env.db.query(`insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'admin', $3, $4, array['admin'])`, [
    t.orgId,
    t.projectA,
    k.prefix,
    k.hash,
  ]);
  return k.key;
}
