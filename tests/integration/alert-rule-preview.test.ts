/**
 * POST /alerts/rules/preview against the real engine: metric points sent through ingest and rolled
 * up, a preview of a rule over a past half hour, then the same rule created and the evaluate-alerts
 * job run on a fake clock at each of the preview's evaluation times. The preview's transitions and
 * per-step states must be what the job stored, and the preview itself writes nothing. Bad ranges,
 * kinds that cannot be previewed and too many evaluations are 400s naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlerts } from '../../src/alerts/evaluate-alerts.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { aggregateMetrics } from '../../src/metrics/aggregate-metrics.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const S = 1000;
const MIN = 60 * S;
const END = '2026-06-01T12:00:00.000Z';
const end = Date.parse(END);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * cpu.busy per host, every 15 s from 11:15 to 12:00: host a at 10 with a spike to 95 from 11:38 to
 * 11:46 (critical), host b at 10 with a bump to 70 from 11:50 to 11:53 (warning), then nothing.
 */
function value(host: string, at: number): number | null {
  const m = (at - (end - 45 * MIN)) / MIN;
  if (host === 'a') return m >= 23 && m < 31 ? 95 : 10;
  if (m >= 42) return null; // host b falls silent at 11:57
  return m >= 35 && m < 38 ? 70 : 10;
}

const RULE = {
  key: 'cpu-busy',
  name: 'CpuBusy',
  kind: 'metric',
  query: { metric: 'cpu.busy', groupBy: ['host'], window: '2m', reducer: 'avg' },
  condition: { op: '>', critical: 90, warning: 60 },
  for: '2m',
  labels: { team: 'infra' },
};

