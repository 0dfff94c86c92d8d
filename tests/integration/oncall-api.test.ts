/**
 * The oncall function (/functions/v1/oncall) as its users and their monitoring tools drive it:
 * services with an Events v2 routing key shown once (only its sha256 stored), escalation policies
 * validated by the escalation core, the PagerDuty Events API v2-compatible endpoint exercised with
 * PagerDuty's documented example payloads (dedup semantics, answers), incidents acknowledged and
 * resolved through the API with their timeline rows, the role matrix of the incident routes, and
 * racing acknowledgements (one wins, never two timeline rows).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Person, type Tenant } from '../helpers/tenant.ts';
import { DOC_ACK, DOC_RESOLVE, DOC_TRIGGER } from '../fixtures/oncall/pagerduty-examples.ts';
import { withinOneMinute } from '../helpers/minute.ts';

const BASE = '/functions/v1/oncall';
type Json = Record<string, any>;

let env: TestEnv;
let t: Tenant;
/** Every response body: no routing key hash ever comes back. */
const bodies: string[] = [];

async function call(method: string, path: string, o: { as?: Person; body?: unknown; raw?: string } = {}): Promise<{ status: number; body: Json }> {
  const res = o.raw !== undefined
    ? await env.request(method, `${BASE}${path}`, { token: o.as?.jwt, headers: { 'content-type': 'application/json' }, body: o.raw })
    : await env.request(method, `${BASE}${path}`, { token: o.as?.jwt, body: o.body });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}
const enqueue = (body: unknown) => call('POST', '/v2/enqueue', { body });

const { dedup_key: _omitted, ...TRIGGER_NO_KEY } = DOC_TRIGGER;

/** Level 1 the member, level 2 a webhook contact point of project A (both made in beforeAll). */
let POLICY: { levels: Array<{ delayMinutes: number; targets: Array<{ type: string; id: string }> }>; repeat: number; ackTimeoutMinutes: number };

let policyId: string;
let serviceId: string;
let routingKey: string;

const incidentsOf = (sid: string) =>
  env.db.query<{ id: string; state: string; dedup_key: string; version: number; policy: Json | null; urgency: string }>(
    'select id, state, dedup_key, version, policy, urgency from public.incidents where service_id = $1 order by created_at, id',
    [sid],
  );
const timelineOf = (id: string) => env.db.query<{ kind: string; actor: string | null; details: Json }>('select kind, actor, details from public.incident_timeline where incident_id = $1 order by at, id', [id]);

beforeAll(async () => {
  env = await createTestEnv();
  t = await createTenant(env);
  const [cp] = await env.db.query<{ id: string }>(
    `insert into public.contact_points (project_id, organization_id, name, kind, settings) values ($1, $2, 'ops-hook', 'webhook', '{"url": "https://hooks.example.com/ops"}') returning id`,
    [t.projectA, t.orgId],
  );
  POLICY = { levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.member.id }] }, { delayMinutes: 5, targets: [{ type: 'contact_point', id: cp!.id }] }], repeat: 1, ackTimeoutMinutes: 30 };
}, 60_000);
afterAll(async () => {
  await env?.close();
});

