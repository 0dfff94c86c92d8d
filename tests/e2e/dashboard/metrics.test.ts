/**
 * The dashboard in Chromium against a live gateway, with data sent through ingest: sign in with the
 * demo owner's password (the Auth stand-in, supabase-js), the organization and project switchers, a
 * metric panel whose drawn values are the API's, zooming by dragging across the chart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, ingest, runJob, screenshot, startDashboard, type DashboardEnv } from './browser.ts';

describe('dashboard: sign-in, switchers, metrics explorer', () => {
  let env: DashboardEnv;
  const now = Date.now() - 30_000;
  const minute = (i: number) => Math.floor(now / 60_000) * 60_000 - (50 - i) * 60_000;
  beforeAll(async () => {
    env = await startDashboard();
    const metrics = [];
    for (let i = 0; i < 50; i++) {
      for (const host of ['web-1', 'web-2']) metrics.push({ name: 'cpu.usage', type: 'gauge', value: (host === 'web-1' ? 40 : 60) + i, timestamp: minute(i) + 5_000, tags: { host } });
    }
    await ingest(env.gateway, { metrics });
    await runJob(env.gateway, 'aggregate-metrics');
  }, 180_000);
  afterAll(async () => env?.stop());

  it('sends a signed-out visitor to sign in, refuses a wrong password, and signs the owner in', async () => {
    const page = await env.browser.newPage();
    await page.goto(`${env.gateway.url}/metrics/`);
    await page.waitForURL(/\/sign-in\//);
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('Email').fill(env.gateway.demo.ownerEmail);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('form [role=alert]').textContent()).toContain('Wrong email or password');
    await page.getByLabel('Password').fill(env.gateway.demo.ownerPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/metrics\//);
    await expect.poll(() => page.getByTestId('role').textContent()).toBe('owner');
    await page.close();
  }, 90_000);

  it('draws the API values of a metric grouped by a tag, and zooms when dragged across', async () => {
    const page = await env.signedIn('/metrics/?metric=cpu.usage&agg=avg&by=host&range=1h');
    const chart = page.getByTestId('chart');
    await expect.poll(() => chart.getAttribute('data-series')).toBe('2');
    await page.getByRole('button', { name: 'Show as table' }).click();
    const drawn = await page.getByTestId('chart-table').locator('tbody tr').evaluateAll((rows) =>
      rows.map((r) => [(r as HTMLElement).dataset.series, Number((r as HTMLElement).dataset.time), (r as HTMLElement).dataset.value === '' ? null : Number((r as HTMLElement).dataset.value)]),
    );
    // The same query through the API, as the owner.
    const url = new URL(page.url());
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const res = await fetch(`${env.gateway.url}/functions/v1/metrics/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.gateway.demo.ownerJwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ projectId: env.gateway.demo.projectId, queries: [{ metric: 'cpu.usage', aggregation: 'avg', groupBy: ['host'], from, to: new Date().toISOString(), maxPoints: 1000 }] }),
    });
    const api = (await res.json()) as { results: Array<{ series: Array<{ tags: { host: string }; points: Array<[number, number | null]> }> }> };
    // The minutes with data (the two requests' ranges end at slightly different moments, so their
    // empty edges may differ by a bucket).
    const sent = (t: number) => t >= minute(10) && t <= minute(49);
    const expected = api.results[0]!.series.flatMap((s) => s.points.filter(([t]) => sent(t)).map(([t, v]) => [`cpu.usage{host=${s.tags.host}}`, t, v]));
    expect(expected).toHaveLength(80);
    const drawnFromTen = drawn.filter(([, t]) => sent(t as number));
    expect(drawnFromTen).toHaveLength(80);
    expect(drawnFromTen).toEqual(expect.arrayContaining(expected));
    expect(drawn.find(([s, t]) => s === 'cpu.usage{host=web-2}' && t === minute(49))?.[2]).toBe(60 + 49);
    await expectAccessible(page, 'metrics');
    await screenshot(page, 'metrics');

    // Drag across the middle of the plot: the range becomes absolute and narrower.
    const box = (await page.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).not.toBeNull();
    const zoomed = new URL(page.url()).searchParams;
    expect(Number(zoomed.get('to')) - Number(zoomed.get('from'))).toBeLessThan(0.5 * 3_600_000);
    await expect.poll(() => page.getByTestId('zoomed-range').isVisible()).toBe(true);
    expect(url.searchParams.get('range')).toBe('1h');
    await page.close();
  }, 90_000);
});
