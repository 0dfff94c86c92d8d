/**
 * Billing and usage (issue 24) end to end through the functions: plans, owner-only plan changes with
 * the downgrade check, metering (exact against the raw ingest_usage rows), quotas refused at ingest
 * (native and OTLP) with their counters reconciled by the meter, warnings once per threshold, limits
 * at creation, usage and statements, and Stripe's webhooks signed as Stripe signs them.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDue } from '../../src/alerts/deliver-notifications.ts';
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import { runMeterUsage } from '../../src/billing/meter-usage.ts';
import { stripeSignatureHeader } from '../../src/billing/stripe/signature.ts';
import { sqlState } from '../../src/core/errors.ts';
import { withClaims } from '../../src/db/scoped.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { JOBS } from '../../src/app/jobs.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const BILLING = '/functions/v1/billing';
const INGEST = '/functions/v1/ingest';
const WHSEC = 'whsec_billingtestsecret0123456789';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ env: { STRIPE_WEBHOOK_SECRET: WHSEC, SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') } });
});
afterAll(async () => env?.close());

const service = async () => ({ authorization: `Bearer ${await env.serviceJwt()}` });
const json = async (res: Response) => ({ status: res.status, body: await res.json() });
const meter = () => runMeterUsage(env.deps, { now: env.clock.now(), budgetMs: 30_000 });
let seq = 0;
const metrics = (n: number, name = 'billing.m') => Array.from({ length: n }, (_, i) => ({ name, value: i, timestamp: Date.now() - 1000, id: `m-${++seq}` }));
const logs = (n: number) => Array.from({ length: n }, () => ({ timestamp: Date.now() - 1000, message: `line ${++seq}`, id: `l-${seq}` }));
const spans = (n: number) =>
  Array.from({ length: n }, () => ({ trace_id: 'a'.repeat(32), span_id: (++seq).toString(16).padStart(16, '0'), name: 'op', start: Date.now() - 1000, duration: 1, id: `s-${seq}` }));
const ingest = (key: string, body: unknown) => env.request('POST', INGEST, { apiKey: key, body });

/** A custom plan for the tenant's organization (service role), with these terms over a generous base. */
async function customPlan(t: Tenant, id: string, over: { signals?: Record<string, unknown>; limits?: Record<string, unknown> } = {}) {
  const open = { monthlyLimit: null, included: 0, pricePerMillionCents: 0, policy: 'overage' };
  const body = {
    name: `Custom ${id}`,
    organizationId: t.orgId,
    basePriceCents: 1000,
    signals: { metrics: open, logs: open, traces: open, ...over.signals },
    limits: { activeSeries: null, members: null, alertRules: null, webhookEndpoints: null, apiRequestsPerMinute: null, retentionDays: 400, ...over.limits },
  };
  const res = await env.request('PUT', `${BILLING}/plans/${id}`, { headers: await service(), body });
  expect(res.status, await res.clone().text()).toBe(201);
  await env.db.query('update public.organizations set plan = $2 where id = $1', [t.orgId, id]);
}

