/**
 * Escalation end to end (issue 20): an incident opened by the Events v2 endpoint is stepped by the
 * escalate-incidents job under a fake clock through its policy snapshot: level 1 pages a person by
 * their own notification rules (a Slack mention at once, again after 2 minutes, through the
 * service's Slack contact point: a real local receiver), level 2 a webhook contact point; an
 * acknowledgement stops every later level and rule, its timeout re-pages from level 1; the
 * resolution is told once to the contact points paged; a step
 * computed before an acknowledgement committed writes nothing and pages nobody; low urgency
 * notifies level 1 once; a person without rules is emailed at their account's address; the rules
 * API validates what it saves.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FakeClock } from '../../src/core/clock.ts';
import { asServiceRole } from '../../src/db/scoped.ts';
import { linkSecret } from '../../src/oncall/action-links.ts';
import { dispatchTick } from '../../src/alerts/dispatch-notifications.ts';
import { escalateDue } from '../../src/oncall/escalate-incidents.ts';
import { pagerDutySignature, signActionLink, slackSignature } from '../../src/oncall/signatures.ts';
import { tickIncident } from '../../src/oncall/incidents.ts';
import { claimDueIncidents, writeTicks } from '../../src/oncall/page-store.ts';
import { toCore } from '../../src/oncall/views.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { nextEventPolling, sseReader, until } from '../helpers/sse.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

const START = '2026-03-02T09:00:00.000Z';
const KEY = Buffer.alloc(32, 7).toString('base64');
const MIN = 60_000;
type Json = Record<string, any>;

let env: TestEnv & { clock: FakeClock };
let t: Tenant;
let slack: Receiver;
let hook: Receiver;
let mail: Receiver;
let twilio: Receiver;
let slackCp: string;
let emailCp: string;
let hookCp: string;

async function call(method: string, path: string, o: { as?: Person; body?: unknown; base?: string } = {}): Promise<{ status: number; body: Json }> {
  const res = await env.request(method, `/functions/v1/${o.base ?? 'oncall'}${path}`, { token: (o.as ?? t.people.owner).jwt, body: o.body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

async function service(name: string, policy: Json, extra: Json = {}): Promise<{ id: string; key: string }> {
  const p = await call('POST', '/escalation-policies', { body: { organizationId: t.orgId, name: `${name}-policy`, policy } });
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  const s = await call('POST', '/services', { body: { projectId: t.projectA, name, escalationPolicyId: p.body.escalationPolicy.id, ...extra } });
  expect(s.status, JSON.stringify(s.body)).toBe(201);
  const patched = await call('PATCH', `/services/${s.body.service.id}`, { body: { pageSlackVia: slackCp, pageEmailVia: emailCp } });
  expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  return { id: s.body.service.id, key: s.body.integrationKey };
}

async function trigger(routingKey: string, dedupKey: string, severity = 'critical'): Promise<string> {
  const res = await env.request('POST', '/functions/v1/oncall/v2/enqueue', {
    body: { routing_key: routingKey, event_action: 'trigger', dedup_key: dedupKey, payload: { summary: `Disk full on ${dedupKey}`, source: 'db-1', severity } },
  });
  expect(res.status).toBe(202);
  const [row] = await env.db.query<{ id: string }>('select id from public.incidents where dedup_key = $1 order by created_at desc limit 1', [dedupKey]);
  return row!.id;
}

const pass = () => escalateDue(env.deps);
const timeline = (id: string) => env.db.query<{ kind: string; details: Json }>('select kind, details from public.incident_timeline where incident_id = $1 order by at, id', [id]);
const slackTexts = () => slack.received.map((r) => (JSON.parse(r.body) as { text: string }).text);

beforeAll(async () => {
  [slack, hook, mail, twilio] = await Promise.all([
    startReceiver(),
    startReceiver(),
    startReceiver({ status: 200, body: '{"id":"m1"}' }),
    startReceiver({ status: 201, body: '{"sid":"SM0123"}' }),
  ]);
  env = (await createTestEnv({
    fakeTime: START,
    env: { OUTBOUND_ALLOW_PRIVATE: [slack, hook, mail, twilio].map((r) => `127.0.0.1:${r.port}`).join(','), SECRET_ENCRYPTION_KEY: KEY, PUBLIC_URL: 'https://oncall.example.test', DASHBOARD_URL: 'https://hub.example.test/' },
  })) as TestEnv & { clock: FakeClock };
  t = await createTenant(env);
  const cp = async (body: Json) => {
    const r = await call('POST', '/contact-points', { base: 'alerts', body: { projectId: t.projectA, ...body } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.contactPoint.id as string;
  };
  slackCp = await cp({ name: 'pages-slack', kind: 'slack', settings: {}, secret: `${slack.url}/services/T0/B0/x` });
  emailCp = await cp({ name: 'pages-mail', kind: 'email', settings: { transport: 'http', http: { url: `${mail.url}/emails` }, from: 'Pages <pages@example.com>', to: ['nobody@example.com'] }, secret: 're_key' });
  hookCp = await cp({ name: 'ops-hook', kind: 'webhook', settings: { url: `${hook.url}/hook` } });
}, 60_000);

afterAll(async () => {
  await env?.close();
  await Promise.all([slack?.close(), hook?.close(), mail?.close(), twilio?.close()]);
});

describe('notification rules API', () => {
  it('a person reads the default (email at once), saves rules, and bad ones are refused naming the field', async () => {
    const viewer = t.people.viewer;
    const initial = await call('GET', '/me/notification-rules', { as: viewer });
    expect(initial.status).toBe(200);
    expect(initial.body).toMatchObject({ default: true, rules: { methods: [{ kind: 'email', address: viewer.email }], high: [{ delayMinutes: 0 }] } });

    const badSlack = await call('PUT', '/me/notification-rules', { as: viewer, body: { methods: [{ id: 's', kind: 'slack', address: '@bob' }], high: [{ methodId: 's', delayMinutes: 0 }] } });
    expect(badSlack.status).toBe(400);
    expect(JSON.stringify(badSlack.body)).toContain('methods.0.address');
    const unknownMethod = await call('PUT', '/me/notification-rules', { as: viewer, body: { methods: [], high: [{ methodId: 'x', delayMinutes: 0 }] } });
    expect(unknownMethod.status).toBe(400);
    expect(JSON.stringify(unknownMethod.body)).toContain("no contact method 'x'");
    const badHook = await call('PUT', '/me/notification-rules', { as: viewer, body: { methods: [{ id: 'w', kind: 'webhook', address: 'https://me:pw@example.com/me' }], high: [{ methodId: 'w', delayMinutes: 0 }] } });
    expect(badHook.status).toBe(400);
    expect(badHook.body.error.message).toContain('methods.0.address');
    const quietPhone = await call('PUT', '/me/notification-rules', {
      as: viewer,
      body: { methods: [{ id: 'p', kind: 'voice', address: '+447700900123' }], high: [{ methodId: 'p', delayMinutes: 0 }], low: [{ methodId: 'p', delayMinutes: 0 }] },
    });
    expect(quietPhone.status).toBe(400);
    expect(JSON.stringify(quietPhone.body)).toContain('low urgency never pages');
    expect((await env.db.query('select 1 from public.oncall_notification_rules where user_id = $1', [viewer.id])).length).toBe(0);

    const ok = await call('PUT', '/me/notification-rules', { as: viewer, body: { methods: [{ id: 's', kind: 'slack', address: 'U0VIEWER' }], high: [{ methodId: 's', delayMinutes: 0 }] } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await call('GET', '/me/notification-rules', { as: viewer })).body).toMatchObject({ default: false, rules: { methods: [{ address: 'U0VIEWER' }] } });
    expect((await call('DELETE', '/me/notification-rules', { as: viewer })).status).toBe(204);
    expect((await call('GET', '/me/notification-rules', { as: viewer })).body.default).toBe(true);
  });

  it('a service carries pages only through contact points of its kind, in its project', async () => {
    const s = await call('POST', '/services', { body: { projectId: t.projectA, name: 'carriers' } });
    const wrongKind = await call('PATCH', `/services/${s.body.service.id}`, { body: { pageSlackVia: hookCp } });
    expect(wrongKind.status).toBe(400);
    expect(JSON.stringify(wrongKind.body)).toContain('body.pageSlackVia');
    expect((await call('PATCH', `/services/${s.body.service.id}`, { as: t.people.member, body: { name: 'x' } })).status).toBe(403);
  });
});

describe('escalation', () => {
  it('pages level 1 by the person\'s rules, level 2 after its delay; an ack stops the rest and its timeout re-pages', async () => {
    const put = await call('PUT', '/me/notification-rules', {
      as: t.people.admin,
      body: { methods: [{ id: 'slack', kind: 'slack', address: 'U0ADMIN' }], high: [{ methodId: 'slack', delayMinutes: 0 }, { methodId: 'slack', delayMinutes: 2 }] },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const s = await service('db', {
      levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.admin.id }] }, { delayMinutes: 5, targets: [{ type: 'contact_point', id: hookCp }] }],
      repeat: 0,
      ackTimeoutMinutes: 30,
    });
    const id = await trigger(s.key, 'disk-1');

    const first = await pass();
    expect(first).toMatchObject({ stepped: 1, pages: 1, notifications: 1, sent: 1 });
    expect(slackTexts()).toEqual([expect.stringContaining('<@U0ADMIN>')]);
    expect(slackTexts()[0]).toContain('Disk full on disk-1');
    expect(await pass()).toMatchObject({ stepped: 0, pages: 0, notifications: 0 });

    env.clock.advance(2 * MIN);
    expect(await pass()).toMatchObject({ stepped: 0, notifications: 1 });
    expect(slack.received).toHaveLength(2);
    expect(hook.received).toHaveLength(0);

    env.clock.advance(3 * MIN);
    expect(await pass()).toMatchObject({ stepped: 1, pages: 1, notifications: 1 });
    expect(hook.received).toHaveLength(1);
    expect(JSON.parse(hook.received[0]!.body).data.groupKey).toBe(`incident:${id}`);

    const ack = await call('POST', `/incidents/${id}/acknowledge`, { as: t.people.admin });
    expect(ack.status).toBe(200);
    env.clock.advance(29 * MIN);
    expect(await pass()).toMatchObject({ stepped: 0, notifications: 0 });
    env.clock.advance(MIN);
    // The ack timed out: a new cycle from level 1 (the person again, at once).
    expect(await pass()).toMatchObject({ stepped: 1, pages: 1, notifications: 1 });
    expect(slack.received).toHaveLength(3);
    const kinds = (await timeline(id)).map((e) => e.kind);
    expect(kinds).toEqual(['opened', 'alert_added', 'escalated', 'person_notified', 'person_notified', 'escalated', 'acknowledged', 'ack_timed_out', 'escalated', 'person_notified']);
    // Whom each level paged, by which channel, is in its `escalated` row.
    const levels = (await timeline(id)).filter((e) => e.kind === 'escalated').map((e) => e.details.notified);
    expect(levels[0]).toEqual([{ recipient: { type: 'user', id: t.people.admin.id }, channel: 'notification_rules', urgency: 'high' }]);
    expect(levels[1]).toEqual([{ recipient: { type: 'contact_point', id: hookCp }, channel: 'contact_point', urgency: 'high' }]);

    // Resolved: the contact point paged is told once (PagerDuty closes its incident by the same
    // dedup key); nothing more for anyone, whatever time passes.
    expect((await call('POST', `/incidents/${id}/resolve`, { as: t.people.admin })).status).toBe(200);
    expect(await pass()).toMatchObject({ stepped: 0, notifications: 1, sent: 1 });
    expect(hook.received).toHaveLength(2);
    const told = JSON.parse(hook.received[1]!.body).data;
    expect(told).toMatchObject({ status: 'resolved', groupKey: `incident:${id}` });
    env.clock.advance(10 * MIN);
    expect(await pass()).toMatchObject({ stepped: 0, notifications: 0 });
    expect(slack.received).toHaveLength(3);
    expect(hook.received).toHaveLength(2);
    const [open] = await env.db.query<{ n: number }>('select count(*)::int as n from public.incident_pages where next_rule_at is not null and incident_id = $1', [id]);
    expect(open!.n).toBe(0);
  });

  it('a step computed before an acknowledgement committed writes nothing and pages nobody', async () => {
    const s = await service('race', { levels: [{ delayMinutes: 0, targets: [{ type: 'contact_point', id: hookCp }] }], repeat: 0, ackTimeoutMinutes: null });
    const id = await trigger(s.key, 'race-1');
    const now = env.clock.now().getTime();
    // The job read the incident and computed its step...
    const [row] = await asServiceRole(env.db, (tx) => claimDueIncidents(tx, now, 10_000).then((rows) => rows.filter((r) => r.id === id)));
    const step = tickIncident(toCore(row!), now, (target) => [{ type: 'contact_point', id: target.id }]);
    expect(step.effects).toHaveLength(1);
    // ...then the acknowledgement committed first.
    expect((await call('POST', `/incidents/${id}/acknowledge`, { as: t.people.owner })).status).toBe(200);
    const written = await asServiceRole(env.db, (tx) => writeTicks(tx, [{ row: row!, step }], { notify: () => [] }));
    expect(written.written.size).toBe(0);
    expect(written.pages).toBe(0);
    expect((await env.db.query('select 1 from public.incident_pages where incident_id = $1', [id])).length).toBe(0);
    const before = hook.received.length;
    expect(await pass()).toMatchObject({ stepped: 0, notifications: 0 });
    expect(hook.received.length).toBe(before);
  });

  it('low urgency notifies level 1 once and never escalates; a person without rules is emailed at their address', async () => {
    const s = await service(
      'batch',
      { levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.member.id }] }, { delayMinutes: 1, targets: [{ type: 'contact_point', id: hookCp }] }], repeat: 2, ackTimeoutMinutes: null },
      { urgency: 'low' },
    );
    const id = await trigger(s.key, 'batch-1', 'warning');
    const hooks = hook.received.length;
    expect(await pass()).toMatchObject({ stepped: 1, pages: 1, notifications: 1 });
    expect(mail.received).toHaveLength(1);
    const email = JSON.parse(mail.received[0]!.body) as { to: string[]; subject: string };
    expect(email.to).toEqual([t.people.member.email]);
    expect(email.subject).toContain('Disk full on batch-1');
    env.clock.advance(10 * MIN);
    expect(await pass()).toMatchObject({ stepped: 0, notifications: 0 });
    expect(hook.received.length).toBe(hooks);
    const [inc] = await env.db.query<{ urgency: string; next_wake_at: Date | null }>('select urgency, next_wake_at from public.incidents where id = $1', [id]);
    expect(inc).toMatchObject({ urgency: 'low', next_wake_at: null });
  });

  it('a policy naming a target outside the organization is refused when saved; one that reaches nobody when paging is on the timeline', async () => {
    const outsider = await call('POST', '/escalation-policies', {
      body: { organizationId: t.orgId, name: 'outsider', policy: { levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.admin.id }, { type: 'user', id: t.people.outsider.id }] }], repeat: 0, ackTimeoutMinutes: null } },
    });
    expect(outsider.status).toBe(400);
    expect(outsider.body.error.message).toBe('body.policy.levels.0.targets.1.id: is not a member of the organization');
    const typo = await call('POST', '/escalation-policies', { body: { organizationId: t.orgId, name: 'typo', policy: { levels: [{ delayMinutes: 0, targets: [{ type: 'schedule', id: 'primary' }] }], repeat: 0, ackTimeoutMinutes: null } } });
    expect(typo.body.error.message).toBe("body.policy.levels.0.targets.0.id: is not one of the organization's on-call schedules");
    // A contact point of the organization's other project saves, and reaches nobody from this one.
    const other = await call('POST', '/contact-points', { base: 'alerts', body: { projectId: t.projectB, name: 'b-hook', kind: 'webhook', settings: { url: `${hook.url}/b` } } });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    const target = { type: 'contact_point', id: other.body.contactPoint.id };
    const s = await service('elsewhere', { levels: [{ delayMinutes: 0, targets: [target] }], repeat: 0, ackTimeoutMinutes: null });
    const id = await trigger(s.key, 'elsewhere-1');
    expect(await pass()).toMatchObject({ stepped: 1, pages: 0, notifications: 0 });
    const escalated = (await timeline(id)).find((e) => e.kind === 'escalated');
    expect(escalated!.details.unreachable).toEqual([target]);
    expect((await call('POST', `/incidents/${id}/reassign`, { body: { targets: [target] } })).body.error.message).toBe("body.targets.0.id: is not a contact point of the incident's project");
  });

  it('an alert group routed to an on-call contact point opens an incident that pages, and resolves it when its alerts resolve', async () => {
    const s = await service('alerts', { levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.admin.id }] }], repeat: 0, ackTimeoutMinutes: null });
    const bad = await call('POST', '/contact-points', { base: 'alerts', body: { projectId: t.projectA, name: 'oncall-x', kind: 'oncall', settings: { serviceId: t.orgId } } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('body.settings.serviceId');
    const cp = await call('POST', '/contact-points', { base: 'alerts', body: { projectId: t.projectA, name: 'oncall-db', kind: 'oncall', settings: { serviceId: s.id } } });
    expect(cp.status, JSON.stringify(cp.body)).toBe(201);
    const test = await call('POST', `/contact-points/${cp.body.contactPoint.id}/test`, { base: 'alerts' });
    expect(test.body.ok ?? test.body.result?.ok).toBe(false);
    const policy = await call('PUT', '/policy', {
      base: 'alerts',
      body: { projectId: t.projectA, policy: { route: { receiver: 'oncall-db', group_by: ['alertname'], group_wait: '0s', group_interval: '1m', repeat_interval: '4h' } } },
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(200);
    const post = async (endsInMinutes: number) => {
      const res = await env.request('POST', '/functions/v1/alerts/api/v2/alerts', {
        headers: { authorization: `Bearer ${t.keyA.secret}` },
        body: [{ labels: { alertname: 'DiskFull', host: 'db-1', severity: 'critical' }, annotations: { summary: 'Disk 97% full' }, endsAt: new Date(env.clock.now().getTime() + endsInMinutes * MIN).toISOString() }],
      });
      expect(res.status, await res.clone().text()).toBe(200);
    };

    await post(10);
    // The group is made on one dispatcher tick and flushed on the next (group_wait 0s).
    await dispatchTick(env.deps);
    env.clock.advance(5_000);
    await dispatchTick(env.deps);
    const before = slack.received.length;
    expect(await pass()).toMatchObject({ intake: 1, stepped: 1, pages: 1, notifications: 1, sent: 1 });
    const [incident] = await env.db.query<{ id: string; title: string; severity: string; state: string }>(
      'select id, title, severity, state from public.incidents where service_id = $1',
      [s.id],
    );
    expect(incident).toMatchObject({ title: 'DiskFull: Disk 97% full', severity: 'critical', state: 'triggered' });
    expect(slack.received.length).toBe(before + 1);
    expect(slackTexts().at(-1)).toContain('DiskFull');
    const [n] = await env.db.query<{ status: string }>("select status from public.alert_notifications where contact_point_id = $1", [cp.body.contactPoint.id]);
    expect(n!.status).toBe('sent');

    await post(-0.01);
    env.clock.advance(MIN);
    await dispatchTick(env.deps);
    env.clock.advance(5_000);
    await dispatchTick(env.deps);
    expect(await pass()).toMatchObject({ intake: 1, stepped: 0 });
    const [after] = await env.db.query<{ state: string; resolved_by: string | null }>('select state, resolved_by from public.incidents where id = $1', [incident!.id]);
    expect(after).toMatchObject({ state: 'resolved', resolved_by: null });
    const resolved = (await timeline(incident!.id)).find((e) => e.kind === 'resolved');
    expect(resolved!.details.automatically).toBe(true);
  });
  it('snooze, unacknowledge and reassign through the API drive the escalation; MTTA and MTTR per service', async () => {
    const s = await service('verbs', { levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.admin.id }] }], repeat: 0, ackTimeoutMinutes: null });
    const id = await trigger(s.key, 'verbs-1');
    expect(await pass()).toMatchObject({ stepped: 1, pages: 1 });
    env.clock.advance(3 * MIN);
    const snoozed = await call('POST', `/incidents/${id}/snooze`, { body: { minutes: 10 } });
    expect(snoozed.status, JSON.stringify(snoozed.body)).toBe(200);
    expect(snoozed.body.incident).toMatchObject({ state: 'acknowledged', snoozedUntil: new Date(env.clock.now().getTime() + 10 * MIN).toISOString() });
    expect((await call('POST', `/incidents/${id}/snooze`, { body: { minutes: 2000 } })).status).toBe(400);
    env.clock.advance(10 * MIN);
    // The snooze ended: triggered again, level 1 paged again in a new cycle.
    expect(await pass()).toMatchObject({ stepped: 1, pages: 1 });
    expect((await call('POST', `/incidents/${id}/acknowledge`)).status).toBe(200);
    const unacked = await call('POST', `/incidents/${id}/unacknowledge`);
    expect(unacked.body.incident.state).toBe('triggered');
    expect(await pass()).toMatchObject({ stepped: 1, pages: 1 });
    const badTargets = await call('POST', `/incidents/${id}/reassign`, { body: { targets: [] } });
    expect(badTargets.status).toBe(400);
    const reassigned = await call('POST', `/incidents/${id}/reassign`, { body: { targets: [{ type: 'user', id: t.people.member.id }] } });
    expect(reassigned.status, JSON.stringify(reassigned.body)).toBe(200);
    const mails = mail.received.length;
    expect(await pass()).toMatchObject({ stepped: 1, pages: 1, notifications: 1 });
    expect(mail.received.length).toBe(mails + 1);
    const kinds = (await timeline(id)).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['acknowledged', 'snoozed', 'snooze_ended', 'unacknowledged', 'reassigned']));

    env.clock.advance(7 * MIN - 5_000);
    expect((await call('POST', `/incidents/${id}/resolve`)).status).toBe(200);
    const stats = await call('GET', `/incidents/stats?projectId=${t.projectA}&serviceId=${s.id}&from=${new Date(Date.parse(START) - MIN).toISOString()}`);
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect(stats.body.services).toEqual([expect.objectContaining({ serviceId: s.id, name: 'verbs', opened: 1, acknowledged: 1, resolved: 1 })]);
    // Opened at the trigger, first acknowledged (by the snooze) 3 minutes later, resolved 20 minutes after opening.
    expect(stats.body.total).toMatchObject({ opened: 1, acknowledged: 1, resolved: 1, mttaSeconds: 180, mttrSeconds: 1195, mttrP50Seconds: 1195 });
    expect(stats.body.policies).toEqual([expect.objectContaining({ escalationPolicyId: expect.any(String), name: 'verbs-policy', opened: 1, acknowledged: 1, mttaSeconds: 180 })]);
    expect(stats.body.responders).toEqual([expect.objectContaining({ acknowledgedBy: t.people.owner.id, acknowledged: 1, mttaSeconds: 180 })]);
    const tooLong = await call('GET', `/incidents/stats?projectId=${t.projectA}&from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z`);
    expect(tooLong.status).toBe(400);
    expect(JSON.stringify(tooLong.body)).toContain('366 days');
  });

  it('a maintenance window holds new and running incidents (nobody paged) and releases them when it ends', async () => {
    const s = await service('maint', {
      levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.admin.id }] }, { delayMinutes: 5, targets: [{ type: 'contact_point', id: hookCp }] }],
      repeat: 0,
      ackTimeoutMinutes: null,
    });
    const running = await trigger(s.key, 'maint-1');
    expect(await pass()).toMatchObject({ stepped: 1, pages: 1 });
    const inMinutes = (m: number) => new Date(env.clock.now().getTime() + m * MIN).toISOString();
    expect((await call('POST', `/services/${s.id}/maintenance`, { body: { endsAt: inMinutes(-1) } })).status).toBe(400);
    expect((await call('POST', `/services/${s.id}/maintenance`, { as: t.people.member, body: { endsAt: inMinutes(30) } })).status).toBe(403);
    const w = await call('POST', `/services/${s.id}/maintenance`, { body: { endsAt: inMinutes(30), reason: 'database upgrade' } });
    expect(w.status, JSON.stringify(w.body)).toBe(201);
    expect(await pass()).toMatchObject({ maintenance: 1, stepped: 0 });
    const held = await trigger(s.key, 'maint-2');
    const [opened] = await env.db.query<{ held: boolean; next_wake_at: Date | null }>('select held, next_wake_at from public.incidents where id = $1', [held]);
    expect(opened).toEqual({ held: true, next_wake_at: null });
    const slackBefore = slack.received.length;
    const hooksBefore = hook.received.length;
    env.clock.advance(6 * MIN);
    expect(await pass()).toMatchObject({ stepped: 0, notifications: 0 });
    expect([slack.received.length, hook.received.length]).toEqual([slackBefore, hooksBefore]);
    expect((await call('GET', `/services/${s.id}/maintenance`, { as: t.people.viewer })).body.maintenanceWindows).toHaveLength(1);

    const ended = await call('DELETE', `/maintenance/${w.body.maintenanceWindow.id}`);
    expect(ended.status, JSON.stringify(ended.body)).toBe(200);
    expect(ended.body.maintenanceWindow.endsAt).toBe(env.clock.now().toISOString());
    // Both released: a new cycle from level 1 each, paged at once.
    expect(await pass()).toMatchObject({ maintenance: 2, stepped: 2, pages: 2 });
    expect(slack.received.length).toBe(slackBefore + 2);
    expect((await timeline(running)).map((e) => e.kind)).toEqual(expect.arrayContaining(['held', 'released']));
    expect((await timeline(held)).map((e) => e.kind).slice(0, 3)).toEqual(['opened', 'alert_added', 'held']);
    expect((await call('DELETE', `/maintenance/${w.body.maintenanceWindow.id}`)).status).toBe(409);
  });

  it('incident changes stream as Server-Sent Events to the project\'s readers', async () => {
    const s = await service('stream', { levels: [{ delayMinutes: 0, targets: [{ type: 'contact_point', id: hookCp }] }], repeat: 0, ackTimeoutMinutes: null });
    expect((await env.request('GET', `/functions/v1/oncall/incidents/stream?projectId=${t.projectA}`, { token: t.people.outsider.jwt })).status).toBe(404);
    const res = await env.request('GET', `/functions/v1/oncall/incidents/stream?projectId=${t.projectA}&serviceId=${s.id}`, { token: t.people.viewer.jwt });
    expect(res.status).toBe(200);
    const reader = sseReader(res);
    try {
      await reader.next('ready');
      const id = await trigger(s.key, 'stream-1');
      const first = JSON.parse((await nextEventPolling(reader, env.clock, 'incident', { ms: 1000, maxPolls: 3 })).event.data!);
      expect(first).toMatchObject({ incidentId: id, kind: 'opened', incident: { state: 'triggered', serviceId: s.id } });
      expect(JSON.parse((await reader.next('incident')).data!).kind).toBe('alert_added');
      expect((await call('POST', `/incidents/${id}/acknowledge`)).status).toBe(200);
      const acked = JSON.parse((await nextEventPolling(reader, env.clock, 'incident', { ms: 1000, maxPolls: 3 })).event.data!);
      expect(acked).toMatchObject({ kind: 'acknowledged', actor: t.people.owner.id, incident: { state: 'acknowledged' } });
    } finally {
      await reader.cancel();
      await until(() => env.clock.sleepers() === 0, 'the stream to stop');
    }
  });

  it('Slack interactive requests, signed as Slack signs them, acknowledge as the member who pressed and update the message', async () => {
    // The shape of Slack's signing secrets (32 hex characters; Slack's docs show 8f742231b10e8888abcd99yyyzzz85a5).
    const SIGNING = '8f742231b10e8888abcd99eeeeee85a5';
    expect((await call('PUT', '/slack-app', { body: { organizationId: t.orgId, signingSecret: 'not-a-secret' } })).status).toBe(400);
    expect((await call('PUT', '/slack-app', { as: t.people.member, body: { organizationId: t.orgId, signingSecret: SIGNING } })).status).toBe(403);
    const saved = await call('PUT', '/slack-app', { body: { organizationId: t.orgId, signingSecret: SIGNING } });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(JSON.stringify(saved.body)).not.toContain(SIGNING);
    const path = saved.body.slackApp.requestPath as string;

    const s = await service('slack-int', { levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.admin.id }] }], repeat: 0, ackTimeoutMinutes: null });
    const id = await trigger(s.key, 'slack-1');
    const before = slack.received.length;
    expect(await pass()).toMatchObject({ stepped: 1, sent: 1 });
    const message = JSON.parse(slack.received[before]!.body) as { text: string; blocks: Array<{ type: string; elements?: Array<{ url: string }> }> };
    const [ack, resolve] = message.blocks.find((b) => b.type === 'actions')!.elements!;

    // Built exactly as Slack builds it: form-encoded `payload`, v0 HMAC of v0:timestamp:body.
    const press = async (user: string, button: { url: string }, o: { skewSeconds?: number; secret?: string; app?: string } = {}) => {
      const body = `payload=${encodeURIComponent(JSON.stringify({
        type: 'block_actions',
        user: { id: user },
        response_url: `${slack.url}/actions/T0/1/xyz`,
        message: message,
        actions: [{ action_id: 'action-0', type: 'button', url: button.url }],
      }))}`;
      const ts = String(Math.floor(env.clock.now().getTime() / 1000) - (o.skewSeconds ?? 0));
      return env.request('POST', o.app ?? path, {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': await slackSignature(o.secret ?? SIGNING, ts, body) },
        body,
      });
    };
    expect((await press('U0ADMIN', ack!, { skewSeconds: 301 })).status).toBe(401);
    expect((await press('U0ADMIN', ack!, { secret: 'f'.repeat(32) })).status).toBe(401);
    expect((await press('U0ADMIN', ack!, { app: `/functions/v1/oncall/slack/actions/${crypto.randomUUID()}` })).status).toBe(401);
    const [untouched] = await env.db.query<{ state: string }>('select state from public.incidents where id = $1', [id]);
    expect(untouched!.state).toBe('triggered');

    const updates = slack.received.length;
    expect((await press('U0NOBODY', resolve!)).status).toBe(200);
    expect(JSON.parse(slack.received[updates]!.body).blocks.at(-1).elements[0].text).toContain('not linked');
    expect((await press('U0ADMIN', ack!)).status).toBe(200);
    const [row] = await env.db.query<{ state: string; acknowledged_by: string }>('select state, acknowledged_by from public.incidents where id = $1', [id]);
    expect(row).toMatchObject({ state: 'acknowledged', acknowledged_by: t.people.admin.id });
    const update = JSON.parse(slack.received[updates + 1]!.body) as { replace_original: boolean; blocks: Array<{ type: string; elements?: Array<{ text: string }> }> };
    expect(slack.received[updates + 1]!.path).toBe('/actions/T0/1/xyz');
    expect(update.replace_original).toBe(true);
    expect(update.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(update.blocks.at(-1)!.elements![0]!.text).toContain('Acknowledged by <@U0ADMIN>');
    expect((await call('DELETE', `/slack-app?organizationId=${t.orgId}`)).status).toBe(204);
    expect((await press('U0ADMIN', resolve!)).status).toBe(401);
  });

  it('PagerDuty webhooks v3 bring an acknowledgement and a resolution made in PagerDuty back, verified by their signature', async () => {
    const SECRET = 'pd-webhook-secret-0123456789abcdef';
    const created = await call('POST', '/pagerduty-webhooks', { body: { organizationId: t.orgId, secret: SECRET, description: 'PagerDuty account' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    const path = created.body.pagerdutyWebhook.path as string;
    const s = await service('pd-back', { levels: [{ delayMinutes: 0, targets: [{ type: 'contact_point', id: hookCp }] }], repeat: 0, ackTimeoutMinutes: null });
    const id = await trigger(s.key, 'pd-1');
    // As PagerDuty sends it: the v3 envelope, signed v1= HMAC-SHA256 of the raw body (one stale signature first, as during a rotation).
    const deliver = async (eventType: string, incidentKey: string, secret = SECRET) => {
      const body = JSON.stringify({
        event: {
          id: crypto.randomUUID(),
          event_type: eventType,
          resource_type: 'incident',
          occurred_at: env.clock.now().toISOString(),
          agent: { id: 'PLH1HKV', summary: 'Tenex Engineer', type: 'user_reference' },
          data: { id: 'PGR0VU2', type: 'incident', status: eventType.split('.')[1], incident_key: incidentKey, title: 'Disk full' },
        },
      });
      const signature = `v1=${'0'.repeat(64)}, ${await pagerDutySignature(secret, body)}`;
      return env.request('POST', path, { headers: { 'content-type': 'application/json', 'x-pagerduty-signature': signature }, body });
    };
    expect((await deliver('incident.acknowledged', `incident:${id}`, 'another-secret-0123456789')).status).toBe(401);
    const ack = await deliver('incident.acknowledged', `incident:${id}`);
    expect(ack.status).toBe(200);
    expect(await ack.json()).toEqual({ applied: true });
    expect((await deliver('incident.priority_updated', `incident:${id}`)).status).toBe(200);
    expect(await (await deliver('incident.resolved', 'some-other-key')).json()).toEqual({ applied: false });
    expect(await (await deliver('incident.resolved', `incident:${id}`)).json()).toEqual({ applied: true });
    const [row] = await env.db.query<{ state: string; acknowledged_by: string; resolved_by: string }>('select state, acknowledged_by, resolved_by from public.incidents where id = $1', [id]);
    expect(row).toMatchObject({ state: 'resolved', acknowledged_by: 'pagerduty:Tenex Engineer', resolved_by: 'pagerduty:Tenex Engineer' });
    expect((await call('GET', `/pagerduty-webhooks?organizationId=${t.orgId}`)).body.pagerdutyWebhooks).toHaveLength(1);
    expect((await call('DELETE', `/pagerduty-webhooks/${created.body.pagerdutyWebhook.id}`)).status).toBe(204);
    expect((await deliver('incident.acknowledged', `incident:${id}`)).status).toBe(401);
  });

  it('a schedule target pages whoever is on call now, by their own rules', async () => {
    const schedule = await call('POST', '/schedules', {
      body: {
        organizationId: t.orgId,
        name: 'Primary',
        schedule: { zone: 'UTC', layers: [{ id: 'daily', versions: [{ effectiveFrom: '2026-03-01T09:00:00Z', rotation: { type: 'daily' }, handoff: '09:00', members: [t.people.admin.id] }] }] },
      },
    });
    expect(schedule.status, JSON.stringify(schedule.body)).toBe(201);
    const s = await service('scheduled', { levels: [{ delayMinutes: 0, targets: [{ type: 'schedule', id: schedule.body.schedule.id }] }], repeat: 0, ackTimeoutMinutes: null });
    const id = await trigger(s.key, 'scheduled-1');
    const before = slack.received.length;
    expect(await pass()).toMatchObject({ stepped: 1, pages: 1, notifications: 1, sent: 1 });
    expect(slackTexts()[before]).toContain('<@U0ADMIN>');
    const escalated = (await timeline(id)).find((e) => e.kind === 'escalated')!;
    expect(escalated.details.notified).toEqual([{ recipient: { type: 'user', id: t.people.admin.id }, channel: 'notification_rules', urgency: 'high' }]);
  });

  it('merging an incident resolves it into another, and later events for its key follow it there', async () => {
    const s = await service('merging', { levels: [{ delayMinutes: 0, targets: [{ type: 'contact_point', id: hookCp }] }], repeat: 0, ackTimeoutMinutes: null });
    const a = await trigger(s.key, 'merge-a');
    const b = await trigger(s.key, 'merge-b');
    expect((await call('POST', `/incidents/${a}/merge`, { body: { into: a } })).status).toBe(400);
    expect((await call('POST', `/incidents/${a}/merge`, { as: t.people.viewer, body: { into: b } })).status).toBe(403);
    const merged = await call('POST', `/incidents/${a}/merge`, { body: { into: b } });
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    expect(merged.body.incident).toMatchObject({ id: a, state: 'resolved', mergedInto: b, resolvedBy: t.people.owner.id });
    expect(merged.body.into).toMatchObject({ id: b, state: 'triggered' });
    expect((await call('POST', `/incidents/${a}/merge`, { body: { into: b } })).status).toBe(409);
    await trigger(s.key, 'merge-a');
    expect((await env.db.query('select 1 from public.incidents where service_id = $1', [s.id])).length).toBe(2);
    const kinds = (await timeline(b)).map((e) => e.kind);
    expect(kinds).toEqual(['opened', 'alert_added', 'merged_from', 'alert_added']);
    expect((await timeline(a)).map((e) => e.kind).slice(-2)).toEqual(['merged_into', 'resolved']);
    // Only the incident merged into pages (the other was resolved before its first step).
    expect(await pass()).toMatchObject({ stepped: 1, pages: 1 });
    expect((await call('POST', `/incidents/${b}/resolve`)).status).toBe(200);
    expect(await pass()).toMatchObject({ stepped: 0, notifications: 1 });
  });

  it('people are texted and called through the service\'s SMS and voice contact points, as a Twilio-compatible API receives it', async () => {
    const phone = async (kind: 'sms' | 'voice') => {
      const r = await call('POST', '/contact-points', {
        base: 'alerts',
        body: { projectId: t.projectA, name: `pages-${kind}`, kind, settings: { accountSid: 'AC0123456789abcdef0123456789abcdef', from: '+15005550006', to: ['+15005550001'], apiBaseUrl: twilio.url }, secret: 'auth-token-123' },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.contactPoint.id as string;
    };
    const [sms, voice] = [await phone('sms'), await phone('voice')];
    const rules = await call('PUT', '/me/notification-rules', {
      as: t.people.unassigned,
      body: { methods: [{ id: 'text', kind: 'sms', address: '+15005550009' }, { id: 'call', kind: 'voice', address: '+15005550009' }], high: [{ methodId: 'text', delayMinutes: 0 }, { methodId: 'call', delayMinutes: 1 }] },
    });
    expect(rules.status, JSON.stringify(rules.body)).toBe(200);
    const s = await service('phones', { levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.unassigned.id }] }], repeat: 0, ackTimeoutMinutes: null });
    expect((await call('PATCH', `/services/${s.id}`, { body: { pageSmsVia: voice } })).status).toBe(400);
    expect((await call('PATCH', `/services/${s.id}`, { body: { pageSmsVia: sms, pageVoiceVia: voice } })).status).toBe(200);
    const id = await trigger(s.key, 'phones-1');
    expect(await pass()).toMatchObject({ stepped: 1, notifications: 1, sent: 1 });
    const texted = twilio.received[0]!;
    expect(texted.path).toBe('/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json');
    expect(texted.headers.authorization).toBe(`Basic ${Buffer.from('AC0123456789abcdef0123456789abcdef:auth-token-123').toString('base64')}`);
    const form = new URLSearchParams(texted.body);
    expect([form.get('To'), form.get('From')]).toEqual(['+15005550009', '+15005550006']);
    expect(form.get('Body')).toContain('Disk full on phones-1');
    env.clock.advance(MIN);
    expect(await pass()).toMatchObject({ notifications: 1, sent: 1 });
    const called = twilio.received[1]!;
    expect(called.path).toMatch(/\/Calls\.json$/);
    expect(new URLSearchParams(called.body).get('Twiml')).toMatch(/^<Response><Say>.*Disk full on phones-1.*<\/Say><\/Response>$/);
    expect((await call('POST', `/incidents/${id}/resolve`)).status).toBe(200);
  });

  it("a person's own webhook gets the page from the service's webhook carrier, signed with its secret (Standard Webhooks)", async () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const carrier = await call('POST', '/contact-points', { base: 'alerts', body: { projectId: t.projectA, name: 'pages-webhook', kind: 'webhook', settings: { url: `${hook.url}/carrier` }, secret } });
    expect(carrier.status, JSON.stringify(carrier.body)).toBe(201);
    const rules = await call('PUT', '/me/notification-rules', {
      as: t.people.unassigned,
      body: { methods: [{ id: 'mine', kind: 'webhook', address: `${hook.url}/people/unassigned` }], high: [{ methodId: 'mine', delayMinutes: 0 }] },
    });
    expect(rules.status, JSON.stringify(rules.body)).toBe(200);
    const s = await service('own-hook', { levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.unassigned.id }] }], repeat: 0, ackTimeoutMinutes: null });
    // Without a carrier the rule is reported, never skipped.
    const unreachable = await trigger(s.key, 'own-hook-0');
    expect(await pass()).toMatchObject({ stepped: 1, undeliverable: 1, notifications: 0 });
    expect((await timeline(unreachable)).find((e) => e.kind === 'notify_failed')?.details).toMatchObject({ method: 'webhook', reason: expect.stringContaining('page_webhook_via') });
    expect((await call('PATCH', `/services/${s.id}`, { body: { pageWebhookVia: slackCp } })).status).toBe(400);
    const patched = await call('PATCH', `/services/${s.id}`, { body: { pageWebhookVia: carrier.body.contactPoint.id } });
    expect(patched.status).toBe(200);
    expect(patched.body.service.pageWebhookVia).toBe(carrier.body.contactPoint.id);
    const before = hook.received.length;
    const id = await trigger(s.key, 'own-hook-1');
    expect(await pass()).toMatchObject({ stepped: 1, notifications: 1, sent: 1 });
    const got = hook.received.slice(before);
    expect(got.map((r) => r.path)).toEqual(['/people/unassigned']);
    // Verified as a receiver would, at the (fake) time it was sent.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(env.clock.now());
    try {
      const verified = new Webhook(secret).verify(got[0]!.body, got[0]!.headers as Record<string, string>) as { type: string; data: { groupKey: string; alerts: Array<{ labels: Record<string, string>; url: string | null }> } };
      expect(verified.type).toBe('alert.firing');
      expect(verified.data.groupKey).toBe(`incident:${id}`);
      // The link into the dashboard (DASHBOARD_URL): the incident's page (the dashboard test follows it in Chromium).
      expect(verified.data.alerts[0]!.url).toBe(`https://hub.example.test/incidents/?project=${t.projectA}&id=${id}`);
      expect(verified.data.alerts[0]!.labels.alertname).toContain('own-hook-1');
    } finally {
      vi.useRealTimers();
    }
    expect((await timeline(id)).find((e) => e.kind === 'person_notified')?.details).toMatchObject({ method: 'webhook', contactPointId: carrier.body.contactPoint.id });
    for (const incident of [unreachable, id]) expect((await call('POST', `/incidents/${incident}/resolve`)).status).toBe(200);
  });

  it('a page carries signed links: GET asks to confirm, POST acknowledges as the person; a link does one thing, for a while', async () => {
    const s = await service('links', { levels: [{ delayMinutes: 0, targets: [{ type: 'user', id: t.people.admin.id }] }], repeat: 0, ackTimeoutMinutes: null });
    const id = await trigger(s.key, 'links-1');
    const before = slack.received.length;
    expect(await pass()).toMatchObject({ stepped: 1, notifications: 1, sent: 1 });
    const message = JSON.parse(slack.received[before]!.body) as { blocks: Array<{ type: string; elements?: Array<{ text: { text: string }; url: string }> }> };
    const buttons = message.blocks.find((b) => b.type === 'actions')!.elements!;
    expect(buttons.map((b) => b.text.text).slice(0, 2)).toEqual(['Acknowledge', 'Resolve']);
    const ackPath = new URL(buttons[0]!.url).pathname;
    const resolvePath = new URL(buttons[1]!.url).pathname;
    expect(ackPath).toMatch(/^\/functions\/v1\/oncall\/actions\/ack\//);

    const mangled = await env.request('GET', ackPath.replace('/actions/ack/', '/actions/acknowledge/'));
    expect(mangled.status).toBe(404);
    expect(mangled.headers.get('content-type')).toContain('text/html');
    expect(await mangled.text()).toContain('This link does not work');
    const shown = await env.request('GET', ackPath);
    expect(shown.status).toBe(200);
    expect(shown.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await shown.text()).toContain('<form method="post">');
    const [still] = await env.db.query<{ state: string }>('select state from public.incidents where id = $1', [id]);
    expect(still!.state).toBe('triggered');

    // The ack link's token on the resolve path, and a tampered one: refused, nothing changes.
    const token = ackPath.split('/').pop()!;
    expect((await env.request('POST', `/functions/v1/oncall/actions/resolve/${token}`)).status).toBe(401);
    expect((await env.request('POST', `/functions/v1/oncall/actions/ack/${token.slice(0, -2)}xx`)).status).toBe(401);

    const acked = await env.request('POST', ackPath);
    expect(acked.status).toBe(200);
    expect(await acked.text()).toContain('acknowledged');
    const [row] = await env.db.query<{ state: string; acknowledged_by: string }>('select state, acknowledged_by from public.incidents where id = $1', [id]);
    expect(row).toMatchObject({ state: 'acknowledged', acknowledged_by: t.people.admin.id });

    // A link signed for someone outside the organization finds nothing; an expired one is refused.
    const secret = (await linkSecret(env.deps))!;
    const outsider = await signActionLink(secret, { incidentId: id, action: 'resolve', userId: t.people.outsider.id, expiresAt: env.clock.now().getTime() + 60_000 });
    expect((await env.request('POST', `/functions/v1/oncall/actions/resolve/${outsider}`)).status).toBe(404);
    env.clock.advance(25 * 60 * MIN);
    expect((await env.request('POST', resolvePath)).status).toBe(401);
    const [after] = await env.db.query<{ state: string }>('select state from public.incidents where id = $1', [id]);
    expect(after!.state).toBe('acknowledged');
  });

});
