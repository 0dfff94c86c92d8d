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
import { dispatchTick, STORM_CAP_PER_MINUTE } from '../../src/alerts/dispatch-notifications.ts';
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
      env: { OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${hook.port},127.0.0.1:${other.port}`, SECRET_ENCRYPTION_KEY: KEY, DASHBOARD_URL: 'https://hub.example.test' },
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
    // The alert's link into the dashboard (DASHBOARD_URL; the dashboard test follows one in Chromium).
    const fp = firing.body.instances[0].fingerprint as string;
    expect(verified.data.alerts[0]!.url).toBe(`https://hub.example.test/alerts/?project=${t.projectA}&alert=${fp}`);
    expect(verified.data.externalUrl).toBe('https://hub.example.test');

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

  /** Alerts sent as Prometheus sends them: the Alertmanager API v2 with the project's ingest key. */
  const post = async (alerts: Array<{ labels: Record<string, string>; endsAt?: string; annotations?: Record<string, string> }>) => {
    const res = await env.request('POST', '/functions/v1/alerts/api/v2/alerts', { headers: { authorization: `Bearer ${t.keyA.secret}` }, body: alerts });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const inMinutes = (m: number) => new Date(env.clock.now().getTime() + m * MIN).toISOString();
  const statuses = async () =>
    ((await api('GET', `/notifications?projectId=${t.projectA}&limit=100`)).body.notifications as Array<{ id: string; status: string; receiver: string; attempts: number; nextAttemptAt: string; lastStatus: number | null }>);

  it('a silence that begins after the firing notice does not swallow the resolved notice; a silenced alert never notifies', async () => {
    await post([{ labels: { alertname: 'DiskFull', host: 'x' }, endsAt: inMinutes(10) }]);
    await tick();
    env.clock.advance(30 * S);
    await tick();
    expect(bodies(hook).map((b) => b.type)).toEqual(['alert.firing']);
    const silence = await api('POST', '/silences', { projectId: t.projectA, matchers: ['alertname="DiskFull"'], endsAt: inMinutes(60), comment: 'disk cleanup running' });
    expect(silence.status, JSON.stringify(silence.body)).toBe(201);
    // While silenced: another host's alert is not told, and x's re-sends change nothing.
    await post([
      { labels: { alertname: 'DiskFull', host: 'x' }, endsAt: inMinutes(10) },
      { labels: { alertname: 'DiskFull', host: 'y' }, endsAt: inMinutes(10) },
    ]);
    env.clock.advance(MIN);
    await tick();
    expect(hook.received).toHaveLength(1);
    // x resolves during the silence: its resolved notice still goes out (Alertmanager would drop it).
    await post([{ labels: { alertname: 'DiskFull', host: 'x' }, endsAt: inMinutes(-0.01) }]);
    env.clock.advance(MIN);
    await tick();
    expect(hook.received).toHaveLength(2);
    const resolved = bodies(hook)[1]!;
    expect(resolved.type).toBe('alert.resolved');
    expect(resolved.data.alerts.map((a) => [a.labels.host, a.status])).toEqual([['x', 'resolved']]);
    // y resolves while silenced: it was never told firing, so no resolved notice either.
    await post([{ labels: { alertname: 'DiskFull', host: 'y' }, endsAt: inMinutes(-0.01) }]);
    env.clock.advance(2 * MIN);
    await tick();
    expect(hook.received).toHaveLength(2);
    expect((await api('DELETE', `/silences/${silence.body.silence.id}`)).status).toBe(200);
  });

  it('retries a receiver that answers 500, then 429 with Retry-After, and records every attempt', async () => {
    hook.queue = [{ status: 500, body: 'boom' }, { status: 429, headers: { 'retry-after': '7' }, body: 'slow down' }];
    await post([{ labels: { alertname: 'Retried' }, endsAt: inMinutes(30) }]);
    await tick();
    env.clock.advance(30 * S);
    await tick();
    expect(hook.received).toHaveLength(1);
    let [n] = (await statuses()).filter((x) => x.receiver === 'ops');
    expect(n).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 500 });
    // The second attempt is due about 5 s later (jittered by 20 %): not before 4 s.
    env.clock.advance(3 * S);
    await tick();
    expect(hook.received).toHaveLength(1);
    env.clock.advance(3 * S);
    await tick();
    expect(hook.received).toHaveLength(2);
    [n] = (await statuses()).filter((x) => x.id === n!.id);
    expect(n).toMatchObject({ status: 'pending', attempts: 2, lastStatus: 429 });
    // Retry-After: 7 beats the schedule's 30 s? No: the later of the two wins, never earlier than asked.
    expect(Date.parse(n!.nextAttemptAt) - env.clock.now().getTime()).toBeGreaterThanOrEqual(7 * S);
    env.clock.advance(40 * S);
    await tick();
    expect(hook.received).toHaveLength(3);
    // The same notification each time: one webhook-id, the receiver's idempotency key.
    expect(new Set(hook.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const detail = await api('GET', `/notifications/${n!.id}`);
    expect(detail.body.notification.status).toBe('sent');
    expect(detail.body.notification.attemptLog.map((a: { ok: boolean; statusCode: number }) => [a.ok, a.statusCode])).toEqual([
      [false, 500],
      [false, 429],
      [true, 200],
    ]);
    await post([{ labels: { alertname: 'Retried' }, endsAt: inMinutes(-0.01) }]);
  });

  it('a receiver that hangs holds up only itself: another contact point is told, and recorded, meanwhile', async () => {
    other.fallback = { status: 200, body: 'late', delayMs: 60_000 };
    await post([
      { labels: { alertname: 'Isolated', team: 'db' }, endsAt: inMinutes(30) },
      { labels: { alertname: 'Isolated', team: 'web' }, endsAt: inMinutes(30) },
    ]);
    await tick();
    env.clock.advance(30 * S);
    const started = Date.now();
    const ticking = tick();
    await hook.waitFor(1);
    // The fast receiver's answer is on record before the hanging one's request has timed out.
    await expect.poll(async () => (await statuses()).find((x) => x.receiver === 'ops' && x.status === 'sent'), { timeout: 5000 }).toBeTruthy();
    expect(Date.now() - started).toBeLessThan(9000);
    await ticking;
    const team = (await statuses()).find((x) => x.receiver === 'team')!;
    expect(team).toMatchObject({ status: 'pending', attempts: 1 });
    other.fallback = { status: 200, body: 'ok' };
    await post([
      { labels: { alertname: 'Isolated', team: 'db' }, endsAt: inMinutes(-0.01) },
      { labels: { alertname: 'Isolated', team: 'web' }, endsAt: inMinutes(-0.01) },
    ]);
  }, 30_000);

  it('two dispatchers ticking at once create and send each notification once', async () => {
    await post([{ labels: { alertname: 'Twice' }, endsAt: inMinutes(30) }]);
    await tick();
    env.clock.advance(30 * S);
    await Promise.all([tick(), tick(), tick()]);
    expect(hook.received).toHaveLength(1);
    const rows = await env.db.query(`select 1 from public.alert_notifications where project_id = $1 and payload -> 'commonLabels' ->> 'alertname' = 'Twice'`, [t.projectA]);
    expect(rows).toHaveLength(1);
    await post([{ labels: { alertname: 'Twice' }, endsAt: inMinutes(-0.01) }]);
  });

  it('a no-data rule fires when a heartbeat stops and resolves when it comes back', async () => {
    await send([{ name: 'heartbeat', value: 1, tags: { job: 'backup' } }]);
    const rule = await api('POST', '/rules', {
      projectId: t.projectA,
      rule: { key: 'backup-silent', name: 'BackupSilent', kind: 'nodata', query: { metric: 'heartbeat', groupBy: ['job'], window: '2m' } },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    await evaluate();
    expect((await api('GET', `/instances?projectId=${t.projectA}&ruleId=${rule.body.rule.id}`)).body.instances).toEqual([]);
    env.clock.advance(3 * MIN);
    await evaluate();
    const [instance] = (await api('GET', `/instances?projectId=${t.projectA}&ruleId=${rule.body.rule.id}`)).body.instances;
    expect(instance).toMatchObject({ state: 'firing', labels: { alertname: 'BackupSilent', job: 'backup' }, reason: 'no data for 2m' });
    await tick();
    env.clock.advance(30 * S);
    await tick();
    // (Earlier tests' resolved notices may arrive in these ticks too: only this rule's are counted.)
    const mine = () => bodies(hook).filter((b) => b.data.commonLabels.alertname === 'BackupSilent');
    expect(mine().map((b) => b.type)).toEqual(['alert.firing']);
    await send([{ name: 'heartbeat', value: 1, tags: { job: 'backup' } }]);
    env.clock.advance(MIN);
    await send([{ name: 'heartbeat', value: 1, tags: { job: 'backup' } }]);
    await evaluate();
    await tick();
    env.clock.advance(MIN);
    await tick();
    expect(mine().map((b) => b.type)).toEqual(['alert.firing', 'alert.resolved']);
    await api('DELETE', `/rules/${rule.body.rule.id}`);
  });

  it("a storm past the contact point's cap is folded into one summary, counted, never dropped", async () => {
    const names = Array.from({ length: STORM_CAP_PER_MINUTE + 5 }, (_, i) => `Storm${String(i).padStart(2, '0')}`);
    await post(names.map((alertname) => ({ labels: { alertname }, endsAt: inMinutes(30) })));
    await tick();
    env.clock.advance(30 * S);
    await tick();
    // The cap's worth one by one, then one summary for the rest.
    expect(hook.received).toHaveLength(STORM_CAP_PER_MINUTE + 1);
    const summary = bodies(hook).find((b) => b.data.folded !== undefined)!;
    expect(summary.data.folded).toBe(5);
    expect(summary.data.groupKey).toMatch(/^storm:/);
    expect(summary.data.alerts).toHaveLength(5);
    const told = new Set(bodies(hook).flatMap((b) => b.data.alerts.map((a) => a.labels.alertname)));
    expect([...told].sort()).toEqual(names);
    // Folded notifications are not written one by one: the log holds what was sent (the summary counts them).
    const logged = await env.db.query<{ status: string }>(
      `select status from public.alert_notifications where project_id = $1 and group_key like '%Storm__%' and group_key not like 'storm:%'`,
      [t.projectA],
    );
    expect(logged.map((r) => r.status)).toEqual(Array(STORM_CAP_PER_MINUTE).fill('sent'));
    // Resolutions are never folded: each group hears its own.
    await post(names.map((alertname) => ({ labels: { alertname }, endsAt: inMinutes(-0.01) })));
    hook.received.length = 0;
    env.clock.advance(MIN);
    await tick();
    await tick();
    expect(bodies(hook).filter((b) => b.type === 'alert.resolved')).toHaveLength(names.length);
  });

  it("an alert that fires again after its group ended is told again (the group key's sequence carries on)", async () => {
    for (const round of [1, 2]) {
      await post([{ labels: { alertname: 'Again' }, endsAt: inMinutes(30) }]);
      await tick();
      env.clock.advance(30 * S);
      await tick();
      await post([{ labels: { alertname: 'Again' }, endsAt: inMinutes(-0.01) }]);
      env.clock.advance(MIN);
      await tick();
      const mine = bodies(hook).filter((b) => b.data.commonLabels.alertname === 'Again');
      expect(mine.map((b) => b.type)).toEqual(round === 1 ? ['alert.firing', 'alert.resolved'] : ['alert.firing', 'alert.resolved', 'alert.firing', 'alert.resolved']);
    }
  });

  it('a notification waiting for a retry is superseded by a later one of its group: the firing notice never arrives after the resolution', async () => {
    hook.queue = [{ status: 503, body: 'unavailable' }];
    await post([{ labels: { alertname: 'Superseded' }, endsAt: inMinutes(30) }]);
    await tick();
    env.clock.advance(30 * S);
    await tick();
    expect(hook.received).toHaveLength(1);
    await post([{ labels: { alertname: 'Superseded' }, endsAt: inMinutes(-0.01) }]);
    env.clock.advance(MIN);
    await tick();
    const mine = bodies(hook).filter((b) => b.data.commonLabels.alertname === 'Superseded');
    expect(mine.map((b) => b.type)).toEqual(['alert.firing', 'alert.resolved']);
    const rows = await env.db.query<{ status: string; last_error: string | null }>(
      `select status, last_error from public.alert_notifications where project_id = $1 and group_key like '%Superseded%' order by seq`,
      [t.projectA],
    );
    expect(rows.map((r) => r.status)).toEqual(['dropped', 'sent']);
    expect(rows[0]!.last_error).toMatch(/Superseded by a later notification/);
  });

  it('disabling a rule resolves its firing instances (told as resolved); a resolution owed for longer than the retention is still told', async () => {
    const policy = await api('GET', `/policy?projectId=${t.projectA}`);
    const slow = structuredClone(policy.body.policy);
    slow.route.routes = [{ receiver: 'ops', matchers: ['alertname="SlowResolve"'], group_interval: '20m' }, ...slow.route.routes];
    expect((await api('PUT', '/policy', { projectId: t.projectA, policy: slow })).status).toBe(200);
    const rule = await api('POST', '/rules', {
      projectId: t.projectA,
      rule: { key: 'slow', name: 'SlowResolve', kind: 'metric', query: { metric: 'slowcpu', window: '5m', reducer: 'last' }, condition: { op: '>', critical: 1 } },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    await send([{ name: 'slowcpu', value: 5, tags: {} }]);
    await evaluate();
    await tick();
    env.clock.advance(30 * S);
    await tick();
    const mine = () => bodies(hook).filter((b) => b.data.commonLabels.alertname === 'SlowResolve');
    expect(mine().map((b) => b.type)).toEqual(['alert.firing']);
    // Disabled: resolved at the next evaluation, with the reason.
    const { id, ...view } = rule.body.rule;
    void view;
    const spec = (await api('GET', `/rules/export?projectId=${t.projectA}`)).body.rules.find((r: { key: string }) => r.key === 'slow');
    expect((await api('PUT', `/rules/${id}`, { rule: { ...spec, enabled: false } })).status).toBe(200);
    env.clock.advance(MIN);
    await evaluate();
    const history = (await api('GET', `/history?projectId=${t.projectA}&ruleId=${id}`)).body.transitions;
    expect(history[0]).toMatchObject({ fromState: 'firing', toState: 'resolved', reason: 'its rule was disabled' });
    // The group ticks every 20 minutes: past the 15-minute retention of resolved instances.
    for (let i = 0; i < 21; i++) {
      env.clock.advance(MIN);
      await evaluate();
      await tick();
    }
    expect(mine().map((b) => b.type)).toEqual(['alert.firing', 'alert.resolved']);
    expect((await api('PUT', '/policy', { projectId: t.projectA, policy: policy.body.policy })).status).toBe(200);
    await api('DELETE', `/rules/${id}`);
  }, 60_000);

  it("a rule row written directly with a template the API would refuse fails alone: the other rules of its run are evaluated", async () => {
    const good = await api('POST', '/rules', {
      projectId: t.projectA,
      rule: { key: 'good', name: 'Good', kind: 'metric', query: { metric: 'goodcpu', window: '5m', reducer: 'last' }, condition: { op: '>', critical: 1 } },
    });
    expect(good.status, JSON.stringify(good.body)).toBe(201);
    // As the owner through the Data API would (the columns are granted): an unclosed template.
    const [bad] = await env.db.query<{ id: string }>(
      `insert into public.alert_rules (project_id, organization_id, key, name, kind, query, condition, annotations, next_eval_at)
       values ($1, $2, 'bad', 'Bad', 'metric', '{"metric": "goodcpu"}', '{"op": ">", "critical": 1}', '{"summary": "{{"}', $3) returning id`,
      [t.projectA, t.orgId, env.clock.now()],
    );
    await send([{ name: 'goodcpu', value: 5, tags: {} }]);
    const summary = await evaluate();
    expect(summary).toMatchObject({ rules: 2, failed: 1 });
    expect((await api('GET', `/instances?projectId=${t.projectA}&ruleId=${good.body.rule.id}`)).body.instances).toHaveLength(1);
    const badView = (await api('GET', `/rules/${bad!.id}`)).body.rule;
    expect(badView.health.lastError).toMatch(/annotations\.summary/);
    await api('DELETE', `/rules/${good.body.rule.id}`);
    await api('DELETE', `/rules/${bad!.id}`);
  });
});
