/**
 * The Alerts and Anomalies pages in Chromium against a live gateway, with data sent through ingest:
 * a threshold rule made in the editor (the API's validation error shown at the field it names), its
 * preview firing over the spike that was sent, the rule listed; the rule firing for a host that runs
 * hot now, arriving in the page through the alert stream; a silence made from it, seen through the
 * API, and expired; an anomaly episode found by the rollup and detect-anomalies jobs, drawn with its expected
 * band, and "not an anomaly" feedback given in the page and stored (read back through the API). A
 * viewer sees none of the write controls. axe and a screenshot on each page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertLink } from '../../../src/core/dashboard-links.ts';
import { rng } from '../../helpers/random.ts';
import { expectAccessible, ingest, runJob, screenshot, startDashboard, type DashboardEnv } from './browser.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers, checked field by field

const MIN = 60_000;
const SLOW = { timeout: 60_000, interval: 200 };

describe('dashboard: alerts and anomalies', () => {
  let env: DashboardEnv;
  // The last whole minute: the series below end there.
  const end = Math.floor(Date.now() / MIN) * MIN;
  const call = async (method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${env.gateway.url}/functions/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token ?? env.gateway.demo.ownerJwt}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  };

  beforeAll(async () => {
    env = await startDashboard();
    const r = rng(11);
    const noise = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const metrics: unknown[] = [];
    // e2e.cpu on host web-1: 20 with a spike to 97 from 30 to 24 minutes ago (a threshold rule's firing).
    // e2e.latency: three hours of noise around 100 ms, then a jump to 160 ms for the last 20 minutes (an anomaly).
    for (let i = 180; i >= 1; i--) {
      const t = end - i * MIN + 30_000;
      if (i <= 55) metrics.push({ name: 'e2e.cpu', type: 'gauge', value: i <= 30 && i > 24 ? 97 : 20, timestamp: t, tags: { host: 'web-1' } });
      metrics.push({ name: 'e2e.latency', type: 'gauge', value: 100 + 2 * noise() + (i <= 20 ? 60 : 0), timestamp: t, tags: { service: 'checkout' } });
    }
    await ingest(env.gateway, { metrics });
    await runJob(env.gateway, 'aggregate-metrics');
    await runJob(env.gateway, 'detect-anomalies');
  }, 240_000);
  afterAll(async () => env?.stop());

  it('creates a threshold rule in the editor, previews its firing over the last hour, and lists it', async () => {
    const page = await env.signedIn('/alerts/?tab=rules');
    await page.getByRole('button', { name: 'New rule' }).click();
    await page.getByLabel('Name', { exact: true }).fill('E2eCpuHigh');
    await page.getByLabel('Key', { exact: true }).fill('e2e-cpu-high');
    await page.getByLabel('Metric', { exact: true }).fill('e2e.cpu');
    await page.getByLabel('Group by (tags, comma-separated)').fill('host');
    await page.getByLabel('Window', { exact: true }).fill('2 minutes');
    await page.getByLabel('Critical').fill('90');
    await page.getByLabel('Labels (k=v, …)').fill('team=infra');

    // A duration the API refuses: its message under the Window field, which is marked invalid.
    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => page.getByTestId('error-query.window').textContent(), SLOW).toMatch(/duration/i);
    expect(await page.getByLabel('Window', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Window', { exact: true }).fill('2m');

    // The preview over the last hour: the spike, 30 to 24 minutes ago, fires once and resolves.
    await page.getByLabel('Over').selectOption('1h');
    await page.getByRole('button', { name: 'Preview rule' }).click();
    const summary = page.getByTestId('preview-summary');
    await expect.poll(() => summary.getAttribute('data-fired'), SLOW).toBe('1');
    expect(await summary.getAttribute('data-resolved')).toBe('1');
    expect(await summary.getAttribute('data-notifications')).toBe('2');
    const changes = await page.getByTestId('preview-transitions').locator('tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.to));
    expect(changes).toEqual(['firing', 'resolved']);
    // What the page drew is the API's own preview of the same rule.
    const api = await call('POST', '/alerts/rules/preview', {
      projectId: env.gateway.demo.projectId,
      rule: { key: 'e2e-cpu-high', name: 'E2eCpuHigh', kind: 'metric', query: { metric: 'e2e.cpu', groupBy: ['host'], window: '2m' }, condition: { op: '>', critical: 90 }, labels: { team: 'infra' } },
      from: new Date(end - 60 * MIN).toISOString(),
    });
    expect(api.status, JSON.stringify(api.body)).toBe(200);
    const firing = api.body.preview.transitions.find((t: Json) => t.to === 'firing');
    expect(firing).toMatchObject({ labels: { alertname: 'E2eCpuHigh', host: 'web-1', team: 'infra', severity: 'critical' }, value: 97, threshold: 90 });
    expect(await page.getByTestId('preview-transitions').locator('tbody tr[data-to=firing]').textContent()).toContain('97');
    await expectAccessible(page, 'alerts-rule-editor');
    await screenshot(page, 'alerts-rule-editor');

    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent(), SLOW).toContain('Rule E2eCpuHigh created');
    await expect.poll(() => page.locator('tr[data-rule="e2e-cpu-high"]').count(), SLOW).toBe(1);
    const rules = await call('GET', `/alerts/rules?projectId=${env.gateway.demo.projectId}`);
    expect(rules.body.rules.map((x: Json) => [x.key, x.name, x.kind, x.query.window, x.condition])).toEqual([['e2e-cpu-high', 'E2eCpuHigh', 'metric', '2m', { op: '>', critical: 90 }]]);
    await expectAccessible(page, 'alerts-rules');
    await screenshot(page, 'alerts-rules');
    await page.close();
  }, 180_000);

  it('shows a firing alert arriving live, silences it with matchers and a duration (seen through the API), and expires the silence', async () => {
    const page = await env.signedIn('/alerts/');
    await expect.poll(() => page.getByTestId('alert-stream').textContent(), SLOW).toMatch(/^Live/);
    const row = page.locator('tr[data-alertname="E2eCpuHigh"]');
    expect(await row.count()).toBe(0);
    // web-2 runs hot now: the rule (due since it was made) fires for it at the evaluator's next run.
    const now = Date.now();
    await ingest(env.gateway, { metrics: [now - 60_000, now - 5_000].map((timestamp) => ({ name: 'e2e.cpu', type: 'gauge', value: 98, timestamp, tags: { host: 'web-2' } })) });
    await runJob(env.gateway, 'aggregate-metrics');
    await runJob(env.gateway, 'evaluate-alerts');
    // No reload: the alert stream's transition brings it in.
    await expect.poll(() => row.getAttribute('data-state'), SLOW).toBe('firing');
    expect(await page.getByTestId('alert-stream').textContent()).toMatch(/1 update/);
    const { body: listed } = await call('GET', `/alerts/instances?projectId=${env.gateway.demo.projectId}&state=firing`);
    expect(listed.instances.map((i: Json) => [i.labels.alertname, i.labels.host, i.state, i.value])).toEqual([['E2eCpuHigh', 'web-2', 'firing', 98]]);
    expect(await row.textContent()).toContain('web-2');
    expect(await row.textContent()).toContain('98');
    await expectAccessible(page, 'alerts-instances');
    await screenshot(page, 'alerts-instances');

    // The link a notification carries for this alert (DASHBOARD_URL set), followed by a signed-out
    // reader: signed in, the Alerts page of the alert's project with its row marked.
    const fingerprint = listed.instances[0].fingerprint as string;
    const linked = await env.followLink(alertLink(env.gateway.url, env.gateway.demo.projectId, fingerprint));
    const linkedRow = linked.locator('tr[data-linked="true"]');
    await expect.poll(() => linkedRow.getAttribute('data-alertname'), SLOW).toBe('E2eCpuHigh');
    expect(await linkedRow.getAttribute('aria-current')).toBe('true');
    expect(await linked.getByTestId('linked-gone').count()).toBe(0);
    expect(new URL(linked.url()).searchParams.get('alert')).toBe(fingerprint);
    // An alert that is no longer listed: the page says so instead of marking nothing silently.
    await linked.goto(alertLink(env.gateway.url, env.gateway.demo.projectId, '0123456789abcdef'));
    await expect.poll(() => linked.getByTestId('linked-gone').count(), SLOW).toBe(1);
    expect(await linked.locator('tr[data-linked="true"]').count()).toBe(0);
    await linked.context().close();

    // Silence… on the alert: the silences tab with its labels as matchers.
    await row.getByRole('button', { name: 'Silence E2eCpuHigh' }).click();
    await expect.poll(() => page.getByRole('tab', { name: 'Silences' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByLabel('Matchers (one per line)').inputValue()).toContain('alertname="E2eCpuHigh"');
    await page.getByLabel('Matchers (one per line)').fill('alertname="E2eCpuHigh"\nhost=~"web-.*"');
    await page.getByLabel('Duration').selectOption({ label: '4 hours' });
    await page.getByLabel('Comment').fill('e2e maintenance');
    const before = Date.now();
    await page.getByRole('button', { name: 'Create silence' }).click();
    const silenced = page.locator('tr[data-comment="e2e maintenance"]');
    await expect.poll(() => silenced.getAttribute('data-state'), SLOW).toBe('active');
    const { body } = await call('GET', `/alerts/silences?projectId=${env.gateway.demo.projectId}`);
    const silence = body.silences.find((s: Json) => s.comment === 'e2e maintenance');
    expect(silence).toMatchObject({ state: 'active', matchers: ['alertname="E2eCpuHigh"', 'host=~"web-.*"'] });
    const hours = (Date.parse(silence.endsAt) - before) / 3_600_000;
    expect(hours).toBeGreaterThan(3.99);
    expect(hours).toBeLessThan(4.01);
    await expectAccessible(page, 'alerts-silences');
    await screenshot(page, 'alerts-silences');

    await page.getByRole('button', { name: 'Expire silence: e2e maintenance' }).click();
    await expect.poll(() => silenced.getAttribute('data-state'), SLOW).toBe('expired');
    expect((await call('GET', `/alerts/silences/${silence.id}`)).body.silence.state).toBe('expired');

    await page.getByRole('tab', { name: 'History' }).click();
    const history = page.getByTestId('history').locator('tbody tr[data-alertname="E2eCpuHigh"]');
    await expect.poll(() => history.count(), SLOW).toBe(1);
    expect(await history.getAttribute('data-to')).toBe('firing');
    await page.close();
  }, 120_000);

  it('shows the anomaly episode with its expected band, and stores "not an anomaly" feedback', async () => {
    const episodes = await call('GET', `/anomalies/episodes?projectId=${env.gateway.demo.projectId}&metric=e2e.latency`);
    expect(episodes.status).toBe(200);
    expect(episodes.body.episodes.length).toBeGreaterThanOrEqual(1);
    const episode = episodes.body.episodes[0] as Json;
    expect(episode.tags).toEqual({ service: 'checkout' });
    const detail = (await call('GET', `/anomalies/episodes/${episode.id}`)).body.episode as Json;

    const page = await env.signedIn('/anomalies/');
    const row = page.locator(`tr[data-episode="${episode.id}"]`);
    await expect.poll(() => row.count(), SLOW).toBe(1);
    await row.getByRole('button', { name: 'e2e.latency' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('episode')).toBe(episode.id);
    const chart = page.getByTestId('chart');
    await expect.poll(() => chart.getAttribute('data-series'), SLOW).toBe('2');
    // The values drawn are the API's snippet; the band is the episode's expected range over its span.
    await page.getByRole('button', { name: 'Show as table' }).click();
    const drawn = await page.getByTestId('chart-table').locator('tbody tr').evaluateAll((rows) =>
      rows.map((r) => [(r as HTMLElement).dataset.series, Number((r as HTMLElement).dataset.time), (r as HTMLElement).dataset.value === '' ? null : Number((r as HTMLElement).dataset.value)]),
    );
    const avg = drawn.filter(([s]) => String(s).endsWith('(1m avg)')).map(([, t, v]) => [t, v]);
    expect(avg).toEqual(detail.series.points.map((p: number[]) => [p[0], p[1]]));
    expect(avg.length).toBeGreaterThan(20);
    const span = drawn.filter(([s, , v]) => s === 'anomalous span' && v !== null);
    expect(span.length).toBeGreaterThan(0);
    expect(Math.min(...span.map(([, t]) => t as number))).toBeGreaterThanOrEqual(Date.parse(detail.startedAt));
    expect(detail.band.lower === null && detail.band.upper === null).toBe(false);
    expect(await page.locator('.u-over').count()).toBe(1);
    expect(await page.getByTestId('expected').textContent()).toContain('range');
    expect(await page.getByTestId('feedback').textContent()).toBe('none yet');
    await expectAccessible(page, 'anomalies');
    await screenshot(page, 'anomalies');

    await page.getByRole('button', { name: 'Not an anomaly' }).click();
    await expect.poll(() => page.getByTestId('feedback').textContent(), SLOW).toBe('marked not an anomaly');
    expect(await page.getByRole('button', { name: 'Not an anomaly' }).isDisabled()).toBe(true);
    expect((await call('GET', `/anomalies/episodes/${episode.id}`)).body.episode.feedback).toBe('not_anomaly');

    // The metric's detector configuration, made in the page (an owner), seen through the API, then changed.
    const form = page.locator('#an-cfg-form');
    await form.getByLabel('Metric', { exact: true }).fill('e2e.latency');
    await form.getByLabel(/^Series filter/).fill('service=checkout, region eu');
    await form.getByRole('button', { name: 'Save configuration' }).click();
    await expect.poll(() => form.getByTestId('config-error').textContent(), SLOW).toContain('"region eu"');
    await form.getByLabel(/^Series filter/).fill('service=checkout');
    await form.getByLabel('Sensitivity').selectOption('high');
    await form.getByLabel('Direction').selectOption('up');
    await form.getByLabel("Minimum change (in the metric's unit)").fill('5');
    await form.getByLabel('Minimum relative change (%)').fill('10');
    await form.getByRole('button', { name: 'Save configuration' }).click();
    await expect.poll(() => form.getByRole('status').textContent(), SLOW).toContain('Saved e2e.latency (service=checkout)');
    await expect.poll(() => page.getByTestId('configs').locator('tr[data-metric="e2e.latency"]').count(), SLOW).toBe(1);
    const configsNow = async () => ((await call('GET', `/anomalies/configs?projectId=${env.gateway.demo.projectId}&metric=e2e.latency`)).body.configs as Json[]);
    expect(await configsNow()).toEqual([
      expect.objectContaining({ metric: 'e2e.latency', filter: { service: 'checkout' }, enabled: true, config: expect.objectContaining({ detector: 'onset', sensitivity: 'high', direction: 'up', minAbsDeviation: 5, minRelDeviation: 0.1 }) }),
    ]);
    await expectAccessible(page, 'anomalies-configs');
    await screenshot(page, 'anomalies-configs');
    await page.getByRole('button', { name: 'Edit the configuration of e2e.latency' }).click();
    expect(await form.getByLabel('Metric', { exact: true }).inputValue()).toBe('e2e.latency');
    expect(await form.getByLabel('Sensitivity').inputValue()).toBe('high');
    await form.getByLabel('Sensitivity').selectOption('low');
    await form.getByRole('button', { name: 'Save configuration' }).click();
    await expect.poll(async () => (await configsNow()).map((c) => c.config.sensitivity), SLOW).toEqual(['low']);
    expect((await configsNow())[0]!.config).toMatchObject({ direction: 'up', minAbsDeviation: 5 });
    await page.close();
  }, 120_000);
  it('shows a viewer the rules, silences and episodes without create, edit, delete, expire or feedback controls', async () => {
    const { demo } = env.gateway;
    const viewer = { email: `viewer-${Date.now()}@example.com`, password: 'viewer passphrase 7' };
    // An account through the Auth stand-in's admin API (as supabase.auth.admin.createUser), invited as a viewer.
    const auth = (path: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${env.gateway.url}/auth/v1${path}`, { method: 'POST', headers: { apikey: demo.anonKey, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const made = await auth('/admin/users', { authorization: `Bearer ${demo.serviceToken}` }, { ...viewer, email_confirm: true });
    expect(made.status, await made.clone().text()).toBe(200);
    const invited = await call('POST', `/orgs/${demo.organizationId}/invitations`, { email: viewer.email, role: 'viewer' });
    expect(invited.status, JSON.stringify(invited.body)).toBe(201);
    const session = (await (await auth('/token?grant_type=password', {}, viewer)).json()) as Json;
    const accepted = await call('POST', '/orgs/invitations/accept', { token: invited.body.token }, session.access_token);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);

    const page = await env.signedIn('/alerts/?tab=rules', viewer);
    await expect.poll(() => page.getByTestId('role').textContent(), SLOW).toBe('viewer');
    await expect.poll(() => page.locator('tr[data-rule="e2e-cpu-high"]').count(), SLOW).toBe(1);
    expect(await page.getByRole('button', { name: 'New rule' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Edit|Delete) / }).count()).toBe(0);
    await page.getByRole('tab', { name: 'Silences' }).click();
    await expect.poll(() => page.getByTestId('silences').locator('tbody tr[data-state]').count(), SLOW).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Create silence' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Expire/ }).count()).toBe(0);
    // The API refuses a viewer's write anyway.
    expect((await call('POST', '/alerts/silences', { projectId: demo.projectId, matchers: ['a="b"'], endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: 'x' }, session.access_token)).status).toBe(403);
    await page.goto(`${env.gateway.url}/anomalies/`);
    await expect.poll(() => page.getByTestId('episodes').locator('tbody tr[data-episode]').count(), SLOW).toBeGreaterThan(0);
    await page.getByTestId('episodes').getByRole('button').first().click();
    await expect.poll(() => page.getByTestId('feedback').count(), SLOW).toBe(1);
    expect(await page.getByRole('button', { name: 'Not an anomaly' }).count()).toBe(0);
    // The configurations are listed, without the form or the edit buttons (owners and admins only).
    await expect.poll(() => page.getByTestId('configs').locator('tr[data-metric="e2e.latency"]').count(), SLOW).toBe(1);
    expect(await page.getByRole('button', { name: 'Save configuration' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Edit the configuration/ }).count()).toBe(0);
    await page.close();
  }, 120_000);
});