describe('plans', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant(env);
  });

  it('lists the shared plans to any user, and a custom plan only to its organization', async () => {
    await customPlan(t, `c-${t.orgId.slice(0, 8)}`);
    const mine = await json(await env.request('GET', `${BILLING}/plans`, { token: t.people.viewer.jwt }));
    expect(mine.body.plans.map((p: { id: string }) => p.id)).toEqual(['free', 'pro', 'enterprise', `c-${t.orgId.slice(0, 8)}`]);
    const theirs = await json(await env.request('GET', `${BILLING}/plans`, { token: t.people.outsider.jwt }));
    expect(theirs.body.plans.map((p: { id: string }) => p.id)).toEqual(['free', 'pro', 'enterprise']);
    expect(mine.body.plans[0]).toMatchObject({ id: 'free', signals: { logs: { monthlyLimit: 10_000_000, policy: 'block' } }, limits: { members: 10, webhookEndpoints: 10 } });
  });

  it.each([
    ['a negative limit', { signals: { metrics: { monthlyLimit: -1 } } }, 'body.signals.metrics.monthlyLimit'],
    ['included above the limit', { signals: { logs: { monthlyLimit: 10, included: 11 } } }, 'body.signals.logs.included'],
    ['block without a limit', { signals: { traces: { monthlyLimit: null, policy: 'block' } } }, 'body.signals.traces.policy'],
    ['no member at all', { limits: { members: 0 } }, 'body.limits.members'],
  ] as Array<[string, { signals?: Record<string, Record<string, unknown>>; limits?: Record<string, unknown> }, string]>)('refuses a plan with %s, naming the field, and writes nothing', async (_, change, field) => {
    const base = { monthlyLimit: null, included: 0, pricePerMillionCents: 0, policy: 'overage' };
    const body = {
      name: 'Bad',
      signals: { metrics: { ...base, ...change.signals?.metrics }, logs: { ...base, ...change.signals?.logs }, traces: { ...base, ...change.signals?.traces } },
      limits: { activeSeries: null, members: null, alertRules: null, webhookEndpoints: null, apiRequestsPerMinute: null, retentionDays: 30, ...change.limits },
    };
    const res = await json(await env.request('PUT', `${BILLING}/plans/bad-plan`, { headers: await service(), body }));
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(await env.db.query(`select 1 from public.billing_plans where id = 'bad-plan'`)).toHaveLength(0);
  });

  it('lets only the service role write plans', async () => {
    const res = await env.request('PUT', `${BILLING}/plans/mine`, { token: t.people.owner.jwt, body: { name: 'x' } });
    expect(res.status).toBe(403);
  });

  it('owners change the plan (audited); admins cannot; a downgrade the organization does not fit says what must change', async () => {
    const u = await createTenant(env);
    const owner = await json(await env.request('PUT', `${BILLING}/${u.orgId}/plan`, { token: u.people.owner.jwt, body: { planId: 'pro' } }));
    expect(owner.status).toBe(200);
    expect(owner.body.plan.id).toBe('pro');
    const [audit] = await env.db.query<{ actor_id: string; details: unknown }>(
      `select actor_id, details from public.audit_log where organization_id = $1 and action = 'organization.billing_changed' order by id desc limit 1`,
      [u.orgId],
    );
    expect(audit).toMatchObject({ actor_id: u.people.owner.id, details: { plan: ['free', 'pro'] } });
    expect((await env.request('PUT', `${BILLING}/${u.orgId}/plan`, { token: u.people.admin.jwt, body: { planId: 'free' } })).status).toBe(403);
    expect((await env.request('PUT', `${BILLING}/${u.orgId}/plan`, { token: u.people.outsider.jwt, body: { planId: 'free' } })).status).toBe(404);
    // 12 members on pro; free allows 10.
    for (let i = 0; i < 6; i++) {
      const p = await env.createUser();
      await env.db.query(`insert into public.organization_members (organization_id, user_id, role) values ($1, $2, 'viewer')`, [u.orgId, p.id]);
    }
    const down = await json(await env.request('PUT', `${BILLING}/${u.orgId}/plan`, { token: u.people.owner.jwt, body: { planId: 'free' } }));
    expect(down.status).toBe(409);
    expect(down.body.error.message).toContain('the organization has 11 members; the Free plan allows 10: remove 1 first');
    expect((await env.db.query<{ plan: string }>('select plan from public.organizations where id = $1', [u.orgId]))[0]!.plan).toBe('pro');
    // The same check through the orgs function's PATCH.
    expect((await env.request('PATCH', `/functions/v1/orgs/${u.orgId}`, { token: u.people.owner.jwt, body: { plan: 'free' } })).status).toBe(409);
  });

  it('holds the member limit however a member joins', async () => {
    const u = await createTenant(env);
    await customPlan(u, `m-${u.orgId.slice(0, 8)}`, { limits: { members: 5 } });
    const p = await env.createUser();
    const err = await env.db
      .query(`insert into public.organization_members (organization_id, user_id, role) values ($1, $2, 'viewer')`, [u.orgId, p.id])
      .then(() => 'inserted', (e: Error) => e.message);
    expect(err).toMatch(/already has 5 members, and its Custom m-\w+ plan allows 5/);
  });

  it('limits alert rules, webhook endpoints and retention at creation, naming the plan limit', async () => {
    const u = await createTenant(env);
    await customPlan(u, `l-${u.orgId.slice(0, 8)}`, { limits: { alertRules: 1, webhookEndpoints: 0, retentionDays: 30 } });
    const rule = (key: string) => ({ projectId: u.projectA, rule: { key, name: key, kind: 'metric', query: { metric: 'm' }, condition: { op: '>', critical: 1 } } });
    expect((await env.request('POST', '/functions/v1/alerts/rules', { token: u.people.owner.jwt, body: rule('r1') })).status).toBe(201);
    const second = await json(await env.request('POST', '/functions/v1/alerts/rules', { token: u.people.owner.jwt, body: { ...rule('r2'), projectId: u.projectB } }));
    expect(second.status).toBe(400);
    expect(second.body.error.message).toMatch(/already has 1 alert rules, and its Custom l-\w+ plan allows 1/);
    const hook = await json(await env.request('POST', '/functions/v1/webhooks/endpoints', { token: u.people.owner.jwt, body: { projectId: u.projectA, url: 'https://example.com/h', eventTypes: ['*'] } }));
    expect(hook.status).toBe(400);
    expect(hook.body.error.message).toMatch(/allows 0/);
    const retention = await json(await env.request('PUT', '/functions/v1/logs/retention', { token: u.people.owner.jwt, body: { projectId: u.projectA, levels: { info: 60 } } }));
    expect(retention.status).toBe(400);
    expect(retention.body.error.details[0]).toEqual({ field: 'body.levels.info', message: expect.stringMatching(/is 60 days; .* plan keeps data at most 30 days/) });
  });

  it('holds the alert-rule limit against direct inserts through the Data API (organization-wide)', async () => {
    const u = await createTenant(env);
    const plan = `d-${u.orgId.slice(0, 8)}`;
    await customPlan(u, plan, { limits: { alertRules: 2 } });
    // As PostgREST runs a supabase-js insert: role authenticated with the owner's claims.
    const insert = (project: string, key: string) =>
      withClaims(env.db, { sub: u.people.owner.id, role: 'authenticated', aud: 'authenticated' }, (tx) =>
        tx.query(`insert into public.alert_rules (project_id, organization_id, key, name, kind, query) values ($1, $2, $3, $3, 'metric', '{"metric":"m"}')`, [project, u.orgId, key]),
      ).then(() => 'inserted', (e: Error) => `${sqlState(e)}: ${e.message}`);
    expect(await insert(u.projectA, 'd1')).toBe('inserted');
    expect(await insert(u.projectB, 'd2')).toBe('inserted'); // within the limit, in another project
    expect(await insert(u.projectB, 'd3')).toBe(`OA400: The organization already has 2 alert rules, and its Custom ${plan} plan allows 2; remove one or upgrade the plan first`);
    expect(await env.db.query('select 1 from public.alert_rules where organization_id = $1', [u.orgId])).toHaveLength(2);
    // The API's answer still comes first (400 naming the field), in the same words.
    const api = await json(
      await env.request('POST', '/functions/v1/alerts/rules', { token: u.people.owner.jwt, body: { projectId: u.projectA, rule: { key: 'd4', name: 'd4', kind: 'metric', query: { metric: 'm' }, condition: { op: '>', critical: 1 } } } }),
    );
    expect(api.status).toBe(400);
    expect(api.body.error.details[0]).toEqual({ field: 'body.rule', message: `the organization already has 2 alert rules, and its Custom ${plan} plan allows 2; remove one or upgrade the plan first` });
    // Concurrent direct inserts cannot both take the last place.
    await env.db.query(`delete from public.alert_rules where organization_id = $1 and key = 'd2'`, [u.orgId]);
    const raced = await Promise.all([insert(u.projectA, 'r1'), insert(u.projectB, 'r2'), insert(u.projectB, 'r3')]);
    expect(raced.filter((r) => r === 'inserted')).toHaveLength(1);
    expect(await env.db.query('select 1 from public.alert_rules where organization_id = $1', [u.orgId])).toHaveLength(2);
  });
});

