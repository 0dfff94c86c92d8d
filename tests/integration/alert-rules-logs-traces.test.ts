/**
 * Log and trace alert rules end to end: log lines and spans sent through ingest, rules made through
 * the rules API, the evaluate-alerts job run on a fake clock, and the instances and transitions it
 * stores. A log rule counts matching lines per service (whole minutes from the per-minute counts, the
 * partial minutes at the window's ends from the lines) or per attribute value, with search text; a
 * trace rule judges the error ratio or a latency percentile per service or per operation, and
 * minRequests keeps a group with too few spans from being judged. A bad search is a 400 when the rule
 * is saved. countLogs itself agrees with a count of the stored lines and applies RLS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlerts } from '../../src/alerts/evaluate-alerts.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { countLogs } from '../../src/logs/count-logs.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const S = 1000;
const MIN = 60 * S;
// Half a minute past the minute: a 5m window has a partial minute at each end.
const START = '2026-06-01T12:00:30Z';

interface Line {
  at: number;
  service: string;
  level?: string;
  message?: string;
  attributes?: Record<string, string>;
}
interface Span {
  service: string;
  name: string;
  at: number;
  duration: number;
  error?: boolean;
  kind?: string;
}
interface InstanceRow {
  labels: Record<string, string>;
  state: string;
  severity: string;
  value: number | null;
  threshold: number | null;
  reason: string;
}

describe('log and trace alert rules', () => {
  let env: TestEnv & { clock: FakeClock };
  let t: Tenant;
  let seq = 0;
  const now = () => env.clock.now().getTime();
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await env.request(method, `/functions/v1/alerts${path}`, { token: t.people.owner.jwt, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const sendLogs = async (lines: Line[]) => {
    const res = await env.request('POST', '/functions/v1/ingest', {
      apiKey: t.keyA.secret,
      body: {
        logs: lines.map((l) => ({
          timestamp: l.at,
          level: l.level ?? 'error',
          service: l.service,
          message: l.message ?? 'request failed',
          // A distinct attribute per line: ingest drops repeats of the same line as retries.
          attributes: { ...l.attributes, n: String(++seq) },
        })),
      },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: lines.length, rejected: 0 });
  };
  const sendSpans = async (spans: Span[]) => {
    const res = await env.request('POST', '/functions/v1/ingest', {
      apiKey: t.keyA.secret,
      body: {
        spans: spans.map((s) => {
          const n = ++seq;
          return {
            trace_id: hex(0xa1e7 * 1_000_000 + n, 32),
            span_id: hex(n, 16),
            name: s.name,
            service: s.service,
            kind: s.kind ?? 'server',
            start: s.at,
            duration: s.duration,
            status: s.error ? 'error' : 'ok',
          };
        }),
      },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: spans.length, rejected: 0 });
  };
  /** A rule through the API: due at once (the server's clock, here the fake one, stamps next_eval_at). */
  const createRule = async (rule: Record<string, unknown>): Promise<string> => {
    const res = await api('POST', '/rules', { projectId: t.projectA, rule });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.rule.id as string;
  };
  const evaluate = async () => {
    await env.deps.settle();
    const run = await runJob(env.deps, evaluateAlerts, { budgetMs: 60_000 });
    expect(run.outcome, run.error ?? '').toBe('ok');
    expect(run.summary).toMatchObject({ failed: 0 });
    return run.summary;
  };
  const instances = (ruleId: string) =>
    env.db.query<InstanceRow>(
      `select labels, state, severity, value, threshold, reason from public.alert_instances where rule_id = $1 order by labels::text`,
      [ruleId],
    );
  const transitions = (ruleId: string) =>
    env.db.query<{ service: string; from_state: string; to_state: string; value: number | null }>(
      `select labels ->> 'service' as service, from_state, to_state, value from public.alert_transitions where rule_id = $1 order by id`,
      [ruleId],
    );
  const health = async (ruleId: string) =>
    (await env.db.query<{ last_error: string | null; last_eval_at: Date | null }>('select last_error, last_eval_at from public.alert_rules where id = $1', [ruleId]))[0]!;
  /** Each scenario starts in a fresh stretch of time, so windows never see another scenario's data. */
  const nextScenario = () => env.clock.advance(30 * MIN);

  beforeAll(async () => {
    env = (await createTestEnv({ fakeTime: START })) as TestEnv & { clock: FakeClock };
    t = await createTenant(env);
  }, 60_000);
  afterAll(async () => env?.close());

  it('a log rule fires per service when error lines exceed its thresholds, and resolves when they stop', async () => {
    const t0 = now(); // 12:00:30: the window is [11:55:30, 12:00:30)
    await sendLogs([
      { service: 'api', at: t0 - 5 * MIN - 10 * S }, // 11:55:20: in the window's first minute, before the window
      { service: 'api', at: t0 - 4 * MIN - 50 * S }, // 11:55:40: the partial first minute
      { service: 'api', at: t0 - 3 * MIN },
      { service: 'api', at: t0 - 2 * MIN },
      { service: 'api', at: t0 - 1 * MIN },
      { service: 'api', at: t0 - 10 * S }, // 12:00:20: the partial last minute
      { service: 'api', at: t0 - 2 * MIN, level: 'info' },
      { service: 'api', at: t0 - 2 * MIN, level: 'warn' },
      { service: 'web', at: t0 - 3 * MIN },
      { service: 'web', at: t0 - 20 * S },
      { service: 'batch', at: t0 - 1 * MIN }, // not among the rule's services
    ]);
    const rule = await createRule({
      key: 'error-logs',
      name: 'ErrorLogs',
      kind: 'log',
      query: { levels: ['error'], services: ['api', 'web'], groupBy: 'service' },
      condition: { op: '>', critical: 3, warning: 1 },
      annotations: { summary: '{{ $value }} errors in {{ $labels.service }}' },
    });
    expect(await evaluate()).toMatchObject({ rules: 1 });
    expect(await health(rule)).toMatchObject({ last_error: null });
    const fired = await instances(rule);
    expect(fired).toEqual([
      {
        labels: { alertname: 'ErrorLogs', service: 'api', severity: 'critical' },
        state: 'firing',
        severity: 'critical',
        value: 5,
        threshold: 3,
        reason: 'count of logs (level error; services api, web) over 5m = 5 > 3 (critical)',
      },
      {
        labels: { alertname: 'ErrorLogs', service: 'web', severity: 'warning' },
        state: 'firing',
        severity: 'warning',
        value: 2,
        threshold: 1,
        reason: 'count of logs (level error; services api, web) over 5m = 2 > 1 (warning)',
      },
    ]);
    const [annotated] = await env.db.query<{ annotations: Record<string, string> }>(
      `select annotations from public.alert_instances where rule_id = $1 and labels ->> 'service' = 'api'`,
      [rule],
    );
    expect(annotated!.annotations).toEqual({ summary: '5 errors in api' });

    // A minute later the window starts at 11:56:30: four api lines and both web lines remain, still firing.
    env.clock.advance(MIN);
    await evaluate();
    expect((await instances(rule)).map((i) => [i.labels.service, i.state, i.value])).toEqual([
      ['api', 'firing', 4],
      ['web', 'firing', 2],
    ]);

    // The errors stop: both groups leave the results and resolve.
    env.clock.advance(6 * MIN);
    await evaluate();
    expect((await instances(rule)).map((i) => [i.labels.service, i.state])).toEqual([
      ['api', 'resolved'],
      ['web', 'resolved'],
    ]);
    expect(await transitions(rule)).toEqual([
      { service: 'api', from_state: 'inactive', to_state: 'firing', value: 5 },
      { service: 'web', from_state: 'inactive', to_state: 'firing', value: 2 },
      { service: 'api', from_state: 'firing', to_state: 'resolved', value: null },
      { service: 'web', from_state: 'firing', to_state: 'resolved', value: null },
    ]);
  });

  it('a log rule with search text groups by an attribute (attributes first, then resource) and can alert on silence', async () => {
    nextScenario();
    const t0 = now();
    await sendLogs([
      { service: 'gateway', at: t0 - 2 * MIN, level: 'warn', message: 'upstream timeout after 30s', attributes: { 'http.route': '/pay' } },
      { service: 'gateway', at: t0 - 2 * MIN, level: 'warn', message: 'upstream timeout after 31s', attributes: { 'http.route': '/pay' } },
      { service: 'gateway', at: t0 - 1 * MIN, level: 'error', message: 'Timeout: upstream', attributes: { 'http.route': '/pay' } },
      { service: 'gateway', at: t0 - 1 * MIN, level: 'warn', message: 'upstream timeout', attributes: { 'http.route': '/cart' } },
      { service: 'gateway', at: t0 - 1 * MIN, level: 'warn', message: 'upstream timeout without a route' },
      { service: 'gateway', at: t0 - 1 * MIN, level: 'info', message: 'all good', attributes: { 'http.route': '/pay' } },
      { service: 'gateway', at: t0 - 9 * MIN, level: 'warn', message: 'an old timeout', attributes: { 'http.route': '/pay' } },
    ]);
    const byRoute = await createRule({
      key: 'timeouts-by-route',
      name: 'Timeouts',
      kind: 'log',
      query: { q: 'timeout', services: ['gateway'], groupBy: 'attr.http.route' },
      condition: { op: '>=', critical: 3 },
    });
    // Ungrouped, the count is one value even when nothing matched: a rule can fire on silence.
    const heartbeat = await createRule({
      key: 'no-heartbeat',
      name: 'NoHeartbeat',
      kind: 'log',
      query: { q: 'heartbeat', services: ['gateway'], window: '10m' },
      condition: { op: '<', critical: 1 },
    });
    await evaluate();
    // The label is the attribute key as a label name (matchers accept no dots).
    expect(await instances(byRoute)).toEqual([
      {
        labels: { alertname: 'Timeouts', http_route: '/pay', severity: 'critical' },
        state: 'firing',
        severity: 'critical',
        value: 3,
        threshold: 3,
        reason: 'count of logs matching "timeout" (service gateway) over 5m = 3 >= 3 (critical)',
      },
    ]);
    expect(await instances(heartbeat)).toEqual([
      {
        labels: { alertname: 'NoHeartbeat', severity: 'critical' },
        state: 'firing',
        severity: 'critical',
        value: 0,
        threshold: 1,
        reason: 'count of logs matching "heartbeat" (service gateway) over 10m = 0 < 1 (critical)',
      },
    ]);
    await sendLogs([{ service: 'gateway', at: now() - 30 * S, level: 'info', message: 'heartbeat ok' }]);
    env.clock.advance(MIN);
    await evaluate();
    expect((await instances(heartbeat)).map((i) => [i.state, i.value])).toEqual([['resolved', 1]]);
  });

  it('a trace error-ratio rule fires for the failing service only; minRequests keeps a group with too few spans from being judged', async () => {
    nextScenario();
    const t0 = now();
    const spans: Span[] = [];
    for (let i = 0; i < 10; i++) {
      spans.push({ service: 'checkout', name: 'POST /order', at: t0 - 4 * MIN + i * 10 * S, duration: 50, error: i % 5 < 2 }); // 4 of 10
      spans.push({ service: 'search', name: 'GET /q', at: t0 - 4 * MIN + i * 10 * S, duration: 20 });
      // Client spans are not the requests a service answered: the rules count server spans only.
      spans.push({ service: 'search', name: 'GET /index', at: t0 - 3 * MIN, duration: 5, error: true, kind: 'client' });
    }
    spans.push({ service: 'rare', name: 'GET /x', at: t0 - 2 * MIN, duration: 10, error: true });
    spans.push({ service: 'rare', name: 'GET /x', at: t0 - 1 * MIN, duration: 10, error: true });
    spans.push({ service: 'search', name: 'GET /q', at: t0 - 6 * MIN, duration: 20, error: true }); // before the window
    await sendSpans(spans);
    const judged = await createRule({
      key: 'error-ratio',
      name: 'ErrorRatio',
      kind: 'trace',
      query: { kind: 'server', measure: 'error_ratio', minRequests: 5 },
      condition: { op: '>', critical: 0.25, warning: 0.1 },
    });
    const everyone = await createRule({
      key: 'error-ratio-any',
      name: 'ErrorRatioAny',
      kind: 'trace',
      query: { kind: 'server', measure: 'error_ratio' },
      condition: { op: '>', critical: 0.25 },
    });
    await evaluate();
    expect(await instances(judged)).toEqual([
      {
        labels: { alertname: 'ErrorRatio', service: 'checkout', severity: 'critical' },
        state: 'firing',
        severity: 'critical',
        value: 0.4,
        threshold: 0.25,
        reason: 'error ratio of checkout over 5m = 0.4 > 0.25 (critical)',
      },
    ]);
    // Without minRequests (default 1), two failing spans of 'rare' are enough to fire.
    expect((await instances(everyone)).map((i) => [i.labels.service, i.state, i.value])).toEqual([
      ['checkout', 'firing', 0.4],
      ['rare', 'firing', 1],
    ]);
  });

  it('a p95 rule fires on the slow operation of a service; a rule on one operation judges only it', async () => {
    nextScenario();
    const t0 = now();
    const spans: Span[] = [];
    for (let i = 0; i < 20; i++) {
      spans.push({ service: 'shop', name: 'GET /cart', at: t0 - 4 * MIN + i * 5 * S, duration: 10 });
      spans.push({ service: 'shop', name: 'POST /pay', at: t0 - 4 * MIN + i * 5 * S, duration: i === 0 ? 100 : 800 });
      spans.push({ service: 'other', name: 'GET /slow', at: t0 - 4 * MIN + i * 5 * S, duration: 5000 });
    }
    await sendSpans(spans);
    const p95 = await createRule({
      key: 'shop-p95',
      name: 'ShopLatency',
      kind: 'trace',
      query: { service: 'shop', measure: 'p95' },
      condition: { op: '>', critical: 500, warning: 200 },
    });
    const cart = await createRule({
      key: 'cart-p50',
      name: 'CartLatency',
      kind: 'trace',
      query: { service: 'shop', operation: 'GET /cart', measure: 'p50', window: '10m' },
      condition: { op: '>=', warning: 10 },
    });
    await evaluate();
    expect(await instances(p95)).toEqual([
      {
        labels: { alertname: 'ShopLatency', operation: 'POST /pay', service: 'shop', severity: 'critical' },
        state: 'firing',
        severity: 'critical',
        value: 800,
        threshold: 500,
        reason: 'p95 latency of POST /pay (shop) over 5m = 800 ms > 500 (critical)',
      },
    ]);
    expect(await instances(cart)).toEqual([
      {
        labels: { alertname: 'CartLatency', operation: 'GET /cart', service: 'shop', severity: 'warning' },
        state: 'firing',
        severity: 'warning',
        value: 10,
        threshold: 10,
        reason: 'p50 latency of GET /cart (shop) over 10m = 10 ms >= 10 (warning)',
      },
    ]);
  });

  it('refuses bad log and trace rules at save time, naming the field', async () => {
    const base = { key: 'bad', name: 'Bad', condition: { op: '>', critical: 1 } };
    const cases: Array<[unknown, string]> = [
      // [query, the field the 400 names]
      [{ kind: 'log', query: { q: '!!! ---' } }, 'body.rule.query.q'], // no searchable word
      [{ kind: 'log', query: { q: 'a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg' } }, 'body.rule.query.q'], // 33 words
      [{ kind: 'log', query: { groupBy: 'host' } }, 'body.rule.query.groupBy'],
      [{ kind: 'log', query: { levels: ['loud'] } }, 'body.rule.query.levels.0'],
      [{ kind: 'log', query: { window: '10s' } }, 'body.rule.query.window'],
      [{ kind: 'log', query: {}, condition: undefined }, 'body.rule.condition'],
      [{ kind: 'trace', query: { operation: 'GET /x', measure: 'p95' } }, 'body.rule.query.operation'],
      [{ kind: 'trace', query: { service: 'a' } }, 'body.rule.query.measure'],
      [{ kind: 'trace', query: { measure: 'p95', kind: 'sideways' } }, 'body.rule.query.kind'],
      [{ kind: 'trace', query: { measure: 'p95', minRequests: 0 } }, 'body.rule.query.minRequests'],
    ];
    for (const [rule, field] of cases) {
      const res = await api('POST', '/rules', { projectId: t.projectA, rule: { ...base, ...(rule as object) } });
      expect(res.status, JSON.stringify(rule)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details.map((d: { field: string }) => d.field), JSON.stringify(res.body)).toContain(field);
    }
    expect((await env.db.query(`select 1 from public.alert_rules where key = 'bad'`)).length).toBe(0);
  });

  it('exports log and trace rules in the form apply takes, and applying the export changes nothing', async () => {
    await createRule({
      key: 'export-log',
      name: 'ExportLog',
      kind: 'log',
      query: { levels: ['error'], services: ['api', 'web'], groupBy: 'service' },
      condition: { op: '>', critical: 3, warning: 1 },
    });
    await createRule({
      key: 'export-trace',
      name: 'ExportTrace',
      kind: 'trace',
      query: { service: 'shop', operation: 'GET /cart', measure: 'p50', window: '10m' },
      condition: { op: '>=', warning: 10 },
    });
    const exported = await api('GET', `/rules/export?projectId=${t.projectA}`);
    expect(exported.status).toBe(200);
    const byKey = Object.fromEntries(exported.body.rules.map((r: { key: string }) => [r.key, r]));
    expect(byKey['export-log']).toMatchObject({
      kind: 'log',
      query: { levels: ['error'], services: ['api', 'web'], groupBy: 'service', window: '5m', attributes: {} },
      condition: { op: '>', critical: 3, warning: 1 },
    });
    expect(byKey['export-trace']).toMatchObject({
      kind: 'trace',
      query: { service: 'shop', operation: 'GET /cart', measure: 'p50', window: '10m', minRequests: 1 },
      condition: { op: '>=', warning: 10 },
    });
    const applied = await api('PUT', '/rules', { projectId: t.projectA, rules: exported.body.rules });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    expect(applied.body).toMatchObject({ created: [], changed: [], removed: [] });
    expect(applied.body.unchanged).toHaveLength(exported.body.rules.length);
  });
});

