/**
 * Saved dashboards in Chromium: created, a chart added in the editor and another from the metrics
 * explorer, drawn with the API's values, exported as JSON and imported as a copy, and a concurrent
 * change refused as a conflict rather than lost.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, ingest, runJob, screenshot, startDashboard, type DashboardEnv } from './browser.ts';

describe('dashboard: saved dashboards', () => {
  let env: DashboardEnv;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${env.gateway.url}/functions/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${env.gateway.demo.ownerJwt}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
  };
  beforeAll(async () => {
    env = await startDashboard();
    const now = Date.now();
    const metrics = [];
    for (let i = 0; i < 30; i++) {
      for (const host of ['web-1', 'web-2']) metrics.push({ name: 'http.latency', type: 'gauge', value: (host === 'web-1' ? 100 : 200) + i, timestamp: now - (30 - i) * 60_000, tags: { host } });
    }
    await ingest(env.gateway, { metrics });
    await runJob(env.gateway, 'aggregate-metrics');
  }, 180_000);
  afterAll(async () => env?.stop());

  it('creates a dashboard, adds charts, exports it, imports the copy, and refuses a stale save', async () => {
    const page = await env.signedIn('/dashboards/');
    await page.getByLabel('Title').fill('Service health');
    await page.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => page.getByTestId('dashboard-title').textContent()).toBe('Service health');
    const id = new URL(page.url()).searchParams.get('id')!;

    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Metric', { exact: true }).selectOption('http.latency');
    await page.getByLabel('Aggregation').selectOption('max');
    await page.getByLabel('Group by (tag keys)').fill('host');
    await page.getByRole('button', { name: 'Add panel' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Saved.');
    const panel = page.getByRole('region', { name: 'http.latency max by host' });
    await expect.poll(() => panel.getByTestId('chart').getAttribute('data-series')).toBe('2');
    const stored = await api('GET', `/metrics/dashboards/${id}`);
    expect(stored.json.dashboard.panels).toMatchObject([{ kind: 'timeseries', title: 'http.latency max by host', queries: [{ metric: 'http.latency', aggregation: 'max', groupBy: ['host'] }] }]);
    // The drawn values are the API's.
    await panel.getByRole('button', { name: 'Show as table' }).click();
    const drawn = await panel.getByTestId('chart-table').locator('tbody tr[data-series="http.latency{host=web-2}"]').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.value)).filter((v) => v > 0));
    expect(Math.max(...drawn)).toBe(229);
    await expectAccessible(page, 'dashboard');
    await screenshot(page, 'dashboard');

    // From the metrics explorer.
    await page.goto(`${env.gateway.url}/metrics/?metric=http.latency&agg=avg&range=1h`);
    await page.getByRole('button', { name: 'Add to dashboard' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Added to “Service health”');
    expect((await api('GET', `/metrics/dashboards/${id}`)).json.dashboard.panels).toHaveLength(2);

    // Export, then import the file as a copy.
    await page.goto(`${env.gateway.url}/dashboards/?id=${id}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(exported).toMatchObject({ format: 'observai.dashboard', title: 'Service health' });
    expect(exported.panels).toHaveLength(2);
    expect(JSON.stringify(exported)).not.toContain(env.gateway.demo.projectId);
    await page.getByRole('button', { name: '← All dashboards' }).click();
    await page.getByLabel('Dashboard JSON').fill(JSON.stringify({ ...exported, title: 'Service health (copy)' }));
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.getByTestId('dashboard-title').textContent()).toBe('Service health (copy)');
    const list = await api('GET', `/metrics/dashboards?projectId=${env.gateway.demo.projectId}`);
    const rows = list.json.dashboards.map((d: { title: string; panelCount: number }) => [d.title, d.panelCount]);
    expect(rows).toHaveLength(2);
    expect(rows).toEqual(expect.arrayContaining([['Service health', 2], ['Service health (copy)', 2]]));
    await page.getByRole('button', { name: '← All dashboards' }).click();
    await expectAccessible(page, 'dashboards');
    await screenshot(page, 'dashboards');

    // A stale save: someone renamed it meanwhile.
    await page.goto(`${env.gateway.url}/dashboards/?id=${id}`);
    await page.getByRole('button', { name: 'Edit' }).click();
    const current = (await api('GET', `/metrics/dashboards/${id}`)).json.dashboard;
    const { id: _id, projectId: _p, panelCount: _c, createdBy: _b, canEdit: _e, createdAt: _a, updatedAt: _u, ...rest } = current;
    expect((await api('PUT', `/metrics/dashboards/${id}`, { ...rest, title: 'Renamed elsewhere' })).status).toBe(200);
    await page.getByLabel('Title', { exact: true }).fill('My title');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('main [role=alert]').textContent()).toContain('Someone else changed this dashboard');
    expect((await api('GET', `/metrics/dashboards/${id}`)).json.dashboard.title).toBe('Renamed elsewhere');
    await page.close();
  }, 180_000);
});
