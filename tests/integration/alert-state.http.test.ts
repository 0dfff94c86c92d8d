/**
 * What alerting is doing, through the alerts function: current instances (with Alertmanager matcher
 * filters), history in signed keyset pages, notification groups, and the notification log with its
 * delivery attempts and the manual retry of a failed notification. The jobs write these tables, so
 * the fixtures are rows written as the service role; every project and organization here has its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

type Json = Record<string, any>;
const BASE = '/functions/v1/alerts';
const T0 = Date.parse('2026-03-10T12:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const fp = (n: number) => n.toString(16).padStart(32, '0');

let env: TestEnv;
let t: Tenant;
let ruleId: string;
let keys: { read: string; admin: string };

beforeAll(async () => {
  env = await createTestEnv();
  t = await createTenant(env);
  const [rule] = await env.db.query<{ id: string }>(
    `insert into public.alert_rules (project_id, organization_id, key, name, kind, query, condition)
     values ($1, $2, 'cpu', 'CPU high', 'metric', '{"metric": "cpu"}', '{"op": ">", "critical": 90}') returning id`,
    [t.projectA, t.orgId],
  );
  ruleId = rule!.id;
  const key = async (scopes: string[]) => {
    const k = await generateApiKey();
    await env.db.query(`insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'k', $3, $4, $5)`, [
      t.orgId,
      t.projectA,
      k.prefix,
      k.hash,
      scopes,
    ]);
    return k.key;
  };
  keys = { read: await key(['read']), admin: await key(['admin']) };
}, 120_000);
afterAll(async () => env?.close());

async function call(method: string, path: string, o: { as?: Person; apiKey?: string } = {}): Promise<{ status: number; body: Json }> {
  const res = await env.request(method, `${BASE}${path}`, { token: o.as?.jwt, apiKey: o.apiKey });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}
const field = (body: Json) => body.error?.details?.[0]?.field;
const qs = (q: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(q).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)])).toString();

interface InstanceFixture {
  project?: string;
  org?: string;
  n: number;
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'resolved';
  severity?: string;
  activeAt: number;
  rule?: string | null;
}
async function instance(f: InstanceFixture) {
  await env.db.query(
    `insert into public.alert_instances (project_id, organization_id, rule_id, source, fingerprint, labels, annotations, state, severity, value, threshold,
       reason, active_at, fired_at, resolved_at, last_eval_at, flapping, generator_url)
     values ($1, $2, $3, $4, $5, $6::text::jsonb, '{"summary": "hot"}', $7, $8, 93.5, 90, 'avg 93.5 > 90', to_timestamp($9 / 1000.0),
       case when $7 <> 'pending' then to_timestamp($9 / 1000.0) end, case when $7 = 'resolved' then to_timestamp($9 / 1000.0) + interval '1 minute' end,
       to_timestamp($9 / 1000.0), false, case when $3::uuid is null then 'http://prometheus.test/graph' end)`,
    [
      f.project ?? t.projectA,
      f.org ?? t.orgId,
      f.rule === undefined ? ruleId : f.rule,
      f.rule === null ? 'external' : 'rule',
      fp(f.n),
      JSON.stringify(f.labels),
      f.state,
      f.severity ?? 'critical',
      f.activeAt,
    ],
  );
}

describe('instances', () => {
  beforeAll(async () => {
    await instance({ n: 1, labels: { alertname: 'CPU high', service: 'api', severity: 'critical' }, state: 'firing', activeAt: T0 - 10 * MIN });
    await instance({ n: 2, labels: { alertname: 'CPU high', service: 'web', severity: 'warning' }, state: 'pending', severity: 'warning', activeAt: T0 - 5 * MIN });
    await instance({ n: 3, labels: { alertname: 'Disk full' }, state: 'resolved', activeAt: T0 - 60 * MIN, rule: null });
    await instance({ project: t.projectB, n: 4, labels: { alertname: 'Other project' }, state: 'firing', activeAt: T0 });
    await instance({ project: t.other.projectId, org: t.other.orgId, n: 5, labels: { alertname: 'Other tenant' }, state: 'firing', activeAt: T0 });
  });
  const names = (body: Json) => body.instances.map((i: Json) => i.labels.alertname + (i.labels.service ? `/${i.labels.service}` : ''));

  it('lists a project\'s instances newest first, with the full view', async () => {
    const res = await call('GET', `/instances?${qs({ projectId: t.projectA })}`, { as: t.people.viewer });
    expect(res.status).toBe(200);
    expect(names(res.body)).toEqual(['CPU high/web', 'CPU high/api', 'Disk full']);
    expect(res.body.instances[1]).toEqual({
      fingerprint: fp(1),
      projectId: t.projectA,
      ruleId,
      source: 'rule',
      labels: { alertname: 'CPU high', service: 'api', severity: 'critical' },
      annotations: { summary: 'hot' },
      state: 'firing',
      severity: 'critical',
      value: 93.5,
      threshold: 90,
      reason: 'avg 93.5 > 90',
      activeAt: iso(T0 - 10 * MIN),
      firedAt: iso(T0 - 10 * MIN),
      resolvedAt: null,
      lastEvalAt: iso(T0 - 10 * MIN),
      endsAt: null,
      flapping: false,
      generatorUrl: null,
    });
    expect(res.body.instances[2]).toMatchObject({ source: 'external', ruleId: null, generatorUrl: 'http://prometheus.test/graph', resolvedAt: iso(T0 - 59 * MIN) });
  });

  it.each([
    // query, what it selects
    [{ state: 'firing' }, ['CPU high/api']],
    [{ ruleId: 'RULE' }, ['CPU high/web', 'CPU high/api']],
    [{ filter: '{service="api"}' }, ['CPU high/api']],
    // A missing label is "": != matches alerts without it, as in Alertmanager.
    [{ filter: 'service!="api"' }, ['CPU high/web', 'Disk full']],
    [{ filter: '{alertname=~"CPU.*", severity!~"crit.*"}' }, ['CPU high/web']],
    [{ filter: '{service=""}' }, ['Disk full']],
    [{ filter: '{alertname="CPU high"}', limit: 1 }, ['CPU high/web']],
  ])('filters: %j', async (q, expected) => {
    const query = { projectId: t.projectA, ...q, ...('ruleId' in q ? { ruleId } : {}) };
    const res = await call('GET', `/instances?${qs(query)}`, { as: t.people.member });
    expect(res.status).toBe(200);
    expect(names(res.body)).toEqual(expected);
  });

  it.each([
    // query, the field the 400 names
    [{ filter: '{service=~"("}' }, 'query.filter'],
    [{ filter: '{service="api"' }, 'query.filter'],
    [{ filter: '{9x="a"}' }, 'query.filter'],
    [{ state: 'burning' }, 'query.state'],
    [{ ruleId: 'nope' }, 'query.ruleId'],
    [{ limit: 0 }, 'query.limit'],
    [{ colour: 'red' }, 'query'],
  ])('bad input is a 400 naming the field: %j', async (q, name) => {
    const res = await call('GET', `/instances?${qs({ projectId: t.projectA, ...q })}`, { as: t.people.owner });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe(name);
  });

  it('regex filters keep reading past the first batch until the page is full', async () => {
    const [p] = await env.db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'Many', 'proj-many') returning id`, [t.orgId]);
    // 1,200 newer instances that do not match, and the oldest one that does.
    await env.db.query(
      `insert into public.alert_instances (project_id, organization_id, source, fingerprint, labels, state, severity, active_at, last_eval_at)
       select $1, $2, 'external', lpad(to_hex(i), 32, '0'), jsonb_build_object('alertname', 'noise'), 'firing', 'info',
         to_timestamp($3 / 1000.0) - i * interval '1 second', now()
       from generate_series(1, 1200) i`,
      [p!.id, t.orgId, T0],
    );
    await instance({ project: p!.id, n: 99_999, labels: { alertname: 'needle' }, state: 'firing', activeAt: T0 - 86_400_000, rule: null });
    const res = await call('GET', `/instances?${qs({ projectId: p!.id, filter: '{alertname=~"need.*"}', limit: 1 })}`, { as: t.people.owner });
    expect(names(res.body)).toEqual(['needle']);
  });

  it('readers only: others get 404 for the project, and see nothing of it without naming one', async () => {
    for (const who of ['outsider', 'unassigned'] as const) {
      expect((await call('GET', `/instances?${qs({ projectId: t.projectA })}`, { as: t.people[who] })).status).toBe(404);
    }
    // The outsider's own organization: its instance, never project A's.
    expect(names((await call('GET', '/instances', { as: t.people.outsider })).body)).toEqual(['Other tenant']);
    // A read key: its own project when it names none; another is a 404.
    expect(names((await call('GET', '/instances', { apiKey: keys.read })).body)).toEqual(['CPU high/web', 'CPU high/api', 'Disk full']);
    expect((await call('GET', `/instances?${qs({ projectId: t.projectB })}`, { apiKey: keys.read })).status).toBe(404);
  });
});

describe('history', () => {
  let project: string;
  /** Transition ids, newest first, as the API must order them: (at desc, id desc). */
  let expected: string[];
  beforeAll(async () => {
    const [p] = await env.db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'History', 'proj-history') returning id`, [t.orgId]);
    project = p!.id;
    const rows: Array<[number, string, string, number]> = [
      // minutes after T0, from, to, fingerprint
      [0, 'inactive', 'pending', 1],
      [5, 'pending', 'firing', 1],
      [5, 'inactive', 'firing', 2], // same time as the row before: the id breaks the tie
      [5, 'inactive', 'firing', 3],
      [9, 'firing', 'resolved', 2],
      [12, 'firing', 'resolved', 1],
      [20, 'resolved', 'firing', 1],
    ];
    for (const [m, from, to, f] of rows) {
      await env.db.query(
        `insert into public.alert_transitions (project_id, organization_id, rule_id, fingerprint, labels, from_state, to_state, severity, value, threshold, reason, at)
         values ($1, $2, $3, $4, '{"alertname": "CPU high"}', $5, $6, 'critical', 95, 90, 'avg 95 > 90', to_timestamp($7 / 1000.0))`,
        [project, t.orgId, f === 3 ? null : ruleId, fp(f), from, to, T0 + m * MIN],
      );
    }
    // Microseconds apart inside one millisecond: keyset pages must not lose or repeat either.
    await env.db.query(
      `insert into public.alert_transitions (project_id, organization_id, fingerprint, labels, from_state, to_state, severity, at)
       values ($1, $2, $3, '{}', 'inactive', 'pending', 'info', to_timestamp($4 / 1000.0) + interval '1 microsecond'),
              ($1, $2, $3, '{}', 'pending', 'firing', 'info', to_timestamp($4 / 1000.0) + interval '2 microseconds')`,
      [project, t.orgId, fp(4), T0 + 15 * MIN],
    );
    expected = (await env.db.query<{ id: string }>('select id::text as id from public.alert_transitions where project_id = $1 order by at desc, id desc', [project])).map((r) => r.id);
    expect(expected).toHaveLength(9);
  });

  it('pages newest first with signed cursors: every transition once, in order', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await call('GET', `/history?${qs({ projectId: project, limit: 2, cursor })}`, { as: t.people.viewer });
      expect(res.status).toBe(200);
      seen.push(...res.body.transitions.map((x: Json) => x.id));
      cursor = res.body.nextCursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 20);
    expect(seen).toEqual(expected);
    expect(pages).toBe(5);
    const [first] = (await call('GET', `/history?${qs({ projectId: project, limit: 1 })}`, { as: t.people.viewer })).body.transitions;
    expect(first).toEqual({
      id: expected[0],
      projectId: project,
      ruleId,
      fingerprint: fp(1),
      labels: { alertname: 'CPU high' },
      fromState: 'resolved',
      toState: 'firing',
      severity: 'critical',
      value: 95,
      threshold: 90,
      reason: 'avg 95 > 90',
      at: iso(T0 + 20 * MIN),
    });
  });

  it.each([
    // filter, fingerprints and states it selects (newest first)
    [{ fingerprint: fp(1) }, ['1:firing', '1:resolved', '1:firing', '1:pending']],
    [{ to_state: 'resolved' }, ['1:resolved', '2:resolved']],
    [{ ruleId: 'RULE', from: iso(T0 + 5 * MIN), to: iso(T0 + 12 * MIN) }, ['2:resolved', '2:firing', '1:firing']],
  ])('filters: %j', async (q, want) => {
    const query = { projectId: project, ...q, ...('ruleId' in q ? { ruleId } : {}) };
    const res = await call('GET', `/history?${qs(query)}`, { as: t.people.viewer });
    expect(res.status).toBe(200);
    expect(res.body.transitions.map((x: Json) => `${Number.parseInt(x.fingerprint, 16)}:${x.toState}`)).toEqual(want);
  });

  it('a tampered, foreign or re-filtered cursor is a 400 naming query.cursor', async () => {
    const { nextCursor } = (await call('GET', `/history?${qs({ projectId: project, limit: 2 })}`, { as: t.people.owner })).body;
    expect(nextCursor).toEqual(expect.any(String));
    const [body, tag] = (nextCursor as string).split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), us: '0' })).toString('base64url');
    const notifications = (await call('GET', `/notifications?${qs({ projectId: project, limit: 1 })}`, { as: t.people.owner })).body;
    for (const q of [
      { cursor: `${forged}.${tag}` },
      { cursor: `${nextCursor}x` },
      { cursor: 'garbage' },
      // The same cursor with other filters.
      { cursor: nextCursor, to_state: 'firing' },
    ]) {
      const res = await call('GET', `/history?${qs({ projectId: project, limit: 2, ...q })}`, { as: t.people.owner });
      expect(res.status, JSON.stringify(q)).toBe(400);
      expect(field(res.body)).toBe('query.cursor');
    }
    // No notification here, so no notification cursor: an empty listing says so.
    expect(notifications).toEqual({ notifications: [], nextCursor: null });
  });

  it.each([
    [{ from: iso(T0), to: iso(T0) }, 'query.to'],
    [{ from: 'yesterday' }, 'query.from'],
    [{ fingerprint: 'XYZ' }, 'query.fingerprint'],
    [{ to_state: 'sleeping' }, 'query.to_state'],
    [{ limit: 501 }, 'query.limit'],
  ])('bad input is a 400 naming the field: %j', async (q, name) => {
    const res = await call('GET', `/history?${qs({ projectId: project, ...q })}`, { as: t.people.owner });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe(name);
  });

  it('others get 404 for the project', async () => {
    expect((await call('GET', `/history?${qs({ projectId: project })}`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('GET', `/history?${qs({ projectId: project })}`, { as: t.people.unassigned })).status).toBe(404);
  });
});

describe('groups', () => {
  it('lists the dispatcher\'s groups of a project; others see none of them', async () => {
    await env.db.query(
      `insert into public.alert_groups (project_id, organization_id, group_key, route_id, receiver, group_labels, first_seen_at, next_flush_at, last_notified_at, notified_firing, seq)
       values ($1, $2, 'root/0:{alertname="CPU high"}', 'root/0', 'oncall', '{"alertname": "CPU high"}', to_timestamp($3 / 1000.0), to_timestamp($3 / 1000.0) + interval '5 minutes',
         to_timestamp($3 / 1000.0) + interval '30 seconds', array[$4], 2),
              ($5, $6, 'root', 'root', 'theirs', '{}', now(), now(), null, '{}', 0)`,
      [t.projectA, t.orgId, T0, fp(1), t.other.projectId, t.other.orgId],
    );
    const res = await call('GET', `/groups?${qs({ projectId: t.projectA })}`, { as: t.people.viewer });
    expect(res.status).toBe(200);
    expect(res.body.groups).toEqual([
      {
        groupKey: 'root/0:{alertname="CPU high"}',
        projectId: t.projectA,
        routeId: 'root/0',
        receiver: 'oncall',
        groupLabels: { alertname: 'CPU high' },
        firstSeenAt: iso(T0),
        nextFlushAt: iso(T0 + 5 * MIN),
        lastNotifiedAt: iso(T0 + 30_000),
        notifiedFiring: [fp(1)],
        seq: 2,
      },
    ]);
    expect((await call('GET', '/groups', { apiKey: keys.read })).body.groups).toHaveLength(1);
    expect((await call('GET', `/groups?${qs({ projectId: t.projectA })}`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('GET', '/groups', { as: t.people.outsider })).body.groups.map((g: Json) => g.receiver)).toEqual(['theirs']);
  });
});

describe('notification log', () => {
  let project: string;
  let contactPoint: string;
  const ids: Record<string, string> = {};

  async function notification(name: string, status: string, createdMs: number, attempts: number) {
    const [n] = await env.db.query<{ id: string }>(
      `insert into public.alert_notifications (project_id, organization_id, contact_point_id, group_key, seq, receiver, payload, status, firing_count,
         resolved_count, attempts, next_attempt_at, lease_until, last_status, last_error, sent_at, created_at)
       values ($1, $2, $3, $4, 1, 'oncall', $5::text::jsonb, $6, 2, 1, $7, to_timestamp($8 / 1000.0) + interval '1 hour', now() + interval '1 minute',
         case when $6 = 'sent' then 200 else 503 end, case when $6 = 'failed' then 'HTTP 503 from the receiver' end,
         case when $6 = 'sent' then to_timestamp($8 / 1000.0) end, to_timestamp($8 / 1000.0)) returning id`,
      [project, t.orgId, contactPoint, `group-${name}`, JSON.stringify({ id: name, status: 'firing', alerts: [] }), status, attempts, createdMs],
    );
    ids[name] = n!.id;
    for (let a = 1; a <= attempts; a++) {
      await env.db.query(
        `insert into public.alert_notification_attempts (notification_id, project_id, organization_id, attempt, started_at, duration_ms, ok, status_code, error)
         values ($1, $2, $3, $4::int, to_timestamp($5 / 1000.0) + $4::int * interval '1 second', 40 + $4::int, $6, $7, $8)`,
        [n!.id, project, t.orgId, a, createdMs, status === 'sent' && a === attempts, status === 'sent' && a === attempts ? 200 : 503, status === 'sent' && a === attempts ? null : 'HTTP 503'],
      );
    }
  }

  beforeAll(async () => {
    const [p] = await env.db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'Log', 'proj-log') returning id`, [t.orgId]);
    project = p!.id;
    await env.db.query('insert into public.project_members (project_id, organization_id, user_id) values ($1, $2, $3)', [project, t.orgId, t.people.member.id]);
    const [cp] = await env.db.query<{ id: string }>(
      `insert into public.contact_points (project_id, organization_id, name, kind, settings) values ($1, $2, 'oncall', 'webhook', '{"url": "http://127.0.0.1:9"}') returning id`,
      [project, t.orgId],
    );
    contactPoint = cp!.id;
    await notification('sent', 'sent', T0, 2);
    await notification('failed', 'failed', T0 + MIN, 8);
    await notification('pending', 'pending', T0 + 2 * MIN, 0);
    await notification('failed2', 'failed', T0 + 3 * MIN, 8);
    await notification('failed3', 'failed', T0 + 4 * MIN, 8);
  });

  it('lists newest first in keyset pages, with the view (never the lease)', async () => {
    const first = await call('GET', `/notifications?${qs({ projectId: project, limit: 3 })}`, { as: t.people.viewer });
    expect(first.status).toBe(200);
    expect(first.body.notifications.map((n: Json) => n.id)).toEqual([ids.failed3, ids.failed2, ids.pending]);
    const second = await call('GET', `/notifications?${qs({ projectId: project, limit: 3, cursor: first.body.nextCursor })}`, { as: t.people.viewer });
    expect(second.body).toEqual({ notifications: [expect.objectContaining({ id: ids.failed }), expect.objectContaining({ id: ids.sent })], nextCursor: null });
    expect(second.body.notifications[1]).toEqual({
      id: ids.sent,
      projectId: project,
      contactPointId: contactPoint,
      receiver: 'oncall',
      groupKey: 'group-sent',
      seq: 1,
      status: 'sent',
      firingCount: 2,
      resolvedCount: 1,
      attempts: 2,
      nextAttemptAt: iso(T0 + 60 * MIN),
      lastStatus: 200,
      lastError: null,
      sentAt: iso(T0),
      createdAt: iso(T0),
    });
    const failed = await call('GET', `/notifications?${qs({ projectId: project, status: 'failed', contactPointId: contactPoint })}`, { as: t.people.viewer });
    expect(failed.body.notifications.map((n: Json) => n.id)).toEqual([ids.failed3, ids.failed2, ids.failed]);
    // A cursor of one listing does not open another (other filters).
    const bad = await call('GET', `/notifications?${qs({ projectId: project, status: 'sent', cursor: first.body.nextCursor })}`, { as: t.people.viewer });
    expect(bad.status).toBe(400);
    expect(field(bad.body)).toBe('query.cursor');
  });

  it('shows one notification with its payload and every attempt; others get the 404 of an unknown id', async () => {
    const res = await call('GET', `/notifications/${ids.sent}`, { as: t.people.viewer });
    expect(res.status).toBe(200);
    expect(res.body.notification).toMatchObject({ id: ids.sent, status: 'sent', payload: { id: 'sent', status: 'firing', alerts: [] } });
    expect(res.body.notification.attemptLog).toEqual([
      { attempt: 1, startedAt: iso(T0 + 1000), durationMs: 41, ok: false, statusCode: 503, error: 'HTTP 503' },
      { attempt: 2, startedAt: iso(T0 + 2000), durationMs: 42, ok: true, statusCode: 200, error: null },
    ]);
    const unknown = await call('GET', '/notifications/00000000-0000-4000-8000-000000000000', { as: t.people.viewer });
    expect(unknown.status).toBe(404);
    for (const who of ['outsider', 'unassigned'] as const) {
      const hidden = await call('GET', `/notifications/${ids.sent}`, { as: t.people[who] });
      expect(hidden.status).toBe(404);
      expect(hidden.body.error.message).toBe(unknown.body.error.message);
    }
    expect((await call('GET', '/notifications/not-a-uuid', { as: t.people.viewer })).status).toBe(400);
  });
});