describe('metering', () => {
  it('rolls ingest_usage up exactly, per organization, project, key, day and signal, and is idempotent', async () => {
    const t = await createTenant(env);
    const key2 = await generateApiKey();
    const [k2] = await env.db.query<{ id: string }>(
      `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'k2', $3, $4, array['ingest']) returning id`,
      [t.orgId, t.projectB, key2.prefix, key2.hash],
    );
    expect((await ingest(t.keyA.secret, { metrics: metrics(7), logs: logs(3), spans: spans(2) })).status).toBe(200);
    expect((await ingest(t.keyA.secret, { logs: logs(5) })).status).toBe(200);
    const batch = { metrics: metrics(4) };
    expect((await ingest(t.keyA.secret, batch)).status).toBe(200);
    expect(await (await ingest(t.keyA.secret, batch)).json()).toMatchObject({ accepted: 0, duplicates: 4 }); // a retry: no usage row
    // Rows as other writers leave them: another key and project, and an old row with no per-signal split.
    await env.db.query(
      `insert into public.ingest_usage (project_id, organization_id, events, bytes, api_key_id, metric_events, log_events, span_events) values ($1, $2, 9, 1001, $3, 2, 3, 4)`,
      [t.projectB, t.orgId, k2!.id],
    );
    await env.db.query(`insert into public.ingest_usage (project_id, organization_id, events, bytes) values ($1, $2, 6, 60)`, [t.projectB, t.orgId]);
    await meter();
    // More after the first run, then again: each row counted once.
    expect((await ingest(t.keyA.secret, { spans: spans(3) })).status).toBe(200);
    await meter();
    await meter();
    const raw = await env.db.query<{ project_id: string; key: string | null; events: number; bytes: number; m: number; l: number; s: number; requests: number }>(
      `select project_id, api_key_id::text as key, sum(events)::int as events, sum(bytes)::int as bytes, count(*)::int as requests,
              sum(metric_events + greatest(events - metric_events - log_events - span_events, 0))::int as m, sum(log_events)::int as l, sum(span_events)::int as s
       from public.ingest_usage where organization_id = $1 group by 1, 2 order by 1, 2`,
      [t.orgId],
    );
    const metered = await env.db.query<{ project_id: string; key: string | null; events: number; bytes: number; m: number; l: number; s: number }>(
      `select project_id, api_key_id::text as key, sum(events)::int as events, sum(bytes)::int as bytes,
              sum(events) filter (where signal = 'metrics')::int as m, coalesce(sum(events) filter (where signal = 'logs'), 0)::int as l,
              coalesce(sum(events) filter (where signal = 'traces'), 0)::int as s
       from public.usage_daily where organization_id = $1 group by 1, 2 order by 1, 2`,
      [t.orgId],
    );
    expect(metered).toEqual(raw.map(({ requests: _, ...r }) => r));
    expect(raw.reduce((n, r) => n + r.events, 0)).toBe(7 + 3 + 2 + 5 + 4 + 9 + 6 + 3);
    const [req] = await env.db.query<{ n: number }>(`select sum(requests)::int as n from public.usage_daily where organization_id = $1 and signal = 'logs'`, [t.orgId]);
    expect(req!.n).toBe(3); // the mixed request, the logs request, the inserted row with logs
  });

  it('meters reads as queries: one service-written row per answered read, rolled up exactly and once', async () => {
    const t = await createTenant(env);
    const LOGS = '/functions/v1/logs';
    expect((await ingest(t.keyA.secret, { metrics: metrics(3, 'billing.q'), logs: logs(4), spans: spans(2) })).status).toBe(200);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const ok = async (res: Promise<Response>) => {
      const r = await res;
      expect(r.status, await r.clone().text()).toBe(200);
      return r.json();
    };
    // A user and a read key, across the signals; refused reads record nothing.
    const found = await ok(env.request('GET', `${LOGS}/search?projectId=${t.projectA}&from=${from}&to=${to}`, { token: t.people.member.jwt }));
    await ok(env.request('GET', `${LOGS}/search?from=${from}&to=${to}`, { apiKey: t.keyA.secret }));
    await ok(env.request('POST', '/functions/v1/metrics/query', { apiKey: t.keyA.secret, body: { queries: [{ metric: 'billing.q', from, to, step: 60 }] } }));
    await ok(env.request('GET', `${LOGS}/traces?from=${from}&to=${to}`, { apiKey: t.keyA.secret }));
    await ok(env.request('GET', `/functions/v1/anomalies/episodes?projectId=${t.projectB}`, { token: t.people.owner.jwt }));
    expect((await env.request('GET', '/functions/v1/anomalies/episodes', { token: t.people.owner.jwt })).status).toBe(400); // refused: no row
    expect((await env.request('GET', `${LOGS}/search?projectId=${t.projectA}`, { token: t.people.outsider.jwt })).status).toBe(404);
    const rows = await env.db.query<{ kind: string; project_id: string; api_key_id: string | null; user_id: string | null; rows: number }>(
      `select kind, project_id, api_key_id, user_id, rows from public.query_usage where organization_id = $1 order by id`,
      [t.orgId],
    );
    expect(rows).toEqual([
      { kind: 'logs', project_id: t.projectA, api_key_id: null, user_id: t.people.member.id, rows: found.logs.length },
      { kind: 'logs', project_id: t.projectA, api_key_id: t.keyA.id, user_id: null, rows: 4 },
      { kind: 'metrics', project_id: t.projectA, api_key_id: t.keyA.id, user_id: null, rows: expect.any(Number) },
      { kind: 'traces', project_id: t.projectA, api_key_id: t.keyA.id, user_id: null, rows: 1 },
      { kind: 'anomalies', project_id: t.projectB, api_key_id: null, user_id: t.people.owner.id, rows: 0 },
    ]);
    // Users cannot forge a query row (nor read the raw rows: usage comes through usage_daily).
    const forged = await withClaims(env.db, { sub: t.people.owner.id, role: 'authenticated' }, (tx) =>
      tx.query(`insert into public.query_usage (organization_id, project_id, kind) values ($1, $2, 'logs')`, [t.orgId, t.projectA]),
    ).catch((err) => sqlState(err));
    expect(forged).toBe('42501');
    await meter();
    // Rows the meter has not seen yet, then repeated runs: each counted once.
    await ok(env.request('GET', `${LOGS}/traces/services?from=${from}&to=${to}`, { apiKey: t.keyA.secret }));
    await env.db.query(`insert into public.query_usage (organization_id, project_id, kind, rows) values ($1, $2, 'logs', 5)`, [t.orgId, t.projectB]);
    await meter();
    await meter();
    const raw = await env.db.query<{ project_id: string; key: string | null; n: number }>(
      `select project_id, api_key_id::text as key, count(*)::int as n from public.query_usage where organization_id = $1 group by 1, 2 order by 1, 2 nulls first`,
      [t.orgId],
    );
    const metered = await env.db.query<{ project_id: string; key: string | null; n: number }>(
      `select project_id, api_key_id::text as key, sum(events)::int as n from public.usage_daily
       where organization_id = $1 and signal = 'queries' and bytes = 0 and requests = events group by 1, 2 order by 1, 2 nulls first`,
      [t.orgId],
    );
    expect(metered).toEqual(raw);
    expect(raw.reduce((n, r) => n + r.n, 0)).toBe(7);
    const usage = await json(await env.request('GET', `${BILLING}/${t.orgId}/usage?signal=queries&groupBy=apiKey`, { token: t.people.admin.jwt }));
    expect(usage.body.totals).toMatchObject({ queries: 7, logs: 0 });
    expect(usage.body.usage).toEqual([
      { apiKeyId: null, signal: 'queries', events: 3, bytes: 0, requests: 3 },
      { apiKeyId: t.keyA.id, signal: 'queries', events: 4, bytes: 0, requests: 4 },
    ]);
    const month = new Date().toISOString().slice(0, 7);
    const statement = await json(await env.request('GET', `${BILLING}/${t.orgId}/statements/${month}`, { token: t.people.owner.jwt }));
    expect(statement.body.statement).toMatchObject({ queries: 7 });
    expect(statement.body.statement.lines.map((l: { signal: string }) => l.signal)).toEqual(['metrics', 'logs', 'traces']);
    const csv = await (await env.request('GET', `${BILLING}/${t.orgId}/statements/${month}?format=csv`, { token: t.people.owner.jwt })).text();
    expect(csv.split('\r\n')).toContain(`${month},free,queries,7,,,,,`);
  });

  it('is a registered job that runs under its lock', async () => {
    expect(JOBS['meter-usage']).toBeDefined();
    expect((await runJob(env.deps, JOBS['meter-usage']!, { budgetMs: 10_000 })).outcome).toBe('ok');
  });
});

