/**
 * The logs and traces pages in Chromium against a live gateway, with logs and spans sent through
 * ingest: the lines a search shows are the API's, brushing the level histogram narrows the range and
 * the results, a line's context, from a log to its trace's waterfall and a span's details, a line
 * arriving in the live tail (paused and resumed), and the RED table per service.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, ingest, screenshot, startDashboard, type DashboardEnv } from './browser.ts';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** The page answers after the API does; on a busy machine that can take a few seconds. */
const poll = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000 });

// A browser, axe and the gateway share two cores with the rest of the suite: generous per-test bounds.
describe('dashboard: logs and traces', { timeout: 120_000 }, () => {
  let env: DashboardEnv;
  /** One signed-in page for the file (one sign-in); each test loads its URL in it. */
  let page: Page;
  const visit = async (path: string) => {
    await page.goto(`${env.gateway.url}${path}`);
    return page;
  };
  const now = Date.now();
  const base = now - 10 * 60_000;
  const traceA = hex(16);
  const traceB = hex(16);
  const span = { root: hex(8), pay: hex(8), db: hex(8), render: hex(8), inv: hex(8) };
  const payLog = { timestamp: base + 100, level: 'error', service: 'payments', message: 'payment declined for order 77', attributes: { order_id: 77, provider: 'acme' }, trace_id: traceA, span_id: span.pay };
  const services = ['web', 'db', 'payments'];
  const levels = ['info', 'warn', 'error', 'debug'];
  // 45 lines a minute apart over the last 45 minutes, one of them with trace A.
  const logs: Array<Record<string, unknown>> = [payLog];
  for (let i = 0; i < 45; i++) {
    const declined = i % 9 === 4;
    logs.push({
      timestamp: now - (45 - i) * 60_000 + 500,
      // Declined lines are payments' errors and warnings: a search must tell them apart by level.
      level: declined ? (i % 2 ? 'error' : 'warn') : levels[i % 4],
      service: declined ? 'payments' : services[i % 3],
      message: declined ? `card declined on attempt ${i}` : `request ${i} handled in ${10 + i} ms`,
      attributes: { i, route: i % 2 ? '/cart' : '/pay' },
    });
  }

  // 130 lines two to three hours ago: more than a page (100), outside the other tests' hour.
  const bulk = Array.from({ length: 130 }, (_, i) => ({ timestamp: now - 2 * 3_600_000 - i * 30_000, level: 'info', service: 'bulk', message: `bulk line ${i}` }));

  const api = async <T,>(path: string, query: Record<string, string | number> = {}): Promise<T> => {
    const url = new URL(`${env.gateway.url}/functions/v1${path}`);
    url.searchParams.set('projectId', env.gateway.demo.projectId);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    const res = await fetch(url, { headers: { authorization: `Bearer ${env.gateway.demo.ownerJwt}` } });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as T;
  };
  const rowIds = (p: Page, testId = 'log-rows') => p.getByTestId(testId).locator('tbody tr.log-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));

  beforeAll(async () => {
    env = await startDashboard();
    await ingest(env.gateway, {
      logs: [...logs, ...bulk],
      spans: [
        { trace_id: traceA, span_id: span.root, name: 'GET /checkout', service: 'web', kind: 'server', start: base, duration: 250 },
        { trace_id: traceA, span_id: span.pay, parent_span_id: span.root, name: 'POST /pay', service: 'payments', kind: 'client', start: base + 20, duration: 150, status: 'error', status_message: 'card declined', attributes: { 'payment.provider': 'acme' }, events: [{ name: 'retry', timestamp: base + 60, attributes: { attempt: 2 } }] },
        { trace_id: traceA, span_id: span.db, parent_span_id: span.pay, name: 'SELECT orders', service: 'db', kind: 'client', start: base + 40, duration: 60, attributes: { 'db.system': 'postgresql' } },
        { trace_id: traceA, span_id: span.render, parent_span_id: span.root, name: 'render', service: 'web', start: base + 180, duration: 50 },
        { trace_id: traceB, span_id: span.inv, name: 'GET /stock', service: 'inventory', kind: 'server', start: base + 5_000, duration: 30, status: 'ok' },
      ],
    });
    page = await env.signedIn('/logs/');
  }, 300_000);
  afterAll(async () => env?.stop());

  it('searches with field filters and shows the lines and the histogram the API answers', async () => {
    await visit('/logs/?range=1h');
    await page.getByLabel('Search logs').fill('level:error service:payments declined');
    await page.getByLabel('Search logs').press('Enter');
    const from = new Date(now - 3_600_000 + 60_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const expected = await api<{ logs: Array<{ id: string; message: string }> }>('/logs/search', { level: 'error', service: 'payments', q: 'declined', from, to });
    expect(expected.logs.length).toBeGreaterThanOrEqual(2);
    await poll(() => rowIds(page)).toEqual(expected.logs.map((l) => l.id));
    expect(new URL(page.url()).searchParams.get('q')).toBe('level:error service:payments declined');
    const hist = await api<{ total: number }>('/logs/histogram', { level: 'error', service: 'payments', q: 'declined', from, to });
    await poll(() => page.getByTestId('histogram').getAttribute('data-total')).toBe(String(hist.total));

    // The syntax help, and a syntax error as the API words it.
    await page.getByRole('button', { name: 'Syntax' }).click();
    await poll(() => page.getByRole('region', { name: 'Search syntax' }).textContent()).toContain('level:warn,error');
    await page.getByLabel('Search logs').fill('"!!"');
    await page.getByLabel('Search logs').press('Enter');
    await poll(() => page.locator('main [role=alert]').textContent()).toMatch(/query\.q/);
  });

  it('pages through more lines than a page with the cursor', async () => {
    await visit('/logs/?range=6h&q=service%3Abulk');
    await poll(() => rowIds(page).then((ids) => ids.length)).toBe(100);
    const all = await api<{ logs: Array<{ id: string }> }>('/logs/search', { service: 'bulk', from: new Date(now - 5 * 3_600_000).toISOString(), limit: 1000 });
    expect(all.logs.length).toBe(bulk.length);
    await page.getByRole('button', { name: 'Load older lines' }).click();
    await poll(() => rowIds(page)).toEqual(all.logs.map((l) => l.id));
    expect(await page.getByRole('button', { name: 'Load older lines' }).count()).toBe(0);
  });

  it('narrows the range and the results when the histogram is brushed', async () => {
    await visit('/logs/?range=1h');
    await poll(() => rowIds(page).then((ids) => ids.length)).toBe(logs.length);
    await poll(() => page.getByTestId('histogram').getAttribute('data-total')).toBe(String(logs.length));
    await expectAccessible(page, 'logs');
    await screenshot(page, 'logs');

    const box = (await page.getByTestId('histogram-brush').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.35, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.65, box.y + box.height / 2, { steps: 6 });
    await page.mouse.up();
    await poll(() => new URL(page.url()).searchParams.get('from')).not.toBeNull();
    const zoomed = new URL(page.url()).searchParams;
    const from = Number(zoomed.get('from'));
    const to = Number(zoomed.get('to'));
    expect(to - from).toBeLessThan(0.5 * 3_600_000);
    expect(zoomed.get('range')).toBeNull();
    const expected = await api<{ logs: Array<{ id: string }> }>('/logs/search', { from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    expect(expected.logs.length).toBeGreaterThan(0);
    expect(expected.logs.length).toBeLessThan(logs.length);
    await poll(() => rowIds(page)).toEqual(expected.logs.map((l) => l.id));
    const times = await page.getByTestId('log-rows').locator('tbody tr.log-row').evaluateAll((rows) => rows.map((r) => Date.parse((r as HTMLElement).dataset.time!)));
    expect(times.every((t) => t >= from && t < to)).toBe(true);
    await poll(() => page.getByTestId('zoomed-range').isVisible()).toBe(true);
  });

  it("opens a line's context with the line highlighted, and follows its trace to the waterfall and a span's details", async () => {
    await visit('/logs/?range=1h&q=service%3Apayments');
    const payments = await api<{ logs: Array<{ id: string; traceId: string | null }> }>('/logs/search', { service: 'payments', from: new Date(now - 3_500_000).toISOString() });
    const line = payments.logs.find((l) => l.traceId === traceA)!;
    expect(line).toBeDefined();
    const row = page.locator(`tr.log-row[data-id="${line.id}"]`);
    await row.getByRole('button', { name: /payment declined/ }).click();
    await page.getByRole('button', { name: 'Show context' }).click();
    const dialog = page.getByTestId('log-context');
    await poll(() => dialog.isVisible()).toBe(true);
    const context = await api<{ log: { id: string }; before: Array<{ id: string }>; after: Array<{ id: string }> }>(`/logs/${line.id}`, { before: 10, after: 10 });
    expect(context.before.length + context.after.length).toBeGreaterThan(0);
    await poll(() => rowIds(page, 'context-rows')).toEqual([...context.before, context.log, ...context.after].map((l) => l.id));
    expect(await dialog.locator('tr.highlight').getAttribute('data-id')).toBe(line.id);
    expect(new URL(page.url()).searchParams.get('ctx')).toBe(line.id);
    await expectAccessible(page, 'logs-context');
    await screenshot(page, 'logs-context');
    await page.keyboard.press('Escape');
    await poll(() => dialog.count()).toBe(0);

    // From the line to its trace.
    await row.locator(`a[href="/traces/?id=${traceA}"]`).first().click();
    await page.waitForURL((u) => u.pathname === '/traces/' && u.searchParams.get('id') === traceA);
    const trace = await api<{ trace: { spanCount: number } }>(`/logs/traces/${traceA}`);
    expect(trace.trace.spanCount).toBe(4);
    const waterfall = page.getByTestId('waterfall');
    await poll(() => waterfall.getAttribute('data-spans')).toBe('4');
    expect(await page.getByTestId('trace-span-count').textContent()).toBe('4');
    // Nested by parent, children in start order.
    expect(await waterfall.locator('li.wf-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name))).toEqual(['GET /checkout', 'POST /pay', 'SELECT orders', 'render']);
    // The error span says so in words.
    expect(await waterfall.locator('li[data-name="POST /pay"]').textContent()).toContain('error');

    await waterfall.locator('li[data-name="POST /pay"] button.wf-span').click();
    const details = page.getByTestId('span-details');
    await poll(() => details.getAttribute('data-span-id')).toBe(span.pay);
    const text = (await details.textContent())!;
    expect(text).toContain('payment.provider');
    expect(text).toContain('acme');
    expect(text).toContain('card declined');
    expect(text).toContain('retry');
    expect(await page.getByTestId('span-duration').textContent()).toBe('150 ms');
    // Enter on another span opens its details.
    await waterfall.locator('li[data-name="SELECT orders"] button.wf-span').focus();
    await page.keyboard.press('Enter');
    await poll(() => details.getAttribute('data-span-id')).toBe(span.db);
    expect(await details.textContent()).toContain('postgresql');

    // The trace's logs, linking back to the line in the logs page.
    const traceLogs = page.getByTestId('trace-logs');
    await poll(() => traceLogs.locator('tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id))).toEqual([line.id]);
    await expectAccessible(page, 'trace');
    await screenshot(page, 'trace');
    await traceLogs.locator('tbody tr a').first().click();
    await page.waitForURL((u) => u.pathname === '/logs/' && u.searchParams.get('ctx') === line.id);
    await poll(() => page.getByTestId('log-context').locator('tr.highlight').getAttribute('data-id')).toBe(line.id);
  });

  it('shows a line sent through ingest after the live tail opened, and holds lines while paused', async () => {
    await visit('/logs/?q=service%3Atailer');
    await page.getByRole('button', { name: 'Live tail' }).click();
    await poll(() => page.getByTestId('tail-status').getAttribute('data-status')).toBe('live');
    const first = `tail probe ${hex(4)}`;
    await ingest(env.gateway, { logs: [{ level: 'warn', service: 'tailer', message: first, timestamp: Date.now() }, { level: 'info', service: 'other', message: `not for this tail ${hex(4)}`, timestamp: Date.now() }] });
    const rows = page.getByTestId('log-rows').locator('tbody tr.log-row');
    await poll(() => rows.evaluateAll((r) => r.map((x) => x.textContent))).toEqual([expect.stringContaining(first)]);
    await expectAccessible(page, 'logs-tail');
    await screenshot(page, 'logs-tail');

    await page.getByRole('button', { name: 'Pause' }).click();
    const second = `tail probe ${hex(4)}`;
    await ingest(env.gateway, { logs: [{ level: 'error', service: 'tailer', message: second, timestamp: Date.now() }] });
    await page.getByRole('button', { name: 'Resume (1 new)' }).waitFor();
    expect(await rows.count()).toBe(1);
    await page.getByRole('button', { name: 'Resume (1 new)' }).click();
    // New lines on top.
    await poll(() => rows.evaluateAll((r) => r.map((x) => x.textContent))).toEqual([expect.stringContaining(second), expect.stringContaining(first)]);

    await page.getByRole('button', { name: 'Live tail' }).click();
    await poll(() => page.getByTestId('tail-status').count()).toBe(0);
  });

  it('lists the services with rate, errors and durations, and searches traces', async () => {
    await visit('/traces/?range=1h');
    const from = new Date(now - 3_500_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const stats = await api<{ services: Array<{ service: string; requests: number; errors: number }> }>('/logs/traces/services', { from, to });
    expect(stats.services.map((s) => s.service).sort()).toEqual(['db', 'inventory', 'payments', 'web']);
    const red = page.getByTestId('red-table').locator('tbody tr');
    await poll(() => red.evaluateAll((rows) => rows.map((r) => [(r as HTMLElement).dataset.service, Number((r as HTMLElement).dataset.requests), Number((r as HTMLElement).dataset.errors)])))
      .toEqual(stats.services.map((s) => [s.service, s.requests, s.errors]));
    const results = page.getByTestId('trace-results').locator('tbody tr');
    await poll(() => results.evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.traceId))).toEqual([traceB, traceA]);
    await expectAccessible(page, 'traces');
    await screenshot(page, 'traces');

    await page.getByLabel('Errors only').check();
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await poll(() => results.evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.traceId))).toEqual([traceA]);
    expect(new URL(page.url()).searchParams.get('errors')).toBe('1');
    // A service in the RED table searches its traces.
    await page.getByLabel('Errors only').uncheck();
    await page.getByTestId('red-table').getByRole('button', { name: 'inventory' }).click();
    await poll(() => results.evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.traceId))).toEqual([traceB]);
    await results.first().getByRole('link').click();
    await page.waitForURL((u) => u.searchParams.get('id') === traceB);
    await poll(() => page.getByTestId('waterfall').getAttribute('data-spans')).toBe('1');
  });
});