describe('retrying a failed notification', () => {
  // A project of its own: retries change rows the listing tests above read.
  let project: string;
  let contactPoint: string;
  beforeAll(async () => {
    const [p] = await env.db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'Retry', 'proj-retry') returning id`, [t.orgId]);
    project = p!.id;
    await env.db.query('insert into public.project_members (project_id, organization_id, user_id) values ($1, $2, $3)', [project, t.orgId, t.people.member.id]);
    const [cp] = await env.db.query<{ id: string }>(
      `insert into public.contact_points (project_id, organization_id, name, kind, settings) values ($1, $2, 'oncall', 'webhook', '{"url": "http://127.0.0.1:9"}') returning id`,
      [project, t.orgId],
    );
    contactPoint = cp!.id;
  });
  let seq = 0;
  async function notification(status: string, where: { project: string; contactPoint: string } = { project, contactPoint }): Promise<string> {
    const [n] = await env.db.query<{ id: string }>(
      `insert into public.alert_notifications (project_id, organization_id, contact_point_id, group_key, seq, receiver, payload, status, attempts,
         next_attempt_at, lease_until, last_status, last_error)
       values ($1, $2, $3, 'g', $4, 'oncall', '{}', $5, 8, now() - interval '1 hour', now() - interval '50 minutes', 503, 'HTTP 503 from the receiver') returning id`,
      [where.project, t.orgId, where.contactPoint, ++seq, status],
    );
    return n!.id;
  }
  const statusOf = async (id: string) => (await env.db.query<{ status: string }>('select status from public.alert_notifications where id = $1', [id]))[0]!.status;

  it('a writer retries it: pending, due now, attempts and last error kept; anything but failed is a 409', async () => {
    const failed = await notification('failed');
    const res = await call('POST', `/notifications/${failed}/retry`, { as: t.people.member });
    expect(res.status).toBe(202);
    expect(res.body.notification).toMatchObject({ id: failed, status: 'pending', attempts: 8, lastError: 'HTTP 503 from the receiver' });
    const [row] = await env.db.query<{ status: string; attempts: number; due: boolean; lease_until: Date | null }>(
      `select status, attempts, next_attempt_at between now() - interval '1 minute' and now() as due, lease_until from public.alert_notifications where id = $1`,
      [failed],
    );
    expect(row).toEqual({ status: 'pending', attempts: 8, due: true, lease_until: null });
    for (const status of ['sent', 'pending', 'sending', 'dropped']) {
      const id = await notification(status);
      const again = await call('POST', `/notifications/${id}/retry`, { as: t.people.owner });
      expect(again.status, status).toBe(409);
      expect(await statusOf(id)).toBe(status);
    }
    // Retried once: now pending, so a second retry is a conflict too.
    expect((await call('POST', `/notifications/${failed}/retry`, { as: t.people.owner })).status).toBe(409);
  });

  it('viewers and read keys may not; other tenants and other projects\' keys get 404; an admin may', async () => {
    const failed = await notification('failed');
    expect((await call('POST', `/notifications/${failed}/retry`, { as: t.people.viewer })).status).toBe(403);
    expect((await call('POST', `/notifications/${failed}/retry`, { as: t.people.unassigned })).status).toBe(404);
    expect((await call('POST', `/notifications/${failed}/retry`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('POST', `/notifications/${failed}/retry`, { apiKey: keys.read })).status).toBe(403);
    // The admin key belongs to project A, not this one.
    expect((await call('POST', `/notifications/${failed}/retry`, { apiKey: keys.admin })).status).toBe(404);
    expect(await statusOf(failed)).toBe('failed');
    expect((await call('POST', `/notifications/${failed}/retry`, { as: t.people.admin })).status).toBe(202);
    expect(await statusOf(failed)).toBe('pending');
  });

  it('an admin key retries a failed notification of its own project (automation)', async () => {
    const [cp] = await env.db.query<{ id: string }>(
      `insert into public.contact_points (project_id, organization_id, name, kind, settings) values ($1, $2, 'ci', 'webhook', '{"url": "http://127.0.0.1:9"}') returning id`,
      [t.projectA, t.orgId],
    );
    const failed = await notification('failed', { project: t.projectA, contactPoint: cp!.id });
    const res = await call('POST', `/notifications/${failed}/retry`, { apiKey: keys.admin });
    expect(res.status).toBe(202);
    expect(res.body.notification).toMatchObject({ id: failed, status: 'pending', attempts: 8 });
  });
});