describe('escalation policies and services', () => {
  it('owners create a policy validated by the escalation core; a bad one is a 400 naming the field, nothing saved', async () => {
    const bad = await call('POST', '/escalation-policies', {
      as: t.people.owner,
      body: { organizationId: t.orgId, name: 'Bad', policy: { levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: 'u1' }] }], repeat: 3 } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('repeat');
    const created = await call('POST', '/escalation-policies', { as: t.people.owner, body: { organizationId: t.orgId, name: 'Primary', policy: POLICY } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    policyId = created.body.escalationPolicy.id;
    expect(created.body.escalationPolicy.policy).toEqual(POLICY);
    const names = await env.db.query<{ name: string }>('select name from public.escalation_policies where organization_id = $1', [t.orgId]);
    expect(names.map((r) => r.name)).toEqual(['Primary']);
    // Members read; only owners and admins manage.
    expect((await call('GET', `/escalation-policies?organizationId=${t.orgId}`, { as: t.people.viewer })).body.escalationPolicies).toHaveLength(1);
    expect((await call('POST', '/escalation-policies', { as: t.people.member, body: { organizationId: t.orgId, name: 'M', policy: POLICY } })).status).toBe(403);
    expect((await call('GET', `/escalation-policies/${policyId}`, { as: t.people.outsider })).status).toBe(404);
    const renamed = await call('PUT', `/escalation-policies/${policyId}`, { as: t.people.admin, body: { name: 'Primary on-call' } });
    expect(renamed.body.escalationPolicy).toMatchObject({ name: 'Primary on-call', policy: POLICY });
  });

  it('owners create a service: the routing key is returned once, stored as its sha256 only, audited without it', async () => {
    const res = await call('POST', '/services', { as: t.people.owner, body: { projectId: t.projectA, name: 'api', escalationPolicyId: policyId } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    routingKey = res.body.integrationKey;
    serviceId = res.body.service.id;
    expect(routingKey).toMatch(/^[A-Za-z0-9]{32}$/);
    const [row] = await env.db.query<{ integration_key_hash: string }>('select integration_key_hash from public.oncall_services where id = $1', [serviceId]);
    expect(row!.integration_key_hash).toBe((await import('node:crypto')).createHash('sha256').update(routingKey).digest('hex'));
    const got = await call('GET', `/services/${serviceId}`, { as: t.people.viewer });
    expect(got.body.service).toMatchObject({ id: serviceId, name: 'api', escalationPolicyId: policyId, urgency: 'high', reopenWindowSeconds: 0 });
    expect(JSON.stringify(got.body)).not.toContain(routingKey);
    const audit = await env.db.query<{ action: string; details: Json }>('select action, details from public.audit_log where target_id = $1', [serviceId]);
    expect(audit.map((a) => a.action)).toEqual(['oncall_service.created']);
    expect(JSON.stringify(audit)).not.toContain(row!.integration_key_hash);
    // Who may: members and viewers 403; outsiders 404; a policy of another organization is a 400.
    expect((await call('POST', '/services', { as: t.people.member, body: { projectId: t.projectA, name: 'x' } })).status).toBe(403);
    expect((await call('POST', '/services', { as: t.people.outsider, body: { projectId: t.projectA, name: 'x' } })).status).toBe(404);
    expect((await call('GET', `/services/${serviceId}`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('GET', `/services?projectId=${t.projectA}`, { as: t.people.member })).body.services).toHaveLength(1);
    expect((await call('POST', '/services', { as: t.people.owner, body: { projectId: t.projectA, name: 'api' } })).status).toBe(409);
  });
});

describe('PagerDuty Events API v2 (POST /v2/enqueue)', () => {
  it('a trigger without dedup_key opens an incident with the policy snapshotted and returns the generated key', async () => {
    const res = await enqueue({ ...TRIGGER_NO_KEY, routing_key: routingKey });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const [inc] = await incidentsOf(serviceId);
    expect(inc).toMatchObject({ state: 'triggered', dedup_key: res.body.dedup_key, version: 1, policy: POLICY, urgency: 'high' });
    expect((await timelineOf(inc!.id)).map((e) => e.kind)).toEqual(['opened', 'alert_added']);
    // Editing the policy later never changes the running incident's snapshot.
    await call('PUT', `/escalation-policies/${policyId}`, { as: t.people.owner, body: { policy: { ...POLICY, repeat: 0 } } });
    expect((await incidentsOf(serviceId))[0]!.policy).toEqual(POLICY);
  });

  it('the documented examples: trigger with a key, a second trigger adds to it, acknowledge, resolve, then a trigger opens a new one', async () => {
    const key = 'dedupkeyhere';
    const first = await enqueue({ ...DOC_TRIGGER, routing_key: routingKey, dedup_key: key });
    expect(first).toEqual({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key: key } });
    const second = await enqueue({ ...DOC_TRIGGER, routing_key: routingKey, dedup_key: key });
    expect(second.body.dedup_key).toBe(key);
    let rows = (await incidentsOf(serviceId)).filter((r) => r.dedup_key === key);
    expect(rows).toHaveLength(1);
    const id = rows[0]!.id;
    expect((await timelineOf(id)).map((e) => e.kind)).toEqual(['opened', 'alert_added', 'alert_added']);

    expect(await enqueue({ ...DOC_ACK, routing_key: routingKey })).toEqual({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key: key } });
    expect((await incidentsOf(serviceId)).find((r) => r.id === id)).toMatchObject({ state: 'acknowledged', version: 2 });
    expect(await enqueue({ ...DOC_RESOLVE, routing_key: routingKey })).toMatchObject({ status: 202 });
    expect((await incidentsOf(serviceId)).find((r) => r.id === id)).toMatchObject({ state: 'resolved', version: 3 });
    const timeline = await timelineOf(id);
    expect(timeline.map((e) => e.kind)).toEqual(['opened', 'alert_added', 'alert_added', 'acknowledged', 'resolved']);
    expect(timeline[3]!.actor).toBe(`service:${serviceId}`);
    expect(timeline[4]!.details).toEqual({ automatically: false });

    // After resolve, a trigger with the same key opens a new incident (PagerDuty: never a reopen).
    await enqueue({ ...DOC_TRIGGER, routing_key: routingKey, dedup_key: key });
    rows = (await incidentsOf(serviceId)).filter((r) => r.dedup_key === key);
    expect(rows.map((r) => r.state)).toEqual(['resolved', 'triggered']);
    // The incident keeps the event's context.
    const got = await call('GET', `/incidents/${rows[1]!.id}`, { as: t.people.viewer });
    expect(got.body.incident).toMatchObject({ title: 'Example alert on host1.example.com', severity: 'info', details: { component: 'postgres', client: 'Sample Monitoring Service' } });
  });

  it('triggers racing with one new dedup key open one incident (the others add to it)', async () => {
    const answers = await Promise.all(Array.from({ length: 4 }, () => enqueue({ ...DOC_TRIGGER, routing_key: routingKey, dedup_key: 'race' })));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
    const rows = (await incidentsOf(serviceId)).filter((r) => r.dedup_key === 'race');
    expect(rows).toHaveLength(1);
    expect((await timelineOf(rows[0]!.id)).map((e) => e.kind)).toEqual(['opened', 'alert_added', 'alert_added', 'alert_added', 'alert_added']);
  });

  it('acknowledge or resolve of an unknown dedup_key is dropped with 202', async () => {
    const before = (await incidentsOf(serviceId)).length;
    expect(await enqueue({ ...DOC_ACK, routing_key: routingKey, dedup_key: 'never-seen' })).toEqual({
      status: 202,
      body: { status: 'success', message: 'Event processed', dedup_key: 'never-seen' },
    });
    expect((await enqueue({ ...DOC_RESOLVE, routing_key: routingKey, dedup_key: 'never-seen' })).status).toBe(202);
    expect(await incidentsOf(serviceId)).toHaveLength(before);
  });

  it('an unknown routing key is PagerDuty 400, naming nothing of any tenant; an invalid event is 400 naming its fields', async () => {
    const before = await env.db.query('select id from public.incidents');
    const unknown = await enqueue({ ...DOC_TRIGGER, routing_key: 'x'.repeat(32) });
    expect(unknown).toEqual({ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['Invalid routing key'] } });
    // The documented example's own key is not 32 characters: PagerDuty's answer, naming the field.
    const doc = await enqueue(DOC_TRIGGER);
    expect(doc.status).toBe(400);
    expect(doc.body.errors).toEqual(["'routing_key' must be the 32-character integration key"]);
    const bad = await enqueue({ routing_key: routingKey, event_action: 'trigger' });
    expect(bad.body).toEqual({ status: 'invalid event', message: 'Event object is invalid', errors: ["'payload' is required for trigger events"] });
    const notJson = await call('POST', '/v2/enqueue', { raw: '{"routing_key":' });
    // Over PagerDuty's 512 KB: refused before parsing.
    expect((await call('POST', '/v2/enqueue', { raw: JSON.stringify({ ...DOC_TRIGGER, routing_key: routingKey, pad: 'x'.repeat(513 * 1024) }) })).status).toBe(413);
    expect(notJson.body.errors).toEqual(['the body is not valid JSON']);
    expect(await env.db.query('select id from public.incidents')).toHaveLength(before.length);
  });

  it('past 120 events a minute for one routing key: 429 with Retry-After (PagerDuty\'s limit), nothing written; other keys go on', async () => {
    // A key of its own each run: the counter lives in Redis in the services mode.
    const flooded = `Fl${crypto.randomUUID().replaceAll('-', '')}`.slice(0, 32);
    // The limit is counted before the key is even looked up, so an unknown key's flood costs no query.
    // It is a fixed one-minute window: a flood that straddled a minute's end was counted in two.
    await withinOneMinute(15_000);
    const answers: number[] = [];
    for (let i = 0; i < 121; i++) answers.push((await enqueue({ ...DOC_TRIGGER, routing_key: flooded })).status);
    expect(answers.slice(0, 120).every((s) => s === 400)).toBe(true);
    const res = await env.request('POST', '/functions/v1/oncall/v2/enqueue', { body: { ...DOC_TRIGGER, routing_key: flooded } });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ status: 'throttle event' });
    expect((await enqueue({ ...DOC_ACK, routing_key: routingKey, dedup_key: 'still-served' })).status).toBe(202);
  });

  it('a service without a policy records incidents that page nobody; urgency by severity; a reopen within the window', async () => {
    const made = await call('POST', '/services', { as: t.people.admin, body: { projectId: t.projectA, name: 'batch', urgency: 'severity', reopenWindowSeconds: 600 } });
    expect(made.status).toBe(201);
    const sid = made.body.service.id;
    const key = made.body.integrationKey;
    await enqueue({ ...DOC_TRIGGER, routing_key: key, dedup_key: 'k1' });
    let [inc] = await incidentsOf(sid);
    expect(inc).toMatchObject({ state: 'triggered', policy: null, urgency: 'low' });
    const [wake] = await env.db.query<{ next_wake_at: Date | null }>('select next_wake_at from public.incidents where id = $1', [inc!.id]);
    expect(wake!.next_wake_at).toBeNull();
    await enqueue({ ...DOC_RESOLVE, routing_key: key, dedup_key: 'k1' });
    await enqueue({ ...DOC_TRIGGER, routing_key: key, dedup_key: 'k1', payload: { ...DOC_TRIGGER.payload, severity: 'critical' } });
    const rows = await incidentsOf(sid);
    expect(rows).toHaveLength(1);
    [inc] = rows;
    expect(inc).toMatchObject({ state: 'triggered', version: 3 });
    expect((await timelineOf(inc!.id)).map((e) => e.kind)).toEqual(['opened', 'alert_added', 'resolved', 'reopened', 'alert_added']);
    // Removing the service stops its key.
    expect((await call('DELETE', `/services/${sid}`, { as: t.people.member })).status).toBe(403);
    expect((await call('DELETE', `/services/${sid}`, { as: t.people.owner })).status).toBe(204);
    expect((await enqueue({ ...DOC_TRIGGER, routing_key: key })).status).toBe(400);
  });
});

