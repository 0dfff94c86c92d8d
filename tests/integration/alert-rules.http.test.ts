/**
 * Alert rules through the alerts function: CRUD with the stored row and its audit trail, who may do
 * what (viewers read, members manage their projects' rules, admins everything, admin API keys from
 * CI), bad input as 400s naming the field, and rules as code: PUT /rules applies a file by key in one
 * transaction, twice is a no-op (no write, no audit row), and GET /rules/export gives back a file
 * that applies as a no-op.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { type Actor, createTenant, type Person, type Tenant } from '../helpers/tenant.ts';

type Json = Record<string, any>;
const BASE = '/functions/v1/alerts';

let env: TestEnv;
let t: Tenant;
let adminKey: string;

beforeAll(async () => {
  env = await createTestEnv();
  t = await createTenant(env);
  // This file fills projects up to the per-project cap (1000 rules); the plan's organization-wide
  // limit (free: 100) gets a tenant of its own below.
  await env.db.query(`update public.organizations set plan = 'enterprise' where id = $1`, [t.orgId]);
  const k = await generateApiKey();
  await env.db.query(`insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'ci', $3, $4, array['admin'])`, [
    t.orgId,
    t.projectA,
    k.prefix,
    k.hash,
  ]);
  adminKey = k.key;
}, 120_000);
afterAll(async () => env?.close());

async function call(method: string, path: string, o: { as?: Person; apiKey?: string; body?: unknown } = {}): Promise<{ status: number; body: Json }> {
  const res = await env.request(method, `${BASE}${path}`, { token: o.as?.jwt, apiKey: o.apiKey, body: o.body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}
const field = (body: Json) => body.error?.details?.[0]?.field;
let n = 0;
const uniqueKey = (prefix = 'rule') => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;

/** A valid metric rule; `over` replaces fields. */
const metricRule = (over: Json = {}): Json => ({
  key: uniqueKey(),
  name: 'High latency',
  kind: 'metric',
  query: { metric: 'http.latency', groupBy: ['service'], aggregation: 'p95' },
  condition: { op: '>', warning: 300, critical: 500 },
  labels: { team: 'web' },
  annotations: { summary: '{{ $labels.service }} p95 is {{ $value | humanize }}ms' },
  for: '5m',
  ...over,
});

const auditActions = async (id: string) =>
  (await env.db.query<{ action: string }>('select action from public.audit_log where target_id = $1 order by id', [id])).map((r) => r.action);