describe('countLogs', () => {
  let env: TestEnv & { clock: FakeClock };
  let t: Tenant;
  const T0 = Date.parse(START);

  beforeAll(async () => {
    env = (await createTestEnv({ fakeTime: START })) as TestEnv & { clock: FakeClock };
    t = await createTenant(env);
    // Lines every 7 seconds over 20 minutes, over three services and two levels, some with a region
    // in their attributes and some only in their resource (as OTLP puts it).
    const logs = [];
    for (let i = 0; i < 170; i++) {
      const service = ['api', 'web', 'db'][i % 3]!;
      logs.push({
        timestamp: T0 - 20 * MIN + i * 7 * S,
        level: i % 4 === 0 ? 'error' : 'info',
        service,
        message: i % 5 === 0 ? `slow query ${i}` : `ok ${i}`,
        attributes: { n: String(i), ...(i % 2 === 0 ? { region: i % 6 === 0 ? 'eu' : 'us' } : {}) },
      });
    }
    const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { logs } });
    expect(await res.json()).toMatchObject({ accepted: logs.length, rejected: 0 });
    await env.deps.settle();
  }, 60_000);
  afterAll(async () => env?.close());

  /** The expectation, counted from the stored lines directly. */
  const expected = async (where: string, params: unknown[], key: string) => {
    const rows = await env.db.query<{ k: string; n: number }>(
      `select ${key} as k, count(*)::int as n from public.logs l where l.project_id = $1 and l.time >= $2 and l.time < $3 and ${where} group by 1`,
      [t.projectA, ...params],
    );
    return Object.fromEntries(rows.map((r) => [r.k, r.n]));
  };
  const flat = (groups: Array<{ key: Record<string, string>; count: number }>) => Object.fromEntries(groups.map((g) => [Object.values(g.key)[0] ?? '', g.count]));
  const service = { role: 'service_role' };

  const M0 = T0 - 30 * S; // 12:00:00

  // [what the range exercises, its start and end from 12:00:00]
  it.each([
    ['whole minutes only', -15 * MIN, -5 * MIN],
    ['partial minutes at both ends', -15 * MIN + 13 * S, -5 * MIN - 29 * S],
    ['a partial minute at the start only', -15 * MIN + 13 * S, -5 * MIN],
    ['inside one minute', -7 * MIN + 5 * S, -7 * MIN + 50 * S],
    ['more than the data', -30 * MIN, 30 * S],
  ])('per service by level (the per-minute counts) agrees with the lines: %s', async (_what, start, end) => {
    const [from, to] = [M0 + start, M0 + end];
    const range = [new Date(from), new Date(to)];
    const got = await countLogs(env.deps, service, t.projectA, { filter: { levels: ['error'], attributes: [] }, from, to, groupBy: 'service', limit: 100 });
    expect(got.truncated).toBe(false);
    expect(flat(got.groups)).toEqual(await expected(`l.level = 'error'`, range, 'l.service'));
    // Largest first.
    expect(got.groups.map((g) => g.count)).toEqual([...got.groups.map((g) => g.count)].sort((a, b) => b - a));
    const all = await countLogs(env.deps, service, t.projectA, { filter: { attributes: [] }, from, to, limit: 100 });
    expect(all.groups).toEqual([{ key: {}, count: (await expected('true', range, `''`))[''] ?? 0 }]);
  });

  it('counts search text per attribute value, looked up in attributes then resource, and caps the groups', async () => {
    await env.db.query(`update public.logs set resource = jsonb_build_object('region', 'ap') where project_id = $1 and not attributes ? 'region'`, [t.projectA]);
    const from = T0 - 18 * MIN + 3 * S;
    const to = T0 - 2 * MIN;
    const range = [new Date(from), new Date(to)];
    const got = await countLogs(env.deps, service, t.projectA, { filter: { q: 'slow', attributes: [] }, from, to, groupBy: { attribute: 'region' }, limit: 100 });
    const want = await expected(`l.message like 'slow%'`, range, `coalesce(l.attributes ->> 'region', l.resource ->> 'region')`);
    expect(Object.keys(want).sort()).toEqual(['ap', 'eu', 'us']);
    expect(got).toEqual({ groups: expect.any(Array), truncated: false });
    expect(got.groups.map((g) => Object.keys(g.key))).toEqual([['region'], ['region'], ['region']]);
    expect(flat(got.groups)).toEqual(want);
    const capped = await countLogs(env.deps, service, t.projectA, { filter: { q: 'slow', attributes: [] }, from, to, groupBy: { attribute: 'region' }, limit: 1 });
    expect(capped.truncated).toBe(true);
    expect(capped.groups).toEqual([got.groups[0]]);
  });

  it('reads as the caller under RLS: a member of the project sees the same counts, an outsider gets 404', async () => {
    const input = { filter: { levels: ['error' as const], attributes: [] }, from: T0 - 20 * MIN, to: T0, groupBy: 'service' as const, limit: 100 };
    const owner = { sub: t.people.owner.id, role: 'authenticated' };
    const mine = await countLogs(env.deps, owner, undefined, { ...input, filter: { ...input.filter, projectId: t.projectA } });
    expect(mine).toEqual(await countLogs(env.deps, service, t.projectA, input));
    expect(mine.groups.length).toBe(3);
    const outsider = { sub: t.people.outsider.id, role: 'authenticated' };
    await expect(countLogs(env.deps, outsider, undefined, { ...input, filter: { ...input.filter, projectId: t.projectA } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