describe('alert rule preview', () => {
  let env: TestEnv & { clock: FakeClock };
  let t: Tenant;

  const api = async (method: string, path: string, body?: unknown, token = t.people.owner.jwt) => {
    const res = await env.request(method, `/functions/v1/alerts${path}`, { token, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const counts = async () =>
    (
      await env.db.query<{ rules: number; instances: number; transitions: number }>(
        `select (select count(*)::int from public.alert_rules where project_id = $1) as rules,
                (select count(*)::int from public.alert_instances where project_id = $1) as instances,
                (select count(*)::int from public.alert_transitions where project_id = $1) as transitions`,
        [t.projectA],
      )
    )[0]!;

  beforeAll(async () => {
    env = (await createTestEnv({ fakeTime: END })) as TestEnv & { clock: FakeClock };
    t = await createTenant(env);
    const metrics = [];
    for (let at = end - 45 * MIN; at < end; at += 15 * S) {
      for (const host of ['a', 'b']) {
        const v = value(host, at);
        if (v !== null) metrics.push({ name: 'cpu.busy', value: v, timestamp: iso(at), tags: { host } });
      }
    }
    const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { metrics } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: metrics.length, rejected: 0 });
    await env.deps.settle();
    expect((await runJob(env.deps, aggregateMetrics, { budgetMs: 60_000 })).outcome).toBe('ok');
  }, 60_000);
  afterAll(async () => env?.close());

  it('shows what the evaluate-alerts job then does over the same data, step by step, and writes nothing', async () => {
    const from = end - 30 * MIN;
    const before = await counts();
    const res = await api('POST', '/rules/preview', { projectId: t.projectA, rule: RULE, from: iso(from), to: END }, t.people.viewer.jwt);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const preview = res.body.preview;
    expect(await counts()).toEqual(before);

    // (from, to] at the rule's 1m interval: 11:31 .. 12:00.
    expect(preview.steps).toHaveLength(30);
    expect(preview.steps[0]).toBe(iso(from + MIN));
    expect(preview.steps.at(-1)).toBe(END);
    expect(preview.interval).toBe('1m');
    // The window is the 2 minutes ending with the evaluation's minute. Host a: [11:38, 11:40) is all
    // spike at 11:39 (pending), fires 2m later at 11:41, clears at 11:46 ([11:45, 11:47) averages
    // 52.5). Host b reaches the warning at 11:51 and 11:52 only: pending, then dropped at 11:53.
    const a = preview.series.find((s: { labels: Record<string, string> }) => s.labels.host === 'a');
    const b = preview.series.find((s: { labels: Record<string, string> }) => s.labels.host === 'b');
    expect(a.labels).toEqual({ alertname: 'CpuBusy', team: 'infra', host: 'a', severity: 'critical' });
    expect(a.values[preview.steps.indexOf(iso(end - 20 * MIN))]).toBe(95); // 11:40
    expect(a.values[0]).toBe(10);
    expect(b.values.at(-1)).toBeNull(); // silent since 11:57
    const at = (hhmm: string) => `2026-06-01T${hhmm}:00.000Z`;
    expect(preview.transitions.map((x: { labels: Record<string, string>; from: string; to: string; at: string; severity: string }) => [x.labels.host, x.from, x.to, x.at, x.severity])).toEqual([
      ['a', 'inactive', 'pending', at('11:39'), 'critical'],
      ['a', 'pending', 'firing', at('11:41'), 'critical'],
      ['a', 'firing', 'resolved', at('11:46'), 'critical'],
      ['b', 'inactive', 'pending', at('11:51'), 'warning'],
      ['b', 'pending', 'inactive', at('11:53'), 'warning'],
    ]);
    expect(preview.summary).toEqual({ evaluations: 30, series: 2, fired: 1, resolved: 1, notifications: 2, overCap: 0, activeAtEnd: 0 });

    // The engine over the same times: the rule created at 11:30 is due at every minute from 11:31.
    env.clock.set(iso(from));
    const created = await api('POST', '/rules', { projectId: t.projectA, rule: RULE });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const ruleId = created.body.rule.id as string;
    const engineStates: Record<string, string[]> = { a: [], b: [] };
    for (const step of preview.steps as string[]) {
      env.clock.set(step);
      const run = await runJob(env.deps, evaluateAlerts, { budgetMs: 60_000 });
      expect(run.outcome, run.error ?? '').toBe('ok');
      expect(run.summary).toMatchObject({ rules: 1, failed: 0 });
      const rows = await env.db.query<{ host: string; state: string }>(
        `select labels ->> 'host' as host, state from public.alert_instances where rule_id = $1`,
        [ruleId],
      );
      for (const host of ['a', 'b']) engineStates[host]!.push(rows.find((r) => r.host === host)?.state ?? 'inactive');
    }
    expect(a.states).toEqual(engineStates.a);
    expect(b.states).toEqual(engineStates.b);

    const stored = await env.db.query<{ labels: Record<string, string>; from_state: string; to_state: string; at: Date; severity: string; value: number | null; threshold: number | null; reason: string }>(
      `select labels, from_state, to_state, at, severity, value, threshold, reason from public.alert_transitions where rule_id = $1 order by id`,
      [ruleId],
    );
    expect(preview.transitions).toEqual(
      stored.map((r) => ({ labels: r.labels, from: r.from_state, to: r.to_state, at: iso(new Date(r.at).getTime()), severity: r.severity, value: r.value, threshold: r.threshold, reason: r.reason })),
    );
    env.clock.set(END);
  }, 120_000);

  it('evaluates the last 24 hours by default, ending now', async () => {
    env.clock.set(iso(end + 30 * S)); // not on the minute: the last evaluation is 12:00
    const res = await api('POST', '/rules/preview', { projectId: t.projectA, rule: { ...RULE, key: 'daily', interval: '10m' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.preview.steps).toHaveLength(144);
    expect(res.body.preview.to).toBe(END);
    expect(res.body.preview.from).toBe(iso(end - 24 * 60 * MIN + 10 * MIN));
    env.clock.set(END);
  }, 60_000);

  it('refuses, naming the field: too many evaluations, a future end, a reversed range, anomaly rules, a bad rule', async () => {
    const body = (over: Record<string, unknown>) => ({ projectId: t.projectA, rule: RULE, ...over });
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      // Two days at 1m: 2880 evaluations.
      [{ from: iso(end - 48 * 60 * MIN), to: END }, 'body.from', /2880 evaluations.*at most 1440/],
      [{ to: iso(end + MIN) }, 'body.to', /future/],
      [{ from: END, to: iso(end - MIN) }, 'from', /before to/],
      [{ rule: { key: 'an', name: 'An', kind: 'anomaly', query: {} } }, 'body.rule.kind', /cannot be previewed/],
      [{ rule: { ...RULE, condition: { op: '>' } } }, 'rule.condition', /critical or a warning/],
    ];
    for (const [over, field, message] of cases) {
      const res = await api('POST', '/rules/preview', body(over));
      expect(res.status, JSON.stringify(over)).toBe(400);
      const detail = (res.body.error.details as Array<{ field: string; message: string }>).find((d) => d.field.includes(field));
      expect(detail, JSON.stringify(res.body)).toBeDefined();
      expect(detail!.message).toMatch(message);
    }
  });

  it("answers 404 for a project the caller cannot see", async () => {
    const res = await api('POST', '/rules/preview', { projectId: t.projectA, rule: RULE, from: iso(end - 10 * MIN), to: END }, t.people.outsider.jwt);
    expect(res.status).toBe(404);
  });
});