describe('rules: create, read, replace, delete', () => {
  it('an owner creates a rule: 201 with the full view, seconds in the row, audited', async () => {
    const res = await call('POST', '/rules', { as: t.people.owner, body: { projectId: t.projectA, rule: metricRule({ key: 'latency-high' }) } });
    expect(res.status).toBe(201);
    const rule = res.body.rule;
    expect(Object.keys(rule).sort()).toEqual(
      ['id', 'projectId', 'key', 'name', 'kind', 'query', 'condition', 'severity', 'labels', 'annotations', 'for', 'keepFiringFor', 'interval', 'delay', 'maxInstances', 'enabled', 'health', 'createdAt', 'updatedAt'].sort(),
    );
    expect(rule).toMatchObject({
      projectId: t.projectA,
      key: 'latency-high',
      kind: 'metric',
      // Defaults filled in, durations as text.
      query: { metric: 'http.latency', groupBy: ['service'], aggregation: 'p95', filters: [], window: '5m', reducer: 'avg' },
      condition: { op: '>', warning: 300, critical: 500 },
      severity: 'critical',
      for: '5m',
      keepFiringFor: '0s',
      interval: '1m',
      delay: '0s',
      maxInstances: 1000,
      enabled: true,
      health: { lastEvalAt: null, lastEvalMs: null, lastError: null, instancesOverCap: 0 },
    });
    expect(Date.parse(rule.health.nextEvalAt)).toBeLessThanOrEqual(Date.now() + 1000);
    const [row] = await env.db.query<Json>('select organization_id, for_seconds, interval_seconds, query, created_by from public.alert_rules where id = $1', [rule.id]);
    expect(row).toMatchObject({ organization_id: t.orgId, for_seconds: 300, interval_seconds: 60, created_by: t.people.owner.id });
    // Stored in the input shape (durations as text): what the evaluator parses with RuleSpec.
    expect(row!.query.window).toBe('5m');
    expect(await auditActions(rule.id)).toEqual(['alert_rule.created']);
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
    const res = await call('POST', '/rules', { as: t.people[actor], body: { projectId: t[project], rule: metricRule() } });
    expect(res.status).toBe(status);
  });

  it('a second rule with the same key is a 409; another project may use the key', async () => {
    const rule = metricRule({ key: 'same-key' });
    expect((await call('POST', '/rules', { as: t.people.owner, body: { projectId: t.projectA, rule } })).status).toBe(201);
    const again = await call('POST', '/rules', { as: t.people.owner, body: { projectId: t.projectA, rule } });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain("'same-key'");
    expect((await call('POST', '/rules', { as: t.people.owner, body: { projectId: t.projectB, rule } })).status).toBe(201);
  });

  it('readers list and get rules; others get 404 with the same message as an unknown id', async () => {
    const created = (await call('POST', '/rules', { as: t.people.member, body: { projectId: t.projectA, rule: metricRule() } })).body.rule;
    for (const actor of ['viewer', 'member', 'admin'] as const) {
      const list = await call('GET', `/rules?projectId=${t.projectA}`, { as: t.people[actor] });
      expect(list.status).toBe(200);
      expect(list.body.rules.map((r: Json) => r.id)).toContain(created.id);
      expect((await call('GET', `/rules/${created.id}`, { as: t.people[actor] })).body.rule).toEqual(created);
    }
    // Sorted by key.
    const keys = (await call('GET', `/rules?projectId=${t.projectA}`, { as: t.people.viewer })).body.rules.map((r: Json) => r.key);
    expect(keys).toEqual([...keys].sort());
    const unknown = await call('GET', '/rules/00000000-0000-4000-8000-000000000000', { as: t.people.owner });
    expect(unknown.status).toBe(404);
    for (const actor of ['outsider', 'unassigned'] as const) {
      const hidden = await call('GET', `/rules/${created.id}`, { as: t.people[actor] });
      expect(hidden.status).toBe(404);
      expect(hidden.body.error.message).toBe(unknown.body.error.message);
      expect((await call('GET', `/rules?projectId=${t.projectA}`, { as: t.people[actor] })).status).toBe(404);
    }
    // A read key lists its own project's rules without naming it.
    const byKey = await call('GET', '/rules', { apiKey: (await readKey()).key });
    expect(byKey.body.rules.map((r: Json) => r.id)).toContain(created.id);
  });

  it('PUT /rules/:id replaces the rule, re-schedules it now and audits the change; the key cannot change', async () => {
    const created = (await call('POST', '/rules', { as: t.people.owner, body: { projectId: t.projectA, rule: metricRule({ key: 'to-replace' }) } })).body.rule;
    await env.db.query(`update public.alert_rules set next_eval_at = now() + interval '1 hour' where id = $1`, [created.id]);
    const replaced = await call('PUT', `/rules/${created.id}`, {
      as: t.people.member,
      body: { rule: { key: 'to-replace', name: 'Silent service', kind: 'nodata', query: { metric: 'http.requests', window: '15m' }, for: '2m' } },
    });
    expect(replaced.status).toBe(200);
    // Replaced, not merged: labels and annotations the new rule lacks are gone; kinds may change.
    expect(replaced.body.rule).toMatchObject({ id: created.id, key: 'to-replace', kind: 'nodata', condition: null, labels: {}, annotations: {}, for: '2m' });
    expect(replaced.body.rule.query).toEqual({ metric: 'http.requests', filters: [], groupBy: [], window: '15m', lookback: '1d' });
    const [row] = await env.db.query<{ for_seconds: number; due: boolean }>('select for_seconds, next_eval_at <= now() as due from public.alert_rules where id = $1', [created.id]);
    expect(row).toEqual({ for_seconds: 120, due: true });
    expect(await auditActions(created.id)).toEqual(['alert_rule.created', 'alert_rule.changed']);

    const rekey = await call('PUT', `/rules/${created.id}`, { as: t.people.owner, body: { rule: metricRule({ key: 'new-key' }) } });
    expect(rekey.status).toBe(400);
    expect(field(rekey.body)).toBe('body.rule.key');
    expect((await call('GET', `/rules/${created.id}`, { as: t.people.owner })).body.rule.key).toBe('to-replace');
  });

  it('a viewer cannot replace or delete; an outsider gets 404; a member deletes (audited)', async () => {
    const created = (await call('POST', '/rules', { as: t.people.owner, body: { projectId: t.projectA, rule: metricRule() } })).body.rule;
    const body = { rule: metricRule({ key: created.key, name: 'Renamed' }) };
    expect((await call('PUT', `/rules/${created.id}`, { as: t.people.viewer, body })).status).toBe(403);
    expect((await call('PUT', `/rules/${created.id}`, { as: t.people.outsider, body })).status).toBe(404);
    expect((await call('DELETE', `/rules/${created.id}`, { as: t.people.viewer })).status).toBe(403);
    expect((await call('DELETE', `/rules/${created.id}`, { as: t.people.outsider })).status).toBe(404);
    expect((await call('GET', `/rules/${created.id}`, { as: t.people.owner })).body.rule.name).toBe('High latency');
    expect((await call('DELETE', `/rules/${created.id}`, { as: t.people.member })).status).toBe(204);
    expect((await call('GET', `/rules/${created.id}`, { as: t.people.owner })).status).toBe(404);
    expect((await call('DELETE', `/rules/${created.id}`, { as: t.people.member })).status).toBe(404);
    expect(await auditActions(created.id)).toEqual(['alert_rule.created', 'alert_rule.deleted']);
  });

  it.each([
    // what is wrong, the field the 400 names
    [{ annotations: { summary: '{{ $labels.service ' } }, 'body.rule.annotations.summary'],
    [{ annotations: { summary: '{{ $value | humanise }}' } }, 'body.rule.annotations.summary'],
    [{ for: '5 minutes' }, 'body.rule.for'],
    [{ for: '1500ms' }, 'body.rule.for'],
    [{ keepFiringFor: '2d' }, 'body.rule.keepFiringFor'],
    [{ interval: '30s' }, 'body.rule.interval'],
    [{ delay: '-1m' }, 'body.rule.delay'],
    [{ query: { metric: 'http.latency', window: '5x' } }, 'body.rule.query.window'],
    [{ query: { window: '5m' } }, 'body.rule.query.metric'],
    [{ condition: { op: '>' } }, 'body.rule.condition'],
    [{ condition: { op: '>', warning: 900, critical: 500 } }, 'body.rule.condition.warning'],
    [{ labels: { 'bad-name': 'x' } }, 'body.rule.labels.bad-name'],
    [{ key: 'has space' }, 'body.rule.key'],
    [{ kind: 'page' }, 'body.rule.kind'],
    [{ severity: 'page' }, 'body.rule.severity'],
    [{ maxInstances: 0 }, 'body.rule.maxInstances'],
    [{ extra: true }, 'body.rule'],
  ])('bad input is a 400 naming the field: %j', async (over, name) => {
    const res = await call('POST', '/rules', { as: t.people.owner, body: { projectId: t.projectA, rule: metricRule(over) } });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe(name);
  });

  it('a project holds at most 1000 rules: the 1001st is a 400', async () => {
    const [p] = await env.db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'Full', 'proj-full') returning id`, [t.orgId]);
    await fillRules(p!.id, 1000);
    const res = await call('POST', '/rules', { as: t.people.owner, body: { projectId: p!.id, rule: metricRule() } });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe('body.rule');
    expect(await ruleCount(p!.id)).toBe(1000);
  });
});

async function readKey() {
  const k = await generateApiKey();
  await env.db.query(`insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'r', $3, $4, array['read'])`, [
    t.orgId,
    t.projectA,
    k.prefix,
    k.hash,
  ]);
  return k;
}

/** Rules written as the service role (a fast fixture for the cap). */
async function fillRules(projectId: string, count: number) {
  await env.db.query(
    `insert into public.alert_rules (project_id, organization_id, key, name, kind, query)
     select $1, $2, 'bulk-' || i, 'Bulk', 'anomaly', '{}' from generate_series(1, $3::int) i`,
    [projectId, t.orgId, count],
  );
}
const ruleCount = async (projectId: string) =>
  (await env.db.query<{ n: number }>('select count(*)::int as n from public.alert_rules where project_id = $1', [projectId]))[0]!.n;

describe('rules as code', () => {
  let project: string;
  beforeAll(async () => {
    // A project of its own, so other tests' rules do not show up in these files.
    const [p] = await env.db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'Code', 'proj-code') returning id`, [t.orgId]);
    project = p!.id;
    await env.db.query('insert into public.project_members (project_id, organization_id, user_id) values ($1, $2, $3)', [project, t.orgId, t.people.member.id]);
  });

  const file = (): Json[] => [
    metricRule({ key: 'api-latency', interval: '60m' }),
    { key: 'api-silent', name: 'API silent', kind: 'nodata', query: { metric: 'http.requests', groupBy: ['service'] }, severity: 'warning' },
    { key: 'anomalies', name: 'Anomalies', kind: 'anomaly', query: { minScore: 5 }, keepFiringFor: '10m', enabled: false },
    {
      key: 'error-logs',
      name: 'Error logs',
      kind: 'log',
      query: { q: 'timeout', levels: ['error'], window: '600s', groupBy: 'service' },
      condition: { op: '>', critical: 10 },
      delay: '1m',
    },
  ];
  const apply = (body: Json, as: Person = t.people.member) => call('PUT', '/rules', { as, body: { projectId: project, ...body } });
  const snapshot = async () =>
    env.db.query<{ key: string; updated_at: Date; next_eval_at: Date }>('select key, updated_at, next_eval_at from public.alert_rules where project_id = $1 order by key collate "C"', [project]);
  const projectAudit = async () =>
    (await env.db.query<{ n: number }>(`select count(*)::int as n from public.audit_log where action like 'alert_rule.%' and details ->> 'project_id' = $1`, [project]))[0]!.n;

  it('applies a file, then applying it again writes nothing (no update, no audit row)', async () => {
    const first = await apply({ rules: file() });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ created: ['api-latency', 'api-silent', 'anomalies', 'error-logs'], changed: [], unchanged: [], removed: [] });
    const before = await snapshot();
    const audited = await projectAudit();
    expect(audited).toBe(4);

    const second = await apply({ rules: file() });
    expect(second.body).toEqual({ created: [], changed: [], unchanged: ['api-latency', 'api-silent', 'anomalies', 'error-logs'], removed: [] });
    expect(await snapshot()).toEqual(before);
    expect(await projectAudit()).toBe(audited);
  });

  it('changes what differs, creates what is new and, with prune, removes what the file lacks', async () => {
    const rules = file();
    rules[0]!.condition = { op: '>', critical: 750 };
    rules.splice(1, 1); // api-silent leaves the file
    rules.push({ key: 'errors', name: 'Errors', kind: 'metric', query: { metric: 'http.errors', aggregation: 'sum' }, condition: { op: '>=', critical: 1 } });
    const res = await apply({ rules, prune: true });
    expect(res.body).toEqual({ created: ['errors'], changed: ['api-latency'], unchanged: ['anomalies', 'error-logs'], removed: ['api-silent'] });
    expect((await snapshot()).map((r) => r.key)).toEqual(['anomalies', 'api-latency', 'error-logs', 'errors']);
    const [row] = await env.db.query<Json>(`select condition from public.alert_rules where project_id = $1 and key = 'api-latency'`, [project]);
    expect(row!.condition).toEqual({ op: '>', critical: 750 });

    // Without prune, rules the file lacks stay.
    const partial = await apply({ rules: [rules[1]] });
    expect(partial.body).toEqual({ created: [], changed: [], unchanged: ['anomalies'], removed: [] });
    expect(await ruleCount(project)).toBe(4);
  });

  it('exports every field (defaults, canonical durations) as a file that applies as a no-op', async () => {
    const res = await call('GET', `/rules/export?projectId=${project}`, { as: t.people.viewer });
    expect(res.status).toBe(200);
    const exported = res.body.rules as Json[];
    expect(exported.map((r) => r.key)).toEqual(['anomalies', 'api-latency', 'error-logs', 'errors']);
    expect(exported[1]).toEqual({
      key: 'api-latency',
      name: 'High latency',
      kind: 'metric',
      query: { metric: 'http.latency', filters: [], groupBy: ['service'], aggregation: 'p95', window: '5m', reducer: 'avg' },
      condition: { op: '>', critical: 750 },
      severity: 'critical',
      labels: { team: 'web' },
      annotations: { summary: '{{ $labels.service }} p95 is {{ $value | humanize }}ms' },
      for: '5m',
      keepFiringFor: '0s',
      // Written as 60m, given back in canonical form.
      interval: '1h',
      delay: '0s',
      maxInstances: 1000,
      enabled: true,
    });
    // Kinds without thresholds have no condition (RuleSpec would refuse one).
    expect(exported[0]).not.toHaveProperty('condition');
    expect(exported[2]).toMatchObject({ kind: 'log', query: { q: 'timeout', levels: ['error'], window: '10m', groupBy: 'service' }, condition: { op: '>', critical: 10 }, delay: '1m' });
    const before = await snapshot();
    const again = await apply({ rules: exported, prune: true });
    expect(again.body).toEqual({ created: [], changed: [], unchanged: ['anomalies', 'api-latency', 'error-logs', 'errors'], removed: [] });
    expect(await snapshot()).toEqual(before);
  });

  it('a repeated key is a 400 naming the second one; nothing is applied', async () => {
    const res = await apply({ rules: [metricRule({ key: 'fresh-one' }), metricRule({ key: 'dup' }), metricRule({ key: 'dup' })] });
    expect(res.status).toBe(400);
    expect(field(res.body)).toBe('body.rules.2.key');
    expect(res.body.error.message).toContain('body.rules.1');
    expect((await snapshot()).map((r) => r.key)).not.toContain('fresh-one');
  });

  it('a file is applied in one transaction: a rule the database refuses undoes the whole file', async () => {
    const before = await snapshot();
    // Postgres' jsonb cannot hold \u0000: the second rule fails at the database, after the first was written.
    const res = await apply({ rules: [...file(), metricRule({ key: 'fresh-two' }), metricRule({ labels: { bad: 'a\u0000b' } })], prune: true });
    expect(res.status).toBe(400);
    expect(await snapshot()).toEqual(before);
  });

  it('bad rules are 400s naming the rule in the file', async () => {
    const bad = await apply({ rules: [metricRule(), metricRule({ for: '1h1ms' })] });
    expect(bad.status).toBe(400);
    expect(field(bad.body)).toBe('body.rules.1.for');
    const template = await apply({ rules: [metricRule({ annotations: { description: '{{ if $value }}' } })] });
    expect(field(template.body)).toBe('body.rules.0.annotations.description');
  });

  it('more than 1000 rules in the project is a 400; prune makes room', async () => {
    const [p] = await env.db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'Nearly full', 'proj-nearly') returning id`, [t.orgId]);
    await fillRules(p!.id, 999);
    const two = [metricRule({ key: 'one' }), metricRule({ key: 'two' })];
    const over = await call('PUT', '/rules', { as: t.people.owner, body: { projectId: p!.id, rules: two } });
    expect(over.status).toBe(400);
    expect(field(over.body)).toBe('body.rules');
    expect(await ruleCount(p!.id)).toBe(999);
    const pruned = await call('PUT', '/rules', { as: t.people.owner, body: { projectId: p!.id, rules: two, prune: true } });
    expect(pruned.body.removed).toHaveLength(999);
    expect(await ruleCount(p!.id)).toBe(2);
  });

  it("the organization's plan limits the rules a file may add across its projects, as it limits POST; prune makes room", async () => {
    const u = await createTenant(env);
    const open = { monthlyLimit: null, included: 0, pricePerMillionCents: 0, policy: 'overage' };
    const plan = `rules-${u.orgId.slice(0, 8)}`;
    const limits = { activeSeries: null, members: null, alertRules: 3, webhookEndpoints: null, apiRequestsPerMinute: null, retentionDays: 400 };
    const put = await env.request('PUT', `/functions/v1/billing/plans/${plan}`, {
      headers: { authorization: `Bearer ${await env.serviceJwt()}` },
      body: { name: 'Three rules', organizationId: u.orgId, signals: { metrics: open, logs: open, traces: open }, limits },
    });
    expect(put.status).toBe(201);
    await env.db.query('update public.organizations set plan = $2 where id = $1', [u.orgId, plan]);
    const applyTo = (projectId: string, rules: Json[], prune = false) => call('PUT', '/rules', { as: u.people.owner, body: { projectId, rules, prune } });
    const orgRules = async () => (await env.db.query<{ key: string }>('select key from public.alert_rules where organization_id = $1 order by key', [u.orgId])).map((r) => r.key);

    const [a1, a2, a3, a4] = ['a1', 'a2', 'a3', 'a4'].map((key) => metricRule({ key }));
    expect((await applyTo(u.projectA, [a1!, a2!])).body.created).toEqual(['a1', 'a2']);
    // 2 + 2 > 3: refused like POST, naming the plan, with nothing written.
    const over = await applyTo(u.projectA, [a1!, a2!, a3!, a4!]);
    expect(over.status).toBe(400);
    expect(field(over.body)).toBe('body.rules');
    expect(over.body.error.message).toMatch(/already has 2 alert rules and this would add 2, and its Three rules plan allows 3; remove one/);
    expect(await orgRules()).toEqual(['a1', 'a2']);
    // The limit is the organization's: another project counts the same rules.
    const elsewhere = await applyTo(u.projectB, [metricRule({ key: 'b1' }), metricRule({ key: 'b2' })]);
    expect(elsewhere.status).toBe(400);
    expect(await orgRules()).toEqual(['a1', 'a2']);
    // A file that changes existing rules adds nothing; prune's removals make room for new ones.
    expect((await applyTo(u.projectA, [{ ...a1!, name: 'Renamed' }, a2!])).body.changed).toEqual(['a1']);
    expect((await applyTo(u.projectA, [a1!, a3!, a4!], true)).body).toEqual({ created: ['a3', 'a4'], changed: ['a1'], unchanged: [], removed: ['a2'] });
    expect(await orgRules()).toEqual(['a1', 'a3', 'a4']);
    // Full: one more through POST is refused with the same error.
    const post = await call('POST', '/rules', { as: u.people.owner, body: { projectId: u.projectB, rule: metricRule({ key: 'b3' }) } });
    expect(post.status).toBe(400);
    expect(post.body.error.message).toMatch(/already has 3 alert rules, and its Three rules plan allows 3; remove one/);
  });

  it('a viewer gets 403 even for a file that would change nothing; others do not see the project', async () => {
    const exported = (await call('GET', `/rules/export?projectId=${project}`, { as: t.people.viewer })).body.rules;
    expect((await apply({ rules: exported }, t.people.viewer)).status).toBe(403);
    expect((await apply({ rules: exported }, t.people.unassigned)).status).toBe(404);
    expect((await apply({ rules: exported }, t.people.outsider)).status).toBe(404);
    expect((await call('GET', `/rules/export?projectId=${project}`, { as: t.people.outsider })).status).toBe(404);
  });

  it('an admin API key applies a file to its own project (CI); a read key may not; another project is a 404', async () => {
    const rules = [metricRule({ key: 'from-ci' })];
    const res = await call('PUT', '/rules', { apiKey: adminKey, body: { rules } });
    expect(res.status).toBe(200);
    expect(res.body.created).toEqual(['from-ci']);
    const [row] = await env.db.query<{ project_id: string }>(`select project_id from public.alert_rules where key = 'from-ci'`);
    expect(row!.project_id).toBe(t.projectA);
    // The audit log names the key as the actor.
    const [audit] = await env.db.query<{ actor_type: string }>(`select actor_type from public.audit_log where action = 'alert_rule.created' and details ->> 'key' = 'from-ci'`);
    expect(audit!.actor_type).toBe('api_key');
    expect((await call('PUT', '/rules', { apiKey: adminKey, body: { rules } })).body.unchanged).toEqual(['from-ci']);
    expect((await call('PUT', '/rules', { apiKey: adminKey, body: { projectId: t.projectB, rules } })).status).toBe(404);
    expect((await call('PUT', '/rules', { apiKey: (await readKey()).key, body: { rules } })).status).toBe(403);
  });
});
