/**
 * An anomaly alert rule end to end: points sent through ingest with a level shift, rolled up and
 * scanned by the anomaly detector; the rule follows the open episode (matching metric, tags and
 * minimum score), fires with the episode's score as its value, routes to a real local receiver, and
 * resolves once the episode closes. A rule whose minimum score the episode does not reach, or whose
 * tags it does not have, stays quiet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchTick } from '../../src/alerts/dispatch-notifications.ts';
import { evaluateAlerts } from '../../src/alerts/evaluate-alerts.ts';
import type { Notification } from '../../src/alerts/model.ts';
import { detectAnomalies } from '../../src/anomalies/detect-anomalies.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { runJob } from '../../src/jobs/run-job.ts';
import { aggregateMetrics } from '../../src/metrics/aggregate-metrics.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { rng } from '../helpers/random.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const MIN = 60_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const START = NOW - 3 * 3_600_000;
const SHIFT = NOW - 40 * MIN;

describe('anomaly alert rules', () => {
  let env: TestEnv & { clock: FakeClock };
  let t: Tenant;
  let hook: Receiver;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await env.request(method, `/functions/v1/alerts${path}`, { token: t.people.owner.jwt, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const send = async (points: unknown[]) => {
    for (let i = 0; i < points.length; i += 5000) {
      const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { metrics: points.slice(i, i + 5000) } });
      expect(res.status).toBe(200);
    }
  };
  const jobs = async () => {
    await env.deps.settle();
    for (const job of [aggregateMetrics, detectAnomalies, evaluateAlerts]) {
      const run = await runJob(env.deps, job, { budgetMs: 120_000 });
      expect(run.outcome, `${job.name}: ${run.error}`).toBe('ok');
    }
  };
  const instances = async (ruleId: string) => (await api('GET', `/instances?projectId=${t.projectA}&ruleId=${ruleId}`)).body.instances;
  const rule = async (key: string, query: Record<string, unknown>) => {
    const res = await api('POST', '/rules', { projectId: t.projectA, rule: { key, name: key, kind: 'anomaly', severity: 'warning', query } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.rule.id as string;
  };

  beforeAll(async () => {
    hook = await startReceiver();
    env = (await createTestEnv({
      fakeTime: new Date(NOW).toISOString(),
      env: { OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${hook.port}` },
    })) as typeof env;
    t = await createTenant(env);
    expect((await api('POST', '/contact-points', { projectId: t.projectA, name: 'ops', kind: 'alertmanager', settings: { url: `${hook.url}/am` } })).status).toBe(201);
    const policy = await api('PUT', '/policy', { projectId: t.projectA, policy: { route: { receiver: 'ops', group_by: ['alertname'], group_wait: '0s', group_interval: '1m' } } });
    expect(policy.status, JSON.stringify(policy.body)).toBe(200);
    const r = rng(7);
    const noise = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const points: unknown[] = [];
    for (let ts = START; ts < NOW - 10 * MIN; ts += MIN) {
      points.push({ name: 'cpu', value: 50 + noise() + (ts >= SHIFT ? 15 : 0), timestamp: ts + 30_000, tags: { service: 'checkout', host: 'a' } });
    }
    await send(points);
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    await hook?.close();
  });

  it('fires on an open episode of the metric, notifies, and resolves when the episode closes', async () => {
    const matching = await rule('cpu-anomaly', { metric: 'cpu', tags: { service: 'checkout' }, minScore: 0.5 });
    const otherTags = await rule('billing-anomaly', { metric: 'cpu', tags: { service: 'billing' } });
    const tooHigh = await rule('huge-anomaly', { metric: 'cpu', minScore: 1000 });
    await jobs();
    const [firing] = await instances(matching);
    expect(firing).toMatchObject({ state: 'firing', severity: 'warning', labels: { alertname: 'cpu-anomaly', metric: 'cpu', service: 'checkout', host: 'a' } });
    expect(firing.value).toBeGreaterThanOrEqual(0.5);
    expect(firing.reason).toMatch(/^anomaly in cpu \(score /);
    expect(await instances(otherTags)).toEqual([]);
    expect(await instances(tooHigh)).toEqual([]);

    await dispatchTick(env.deps);
    await dispatchTick(env.deps);
    expect(hook.received).toHaveLength(1);
    const sent = JSON.parse(hook.received[0]!.body) as Notification & { version: string; alerts: Array<{ status: string; labels: Record<string, string> }> };
    expect(sent.version).toBe('4');
    expect(sent.alerts.map((a) => [a.status, a.labels.alertname])).toEqual([['firing', 'cpu-anomaly']]);

    // The level returns to normal: the episode closes after its recovery minutes, and the alert resolves.
    const back: unknown[] = [];
    for (let ts = NOW - 10 * MIN; ts < NOW + 20 * MIN; ts += MIN) back.push({ name: 'cpu', value: 50, timestamp: ts + 30_000, tags: { service: 'checkout', host: 'a' } });
    await send(back);
    env.clock.advance(22 * MIN);
    await jobs();
    expect((await instances(matching))[0]).toMatchObject({ state: 'resolved' });
    env.clock.advance(MIN);
    await dispatchTick(env.deps);
    expect(hook.received).toHaveLength(2);
    expect((JSON.parse(hook.received[1]!.body) as { status: string }).status).toBe('resolved');
  }, 120_000);
});