describe('incidents through the API', () => {
  let id: string;
  beforeAll(async () => {
    const res = await enqueue({ ...DOC_TRIGGER, routing_key: routingKey, dedup_key: 'api-flow', payload: { ...DOC_TRIGGER.payload, severity: 'critical' } });
    id = (await incidentsOf(serviceId)).find((r) => r.dedup_key === res.body.dedup_key && r.state === 'triggered')!.id;
  });

  it('readers list and read; members of other projects and outsiders get 404', async () => {
    for (const who of [t.people.owner, t.people.admin, t.people.member, t.people.viewer]) {
      const list = await call('GET', `/incidents?projectId=${t.projectA}&state=open`, { as: who });
      expect(list.status).toBe(200);
      expect(list.body.incidents.map((i: Json) => i.id)).toContain(id);
    }
    expect((await call('GET', `/incidents/${id}`, { as: t.people.unassigned })).status).toBe(404);
    expect((await call('GET', `/incidents/${id}`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('GET', `/incidents?projectId=${t.projectA}`, { as: t.people.outsider })).status).toBe(404);
    const resolved = await call('GET', `/incidents?projectId=${t.projectA}&state=resolved`, { as: t.people.viewer });
    expect(resolved.body.incidents.every((i: Json) => i.state === 'resolved')).toBe(true);
  });

  it('a viewer cannot acknowledge (403), others cannot see it (404); nothing changes', async () => {
    expect((await call('POST', `/incidents/${id}/acknowledge`, { as: t.people.viewer })).status).toBe(403);
    expect((await call('POST', `/incidents/${id}/acknowledge`, { as: t.people.unassigned })).status).toBe(404);
    expect((await call('POST', `/incidents/${id}/resolve`, { as: t.people.outsider })).status).toBe(404);
    expect((await incidentsOf(serviceId)).find((r) => r.id === id)).toMatchObject({ state: 'triggered', version: 1 });
  });

  it('two acknowledges racing: one wins, the other changes nothing; never two timeline rows', async () => {
    const [a, b] = await Promise.all([
      call('POST', `/incidents/${id}/acknowledge`, { as: t.people.member }),
      call('POST', `/incidents/${id}/acknowledge`, { as: t.people.admin }),
    ]);
    for (const r of [a, b]) expect([200, 409]).toContain(r.status);
    expect([a, b].filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    const timeline = await timelineOf(id);
    expect(timeline.filter((e) => e.kind === 'acknowledged')).toHaveLength(1);
    const got = await call('GET', `/incidents/${id}`, { as: t.people.viewer });
    expect(got.body.incident).toMatchObject({ state: 'acknowledged', version: 2 });
    expect([t.people.member.id, t.people.admin.id]).toContain(got.body.incident.acknowledgedBy);
  });

  it('notes, resolve, then acting on the resolved incident is a 409 (a note is still recorded)', async () => {
    const note = await call('POST', `/incidents/${id}/notes`, { as: t.people.member, body: { text: 'rolling back the deploy' } });
    expect(note.status).toBe(201);
    expect((await call('POST', `/incidents/${id}/notes`, { as: t.people.member, body: { text: '' } })).status).toBe(400);
    const resolved = await call('POST', `/incidents/${id}/resolve`, { as: t.people.owner });
    expect(resolved.body.incident).toMatchObject({ state: 'resolved', resolvedBy: t.people.owner.id, version: 3 });
    // A second resolve changes nothing; an acknowledge is refused with the core's reason.
    expect((await call('POST', `/incidents/${id}/resolve`, { as: t.people.owner })).status).toBe(200);
    const ack = await call('POST', `/incidents/${id}/acknowledge`, { as: t.people.owner });
    expect(ack.status).toBe(409);
    expect(ack.body.error.message).toContain('resolved');
    expect((await call('POST', `/incidents/${id}/notes`, { as: t.people.owner, body: { text: 'postmortem filed' } })).status).toBe(201);
    const got = await call('GET', `/incidents/${id}`, { as: t.people.viewer });
    expect(got.body.timeline.map((e: Json) => [e.kind, e.actor])).toEqual([
      ['opened', null],
      ['alert_added', null],
      ['acknowledged', expect.any(String)],
      ['note', t.people.member.id],
      ['resolved', t.people.owner.id],
      ['note', t.people.owner.id],
    ]);
    expect(got.body.timeline[3].details).toEqual({ text: 'rolling back the deploy' });
  });

  it('users cannot change incidents or their timeline directly (Data API)', async () => {
    const as = async (sql: string, params: unknown[]) =>
      env.db
        .transaction(async (tx) => {
          await tx.query('set local role authenticated');
          await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role: 'authenticated', sub: t.people.owner.id })]);
          return (await tx.query(sql, params)).length;
        })
        .catch((e: { code?: string }) => e.code ?? 'error');
    expect(await as(`update public.incidents set state = 'triggered' where id = $1 returning id`, [id])).toBe('42501');
    expect(await as(`insert into public.incident_timeline (incident_id, organization_id, project_id, at, kind) values ($1, $2, $3, now(), 'note') returning id`, [id, t.orgId, t.projectA])).toBe('42501');
  });

  it('never returns a routing key hash', () => {
    const hashes = bodies.join('\n').match(/\b[0-9a-f]{64}\b/g) ?? [];
    expect(hashes).toEqual([]);
  });
});