describe('quotas at ingest', () => {
  it("refuses a 'block' signal past its monthly limit with 429 QUOTA_EXCEEDED and Retry-After at the reset; other signals go on", async () => {
    const t = await createTenant(env);
    await customPlan(t, `q-${t.orgId.slice(0, 8)}`, { signals: { metrics: { monthlyLimit: 10, included: 0, pricePerMillionCents: 0, policy: 'block' } } });
    expect((await json(await ingest(t.keyA.secret, { metrics: metrics(8) }))).body).toMatchObject({ accepted: 8 });
    // A retry of stored events does not count: the counter is corrected to what was stored.
    expect((await ingest(t.keyA.secret, { metrics: metrics(1) })).status).toBe(200); // 9 < 10: goes on
    expect((await ingest(t.keyA.secret, { metrics: metrics(5) })).status).toBe(200); // 9 before: goes on, ends at 14
    const refused = await ingest(t.keyA.secret, { metrics: metrics(1) });
    expect(refused.status).toBe(429);
    const now = Date.now();
    const reset = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 1, 1);
    expect(Math.abs(Number(refused.headers.get('retry-after')) - (reset - now) / 1000)).toBeLessThan(5);
    const body = await refused.json();
    expect(body.error.code).toBe('QUOTA_EXCEEDED');
    expect(body.error.message).toMatch(/plan allows 10 metric points a month \(metrics events limit\)/);
    expect((await ingest(t.keyA.secret, { logs: logs(2) })).status).toBe(200);
    // OTLP clients get google.rpc.Status in their encoding, with the same status and Retry-After.
    const otlp = await env.request('POST', `${INGEST}/v1/metrics`, {
      apiKey: t.keyA.secret,
      body: { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'o', gauge: { dataPoints: [{ timeUnixNano: String(Date.now() * 1e6), asDouble: 1 }] } }] }] }] },
    });
    expect(otlp.status).toBe(429);
    expect(otlp.headers.get('retry-after')).toBeTruthy();
    expect((await otlp.json()).message).toMatch(/Quota exceeded/);
    const [stored] = await env.db.query<{ n: number }>(`select sum(metric_events)::int as n from public.ingest_usage where organization_id = $1`, [t.orgId]);
    expect(stored!.n).toBe(14);
  });

  it('the meter raises a counter that fell behind the metered truth (a cache that lost it)', async () => {
    const t = await createTenant(env);
    await customPlan(t, `r-${t.orgId.slice(0, 8)}`, { signals: { logs: { monthlyLimit: 5, included: 0, pricePerMillionCents: 0, policy: 'block' } } });
    // Usage the cache never saw (another process without it, or a flushed Redis).
    await env.db.query(`insert into public.ingest_usage (project_id, organization_id, events, bytes, log_events) values ($1, $2, 5, 50, 5)`, [t.projectA, t.orgId]);
    expect((await ingest(t.keyA.secret, { logs: logs(1) })).status).toBe(200); // the cache counted 0 before
    const summary = await meter();
    expect(summary.countersRaised).toBeGreaterThanOrEqual(1);
    expect((await ingest(t.keyA.secret, { logs: logs(1) })).status).toBe(429);
  });

  it('keeps accepting an overage signal past its limit', async () => {
    const t = await createTenant(env);
    await customPlan(t, `o-${t.orgId.slice(0, 8)}`, { signals: { logs: { monthlyLimit: 2, included: 1, pricePerMillionCents: 100, policy: 'overage' } } });
    expect((await ingest(t.keyA.secret, { logs: logs(3) })).status).toBe(200);
    expect((await ingest(t.keyA.secret, { logs: logs(3) })).status).toBe(200);
  });
});

describe('warnings', () => {
  it('sends billing.quota_warning at 80 % and 100 % once per threshold per period', async () => {
    const t = await createTenant(env);
    await customPlan(t, `w-${t.orgId.slice(0, 8)}`, { signals: { traces: { monthlyLimit: 10, included: 0, pricePerMillionCents: 0, policy: 'overage' } } });
    await env.db.query(
      `insert into public.webhook_endpoints (organization_id, url, event_types, secret_ciphertext) values ($1, 'https://example.com/billing', array['billing.*'], 'v1.0123456789abcdef.aaaa.bbbb')`,
      [t.orgId],
    );
    const events = () =>
      env.db.query<{ payload: { data: { threshold: number; signal: string; used: number; limit: number } } }>(
        `select payload from public.webhook_events where organization_id = $1 and type = 'billing.quota_warning' order by created_at, id`,
        [t.orgId],
      );
    expect((await ingest(t.keyA.secret, { spans: spans(8) })).status).toBe(200);
    await meter();
    expect((await events()).map((e) => e.payload.data)).toEqual([expect.objectContaining({ signal: 'traces', threshold: 80, used: 8, limit: 10 })]);
    await meter();
    expect(await events()).toHaveLength(1);
    expect((await ingest(t.keyA.secret, { spans: spans(4) })).status).toBe(200);
    await meter();
    await meter();
    expect((await events()).map((e) => e.payload.data.threshold)).toEqual([80, 100]);
  });

  it('sends each warning to the contact points the owners route warnings to, through the alerting delivery engine', async () => {
    const receiver = await startReceiver();
    const local = await createTestEnv({ env: { OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${receiver.port}`, SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') } });
    try {
      const t = await createTenant(local);
      await local.db.query(`update public.organizations set plan = 'enterprise' where id = $1`, [t.orgId]);
      const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
      const cp = await json(
        await local.request('POST', '/functions/v1/alerts/contact-points', {
          token: t.people.owner.jwt,
          body: { projectId: t.projectA, name: 'billing-hook', kind: 'webhook', settings: { url: `${receiver.url}/quota` }, secret },
        }),
      );
      expect(cp.status, JSON.stringify(cp.body)).toBe(201);
      const route = (by: { jwt: string }, ids: string[]) => local.request('PUT', `${BILLING}/${t.orgId}/details`, { token: by.jwt, body: { warningContactPoints: ids } });
      expect((await route(t.people.admin, [cp.body.contactPoint.id])).status).toBe(403);
      const other = await createTenant(local);
      const foreign = await local.db.query<{ id: string }>(
        `insert into public.contact_points (project_id, organization_id, name, kind, settings) values ($1, $2, 'theirs', 'webhook', '{"url": "https://example.com"}') returning id`,
        [other.projectA, other.orgId],
      );
      const refused = await json(await route(t.people.owner, [cp.body.contactPoint.id, foreign[0]!.id]));
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toBe("body.warningContactPoints.1: is not a contact point of the organization's projects");
      const routed = await json(await route(t.people.owner, [cp.body.contactPoint.id]));
      expect(routed.status, JSON.stringify(routed.body)).toBe(200);
      expect(routed.body.details.warningContactPoints).toEqual([cp.body.contactPoint.id]);

      // A custom plan: Free's terms with logs blocked at 10 events a month.
      await local.db.query(
        `insert into public.billing_plans
         select (jsonb_populate_record(b, jsonb_build_object('id', $1::text, 'name', 'Small', 'organization_id', $2::uuid, 'logs_events_limit', 10,
           'logs_events_included', 10, 'logs_price_per_million_cents', 0, 'logs_policy', 'block'))).*
         from public.billing_plans b where b.id = 'free'`,
        [`c-${t.orgId.slice(0, 8)}`, t.orgId],
      );
      await local.db.query(`update public.organizations set plan = $2 where id = $1`, [t.orgId, `c-${t.orgId.slice(0, 8)}`]);
      await local.db.query(`insert into public.ingest_usage (project_id, organization_id, events, bytes, log_events) values ($1, $2, 8, 80, 8)`, [t.projectA, t.orgId]);
      await runMeterUsage(local.deps, { now: local.clock.now(), budgetMs: 30_000 });
      await runMeterUsage(local.deps, { now: local.clock.now(), budgetMs: 30_000 });
      const logged = await local.db.query<{ group_key: string; status: string }>(`select group_key, status from public.alert_notifications where organization_id = $1`, [t.orgId]);
      expect(logged).toEqual([{ group_key: expect.stringMatching(/^billing-quota:.*:logs:80$/), status: 'pending' }]);
      await deliverDue(local.deps, local.clock.now().getTime());
      expect(receiver.received.map((r) => r.path)).toEqual(['/quota']);
      const sent = new Webhook(secret).verify(receiver.received[0]!.body, receiver.received[0]!.headers as Record<string, string>) as {
        type: string;
        data: { groupKey: string; alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> };
      };
      expect(sent.type).toBe('alert.firing');
      expect(sent.data.alerts[0]!.labels).toMatchObject({ alertname: 'QuotaWarning', signal: 'logs', threshold: '80%', plan: 'Small', severity: 'warning' });
      expect(sent.data.alerts[0]!.annotations.description).toContain('8 of 10 logs events used');
      expect(sent.data.alerts[0]!.annotations.description).toContain('refuses new logs (429 QUOTA_EXCEEDED)');
    } finally {
      await local.close();
      await receiver.close();
    }
  });
});

describe('usage and statements', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant(env);
    await customPlan(t, `s-${t.orgId.slice(0, 8)}`, { signals: { logs: { monthlyLimit: null, included: 2, pricePerMillionCents: 2_500_000, policy: 'overage' } } });
    await ingest(t.keyA.secret, { logs: logs(6), metrics: metrics(3) });
    await env.db.query(`insert into public.ingest_usage (project_id, organization_id, events, bytes, log_events) values ($1, $2, 4, 40, 4)`, [t.projectB, t.orgId]);
    await meter();
  });
  const month = () => new Date().toISOString().slice(0, 7);

  it('shows usage by project to owners and admins, and members only their projects', async () => {
    const q = '?groupBy=project&signal=logs';
    const owner = await json(await env.request('GET', `${BILLING}/${t.orgId}/usage${q}`, { token: t.people.admin.jwt }));
    expect(owner.status).toBe(200);
    expect(owner.body.usage.map((u: { projectId: string; events: number }) => [u.projectId, u.events]).sort()).toEqual([[t.projectA, 6], [t.projectB, 4]].sort());
    expect(owner.body.plan).toMatchObject({ limits: { logs: { monthlyLimit: null, policy: 'overage' } } });
    const member = await json(await env.request('GET', `${BILLING}/${t.orgId}/usage${q}`, { token: t.people.member.jwt }));
    expect(member.body.usage).toEqual([{ projectId: t.projectA, signal: 'logs', events: 6, bytes: expect.any(Number), requests: 1 }]);
    expect(member.body.plan).toBeUndefined();
    // Each grouping names its key (the inserted row of project B has no API key: null).
    const byKey = await json(await env.request('GET', `${BILLING}/${t.orgId}/usage?groupBy=apiKey&signal=logs`, { token: t.people.owner.jwt }));
    expect(byKey.body.usage.map((u: { apiKeyId: string | null; events: number }) => [u.apiKeyId, u.events])).toEqual([[null, 4], [t.keyA.id, 6]]);
    const byDay = await json(await env.request('GET', `${BILLING}/${t.orgId}/usage?groupBy=day`, { token: t.people.owner.jwt }));
    expect(byDay.body.usage).toEqual(expect.arrayContaining([expect.objectContaining({ day: new Date().toISOString().slice(0, 10), signal: 'logs', events: 10 })]));
    expect(byDay.body.totals).toEqual({ metrics: 3, logs: 10, traces: 0, queries: 0 });
    expect((await env.request('GET', `${BILLING}/${t.orgId}/usage`, { token: t.people.outsider.jwt })).status).toBe(404);
    expect((await json(await env.request('GET', `${BILLING}/${t.orgId}/usage?from=2026-02-01&to=2026-01-01`, { token: t.people.owner.jwt }))).body.error.details[0].field).toBe('query.from');
  });

  it('gives owners the month statement in JSON and CSV, priced under the plan', async () => {
    const res = await json(await env.request('GET', `${BILLING}/${t.orgId}/statements/${month()}`, { token: t.people.owner.jwt }));
    expect(res.status).toBe(200);
    const logsLine = res.body.statement.lines.find((l: { signal: string }) => l.signal === 'logs');
    // 10 log records, 2 included, 8 at $25,000 a million (2,500,000 cents): 20 cents.
    expect(logsLine).toMatchObject({ events: 10, included: 2, billable: 8, amountCents: 20 });
    expect(res.body.statement).toMatchObject({ basePriceCents: 1000, totalCents: 1020, provisional: true });
    const csv = await env.request('GET', `${BILLING}/${t.orgId}/statements/${month()}?format=csv`, { token: t.people.owner.jwt });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('month,plan,item,events,bytes,included,billable,price_per_million_cents,amount_cents');
    expect(lines.at(-1)).toBe(`${month()},s-${t.orgId.slice(0, 8)},total,,,,,,1020`);
    const accepted = await env.request('GET', `${BILLING}/${t.orgId}/statements/${month()}`, { token: t.people.owner.jwt, headers: { accept: 'text/csv' } });
    expect(accepted.headers.get('content-disposition')).toBe(`attachment; filename="statement-${month()}.csv"`);
    expect((await accepted.text()).split('\r\n')[0]).toBe(lines[0]);
    expect((await env.request('GET', `${BILLING}/${t.orgId}/statements/${month()}`, { token: t.people.admin.jwt })).status).toBe(403);
    expect((await env.request('GET', `${BILLING}/${t.orgId}/statements/2026-13`, { token: t.people.owner.jwt })).status).toBe(400);
  });

  it('owners set billing details (audited, fields not values); admins cannot read them', async () => {
    const put = await json(await env.request('PUT', `${BILLING}/${t.orgId}/details`, { token: t.people.owner.jwt, body: { companyName: 'Acme Ltd', taxId: 'GB123' } }));
    expect(put.status).toBe(200);
    expect(put.body.details).toMatchObject({ companyName: 'Acme Ltd', taxId: 'GB123', address: null, stripe: { subscriptionStatus: 'none' } });
    const [audit] = await env.db.query<{ details: { fields: string[] } }>(`select details from public.audit_log where organization_id = $1 and action = 'billing.details_changed'`, [t.orgId]);
    expect(audit!.details.fields.sort()).toEqual(['company_name', 'tax_id']);
    expect((await env.request('GET', `${BILLING}/${t.orgId}`, { token: t.people.admin.jwt })).status).toBe(403);
    expect((await env.request('PUT', `${BILLING}/${t.orgId}/details`, { token: t.people.admin.jwt, body: { companyName: 'x' } })).status).toBe(403);
  });
});

describe('Stripe webhooks', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant(env);
    await env.db.query(`insert into public.organization_billing (organization_id, stripe_customer_id) values ($1, $2)`, [t.orgId, `cus_${t.orgId.replace(/-/g, '').slice(0, 14)}`]);
  });
  const customer = () => `cus_${t.orgId.replace(/-/g, '').slice(0, 14)}`;
  const send = async (event: unknown, opts: { secret?: string; at?: number; header?: string } = {}) => {
    const payload = JSON.stringify(event);
    const header = opts.header ?? (await stripeSignatureHeader(opts.secret ?? WHSEC, payload, opts.at ?? Math.floor(Date.now() / 1000)));
    return env.request('POST', `${BILLING}/stripe/webhook`, { headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
  };

  it('applies a subscription event once, its plan when the organization fits it', async () => {
    const event = { id: `evt_${seq++}a`, type: 'customer.subscription.created', data: { object: { id: 'sub_1', customer: customer(), status: 'active', metadata: { plan_id: 'pro' } } } };
    expect(await json(await send(event))).toEqual({ status: 200, body: { received: true, duplicate: false, applied: 'subscription active; plan pro' } });
    expect(await json(await send(event))).toEqual({ status: 200, body: { received: true, duplicate: true, applied: 'nothing (already applied)' } });
    const [row] = await env.db.query('select o.plan, b.stripe_subscription_id, b.subscription_status from public.organizations o join public.organization_billing b on b.organization_id = o.id where o.id = $1', [t.orgId]);
    expect(row).toEqual({ plan: 'pro', stripe_subscription_id: 'sub_1', subscription_status: 'active' });
    const failed = { id: `evt_${seq++}b`, type: 'invoice.payment_failed', data: { object: { id: 'in_1', customer: customer() } } };
    expect((await json(await send(failed))).body.applied).toBe('invoice payment_failed');
    const billing = await json(await env.request('GET', `${BILLING}/${t.orgId}`, { token: t.people.owner.jwt }));
    expect(billing.body).toMatchObject({ plan: { id: 'pro' }, details: { stripe: { customerId: customer(), subscriptionId: 'sub_1', subscriptionStatus: 'active', lastInvoice: { id: 'in_1', status: 'payment_failed' } } } });
  });

  it("ignores a replaced subscription's events: they do not overwrite the current one", async () => {
    // sub_0 was cancelled after a plan change made sub_1: its late events change nothing.
    const stale = { id: `evt_${seq++}f`, type: 'customer.subscription.deleted', data: { object: { id: 'sub_0', customer: customer(), status: 'canceled' } } };
    expect((await json(await send(stale))).body.applied).toBe("nothing (sub_0 is not the organization's current subscription)");
    const [row] = await env.db.query('select stripe_subscription_id, subscription_status from public.organization_billing where organization_id = $1', [t.orgId]);
    expect(row).toEqual({ stripe_subscription_id: 'sub_1', subscription_status: 'active' });
  });

  it.each([
    ['a forged signature', { secret: 'whsec_notthesecret' }],
    ['a stale timestamp (a replayed delivery)', { at: Math.floor(Date.now() / 1000) - 301 }],
    ['no signature', { header: '' }],
  ])('refuses %s with 400 and applies nothing', async (_, opts) => {
    const event = { id: `evt_${seq++}c`, type: 'customer.subscription.deleted', data: { object: { id: 'sub_1', customer: customer(), status: 'canceled' } } };
    const res = await json(await send(event, opts));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/Stripe signature verification failed/);
    expect(await env.db.query('select 1 from private.stripe_events where id = $1', [event.id])).toHaveLength(0);
  });

  it('links a customer made outside our API by the organization its metadata names, and acknowledges one naming none it knows', async () => {
    const u = await createTenant(env);
    const sub = (id: string, customer: string, organizationId: string) => ({
      id: `evt_${seq++}e`,
      type: 'customer.subscription.updated',
      data: { object: { id, customer, status: 'trialing', metadata: { organization_id: organizationId } } },
    });
    // Stripe would retry a 4xx for days: a metadata value that is no organization (nor a uuid) is acknowledged, not refused.
    for (const bogus of ['-'.repeat(36), 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'not-a-uuid']) {
      expect(await json(await send(sub('sub_bogus', 'cus_Bogus0001', bogus)))).toEqual({ status: 200, body: { received: true, duplicate: false, applied: 'nothing (unknown customer)' } });
    }
    expect((await json(await send(sub('sub_linked', 'cus_Linked0001', u.orgId)))).body.applied).toBe('subscription trialing');
    const [row] = await env.db.query('select stripe_customer_id, stripe_subscription_id, subscription_status from public.organization_billing where organization_id = $1', [u.orgId]);
    expect(row).toEqual({ stripe_customer_id: 'cus_Linked0001', stripe_subscription_id: 'sub_linked', subscription_status: 'trialing' });
  });

  it('refuses a malformed event naming the field, with nothing half-applied', async () => {
    const event = { id: `evt_${seq++}d`, type: 'customer.subscription.updated', data: { object: { id: 'sub_2', customer: customer(), status: 'bogus' } } };
    const res = await json(await send(event));
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('body.data.object.status');
    expect(await env.db.query('select 1 from private.stripe_events where id = $1', [event.id])).toHaveLength(0);
  });
});
