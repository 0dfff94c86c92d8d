/**
 * The Settings page in Chromium against a live gateway: as the demo owner, an API key created in the
 * page whose secret is shown once (a reload shows only its prefix) and works for ingest until revoked
 * there; an invitation whose token is shown once and which the API then lists; usage numbers equal to
 * GET /billing/{orgId}/usage. As a viewer (a user created with the Auth stand-in's admin API, invited
 * by the owner and accepting with their own token): no edit controls on the settings, alert rules and
 * metrics pages, and the API refuses the viewer's writes with 403.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type WebSocketLikeConstructor } from '@supabase/supabase-js';
import type { Page } from 'playwright-core';
import S3rver from 's3rver';
import { Webhook } from 'standardwebhooks';
import ws from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIR } from '../../../src/node/dashboard.ts';
import { startReceiver, type Receiver, type Received } from '../../helpers/receiver.ts';
import { expectAccessible, ingest, runJob, screenshot, startDashboard, type DashboardEnv } from './browser.ts';

const TABS = ['members', 'api-keys', 'retention', 'exports', 'webhooks', 'usage'] as const;
/** Names of the controls that change something: none may be shown to a viewer. */
const EDIT = /^(create|add|delete|remove|leave|revoke|rotate|invite|save|check and save|export|send test|replay|retry|pause|resume|new|edit|silence)\b/i;

// Browser steps under a shared machine's load can take a while; each test still ends when its assertions do.
describe('dashboard: settings (members, API keys, retention, exports, webhooks, usage) and a viewer', { timeout: 90_000 }, () => {
  let env: DashboardEnv;
  /** A local webhook receiver (the outbound guard allows exactly its port). */
  let receiver: Receiver;
  /** A real S3 server (s3rver) for export destinations. */
  let s3: { url: string; dir: string; close: () => Promise<void> };
  const viewer = { email: `viewer-${Date.now()}@example.com`, password: 'viewer passphrase 1' };
  let viewerJwt = '';
  const api = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
    fetch(`${env.gateway.url}/functions/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${init.token ?? env.gateway.demo.ownerJwt}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const client = (key: string) =>
    createClient(env.gateway.url, key, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false }, realtime: { transport: ws as unknown as WebSocketLikeConstructor } });

  beforeAll(async () => {
    receiver = await startReceiver({ status: 200, body: 'thanks' });
    const dir = mkdtempSync(join(tmpdir(), 'observai-s3-'));
    const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'settings-exports', configs: [] }] });
    const { port } = (await s3rver.run()) as AddressInfo;
    s3 = { url: `http://127.0.0.1:${port}`, dir, close: () => s3rver.close() };
    env = await startDashboard({ env: { SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${receiver.port},127.0.0.1:${port}` } });
    const now = Date.now() - 60_000;
    await ingest(env.gateway, {
      metrics: Array.from({ length: 30 }, (_, i) => ({ name: 'settings.test', type: 'gauge', value: i, timestamp: now - i * 1000, tags: { host: 'a' } })),
      logs: Array.from({ length: 12 }, (_, i) => ({ timestamp: now - i * 1000, level: 'info', service: 'settings', message: `line ${i}` })),
    });
    await runJob(env.gateway, 'meter-usage');

    // The viewer: created with GoTrue's admin API (the service-role key), invited by the owner as a
    // viewer, and accepting the invitation with their own session.
    const created = await client(env.gateway.demo.serviceToken).auth.admin.createUser({ email: viewer.email, password: viewer.password, email_confirm: true });
    expect(created.error).toBeNull();
    const invited = await api(`/orgs/${env.gateway.demo.organizationId}/invitations`, { method: 'POST', body: { email: viewer.email, role: 'viewer' } });
    expect(invited.status).toBe(201);
    const { token } = (await invited.json()) as { token: string };
    const signedIn = await client(env.gateway.demo.anonKey).auth.signInWithPassword(viewer);
    expect(signedIn.error).toBeNull();
    viewerJwt = signedIn.data.session!.access_token;
    const accepted = await api('/orgs/invitations/accept', { method: 'POST', body: { token }, token: viewerJwt });
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    expect(((await accepted.json()) as { member: { role: string } }).member.role).toBe('viewer');
  }, 240_000);
  afterAll(async () => {
    await env?.stop();
    await receiver?.close();
    await s3?.close();
    if (s3) rmSync(s3.dir, { recursive: true, force: true });
  });

  /** One short run of the delivery job (with an endpoint it would otherwise poll for its whole minute). */
  const deliverWebhooks = async () => {
    const res = await fetch(`${env.gateway.url}/functions/v1/cron-deliver-webhooks`, { method: 'POST', headers: { authorization: `Bearer ${env.gateway.demo.serviceToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ budgetMs: 2000 }) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  };
  const swHeaders = (r: Received) => Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(r.headers[h])]));

  const tab = async (page: Page, id: (typeof TABS)[number]) => {
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link').nth(TABS.indexOf(id)).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('tab')).toBe(id);
  };

  it('creates an API key whose secret is shown once, works for ingest, shows only its prefix after a reload, and is revoked from the page', async () => {
    const page = await env.signedIn('/settings/?tab=api-keys');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.gateway.url });
    const form = page.getByRole('form', { name: 'Create an API key' });
    await form.getByLabel('Name').fill('browser-made');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('secret-value').textContent())!;
    expect(secret).toMatch(/^oai_[a-zA-Z0-9]{12}_[a-zA-Z0-9]{32}$/);
    await page.getByTestId('one-time-secret').getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await expectAccessible(page, 'settings-api-keys');
    await screenshot(page, 'settings-api-keys-created');

    // The key works for ingest, and the API lists it under that prefix.
    const sent = await fetch(`${env.gateway.url}/functions/v1/ingest`, { method: 'POST', headers: { 'x-api-key': secret, 'content-type': 'application/json' }, body: JSON.stringify({ logs: [{ level: 'info', service: 'settings', message: 'sent with the new key' }] }) });
    expect(sent.status, await sent.clone().text()).toBe(200);
    const listed = (await (await api(`/api-keys?projectId=${env.gateway.demo.projectId}`)).json()) as { apiKeys: Array<{ id: string; name: string; prefix: string }> };
    const key = listed.apiKeys.find((k) => k.name === 'browser-made')!;
    expect(secret.startsWith(`oai_${key.prefix}_`)).toBe(true);

    // A reload shows the prefix and never the secret.
    await page.reload();
    const row = page.locator('[data-testid=api-keys] tr[data-name="browser-made"]');
    await expect.poll(() => row.getByTestId('key-prefix').textContent()).toBe(`oai_${key.prefix}_…`);
    expect(await page.getByTestId('one-time-secret').count()).toBe(0);
    expect(await page.locator('body').innerText()).not.toContain(secret);

    // Revoked in the page (confirming the dialog): ingest refuses the key at once.
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await expect.poll(async () => ((await (await api(`/api-keys/${key.id}`)).json()) as { apiKey: { status: string } }).apiKey.status).toBe('revoked');
    await expect.poll(() => row.count()).toBe(0);
    const refused = await fetch(`${env.gateway.url}/functions/v1/ingest`, { method: 'POST', headers: { 'x-api-key': secret, 'content-type': 'application/json' }, body: JSON.stringify({ logs: [{ level: 'info', service: 'settings', message: 'after revoking' }] }) });
    expect(refused.status).toBe(401);
    await page.close();
  });

  it('invites a member: the token is shown once and the API lists the pending invitation; members show the viewer', async () => {
    const page = await env.signedIn('/settings/?tab=members');
    const members = page.getByTestId('members');
    await expect.poll(() => members.locator(`tr[data-email="${viewer.email}"]`).getByRole('combobox').inputValue()).toBe('viewer');
    const form = page.getByRole('form', { name: 'Invite a member' });
    const email = `new-${Date.now()}@example.com`;
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('Role').selectOption('member');
    await form.getByRole('button', { name: 'Invite' }).click();
    const token = (await page.getByTestId('secret-value').textContent())!;
    expect(token.length).toBeGreaterThan(20);
    const { invitations } = (await (await api(`/orgs/${env.gateway.demo.organizationId}/invitations`)).json()) as { invitations: Array<{ email: string; role: string; status: string }> };
    expect(invitations.find((i) => i.email === email)).toMatchObject({ role: 'member', status: 'pending' });
    await expect.poll(() => page.locator(`[data-testid=invitations] tr[data-email="${email}"]`).innerText()).toContain('pending');
    await expectAccessible(page, 'settings-members');
    await screenshot(page, 'settings-members');
    await page.close();
  });

  it('adds a webhook endpoint whose signing secret is shown once and signs the test delivery; its messages show and replay', async () => {
    const page = await env.signedIn('/settings/?tab=webhooks');
    await page.getByText('Add an endpoint').click();
    const form = page.getByRole('form', { name: 'Add an endpoint' });
    await form.getByLabel('URL').fill(`${receiver.url}/hook`);
    await form.getByLabel('Description').fill('browser receiver');
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    await page.locator('[data-testid=one-time-secret], main [role=alert]').first().waitFor();
    expect(await page.locator('main [role=alert]').allInnerTexts()).toEqual([]);
    const secret = (await page.getByTestId('secret-value').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    const { endpoints } = (await (await api(`/webhooks/endpoints?projectId=${env.gateway.demo.projectId}`)).json()) as { endpoints: Array<{ id: string; url: string }> };
    const endpoint = endpoints.find((e) => e.url === `${receiver.url}/hook`)!;
    expect(endpoint).toBeDefined();

    const before = receiver.received.length;
    await page.getByRole('button', { name: `Send test to ${endpoint.url}` }).click();
    await expect.poll(() => page.getByTestId('webhook-endpoints').getByRole('status').textContent()).toBe('Delivered (HTTP 200).');
    const [got] = (await receiver.waitFor(before + 1)).slice(before);
    expect(new Webhook(secret).verify(got!.body, swHeaders(got!))).toMatchObject({ type: 'webhook.test' });
    const messages = page.getByTestId('webhook-messages');
    await expect.poll(() => messages.locator('tbody tr').first().innerText()).toContain('delivered');
    await expectAccessible(page, 'settings-webhooks');
    await screenshot(page, 'settings-webhooks');

    // A test-send is not replayed; a real event is. Creating an API key emits api_key.created (the
    // endpoint takes every event); the delivery job sends it, then the page replays it.
    expect(await messages.locator('tr[data-event="webhook.test"]').getByRole('button', { name: /^Replay/ }).count()).toBe(0);
    const key = await api('/api-keys', { method: 'POST', body: { projectId: env.gateway.demo.projectId, name: 'emits-an-event' } });
    expect(key.status).toBe(201);
    await deliverWebhooks();
    const [event] = (await receiver.waitFor(before + 2)).slice(before + 1);
    expect(new Webhook(secret).verify(event!.body, swHeaders(event!))).toMatchObject({ type: 'api_key.created' });
    await page.getByRole('button', { name: 'Refresh' }).click();
    const created = messages.locator('tr[data-event="api_key.created"]');
    await expect.poll(() => created.innerText()).toContain('delivered');
    await created.getByRole('button', { name: /^Replay/ }).click();
    await expect.poll(() => created.innerText()).toContain('pending');
    await deliverWebhooks();
    const [replayed] = (await receiver.waitFor(before + 3)).slice(before + 2);
    expect(replayed!.headers['webhook-id']).toBe(event!.headers['webhook-id']);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => created.innerText()).toContain('delivered');

    // After a reload the secret is gone from the page.
    await page.reload();
    await expect.poll(() => page.getByTestId('webhook-endpoints').locator('tbody tr').count()).toBe(1);
    expect(await page.locator('body').innerText()).not.toContain(secret);
    await page.close();
  });

  it("shows this month's usage per signal equal to GET /billing/{orgId}/usage, against the plan's limits", async () => {
    const page = await env.signedIn('/settings/?tab=usage');
    await expect.poll(() => page.getByTestId('usage-metrics').getAttribute('data-events')).not.toBe('');
    const res = await api(`/billing/${env.gateway.demo.organizationId}/usage`);
    const usage = (await res.json()) as { totals: Record<string, number>; plan: { name: string; limits: Record<string, { monthlyLimit: number | null }> } };
    expect(usage.totals.metrics).toBeGreaterThanOrEqual(30);
    expect(usage.totals.logs).toBeGreaterThanOrEqual(12);
    for (const s of ['metrics', 'logs', 'traces', 'queries']) {
      const row = page.getByTestId(`usage-${s}`);
      expect(Number(await row.getAttribute('data-events')), s).toBe(usage.totals[s]);
      expect(await row.innerText()).toContain(usage.totals[s]!.toLocaleString('en-US'));
      if (s !== 'queries') expect(await row.getAttribute('data-limit')).toBe(String(usage.plan.limits[s]!.monthlyLimit ?? ''));
    }
    expect(await page.getByTestId('plan-name').textContent()).toBe(usage.plan.name);
    await expectAccessible(page, 'settings-usage');
    await screenshot(page, 'settings-usage');
    // Every other section as the owner: accessible, screenshotted.
    for (const id of ['retention'] as const) {
      await tab(page, id);
      await expect.poll(() => page.locator('main [aria-busy=true], main p:has-text("…")').count()).toBe(0);
      await expectAccessible(page, `settings-${id}`);
      await screenshot(page, `settings-${id}`);
    }
    await page.close();
  });

  it('adds an export destination (checked against a real S3 server), a daily schedule and a run, as the API then lists them', async () => {
    const page = await env.signedIn('/settings/?tab=exports');
    await page.getByText('Add a destination').click();
    const form = page.getByRole('form', { name: 'Add a destination' });
    await form.getByLabel('Name').fill('local s3');
    await form.getByLabel('Endpoint').fill(s3.url);
    await form.getByLabel('Bucket').fill('settings-exports');
    await form.getByLabel('Access key id').fill('S3RVER');
    await form.getByLabel('Secret access key').fill('not-returned-secret-4711');
    await form.getByLabel(/Path-style/).check();
    await form.getByRole('button', { name: 'Check and save' }).click();
    const destinations = page.getByTestId('export-destinations');
    await expect.poll(() => destinations.locator('tbody tr').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('main [role=alert]').allInnerTexts()).toEqual([]);
    const q = `projectId=${env.gateway.demo.projectId}`;
    const listed = (await (await api(`/logs/exports/destinations?${q}`)).json()) as { destinations: Array<{ id: string; name: string; bucket: string; verifiedAt: string | null }> };
    expect(listed.destinations).toEqual([expect.objectContaining({ name: 'local s3', bucket: 'settings-exports', verifiedAt: expect.any(String) })]);
    expect(await page.locator('body').innerText()).not.toContain('not-returned-secret-4711');

    await page.getByRole('form', { name: 'Export every day' }).getByRole('button', { name: 'Export every day' }).click();
    await expect.poll(() => page.getByTestId('export-schedules').locator('tbody tr').count()).toBe(1);
    const { schedules } = (await (await api(`/logs/exports/schedules?${q}`)).json()) as { schedules: Array<{ destinationId: string; signal: string; enabled: boolean }> };
    expect(schedules).toEqual([expect.objectContaining({ destinationId: listed.destinations[0]!.id, signal: 'logs', enabled: true })]);

    const request = page.getByRole('form', { name: 'Request an export' });
    const from = await request.getByLabel('From').inputValue();
    await request.getByRole('button', { name: 'Export now' }).click();
    await expect.poll(() => page.getByTestId('export-runs').locator('tbody tr').count()).toBeGreaterThanOrEqual(1);
    const { exports } = (await (await api(`/logs/exports?${q}&signal=logs`)).json()) as { exports: Array<{ destinationId: string; scheduleId: string | null; from: string }> };
    expect(exports.find((e) => e.scheduleId === null)).toMatchObject({ destinationId: listed.destinations[0]!.id, from: `${from}T00:00:00.000Z` });
    await expectAccessible(page, 'settings-exports');
    await screenshot(page, 'settings-exports');
    await page.close();
  });

  it("changes the project's retention in the page: the API answers the new days, and the preview lists each level's cutoff", async () => {
    const page = await env.signedIn('/settings/?tab=retention');
    const debug = page.getByLabel('Days to keep debug logs');
    await expect.poll(() => debug.inputValue()).toBe('7');
    await debug.fill('3');
    await page.getByLabel('Days to keep spans').fill('14');
    await page.getByRole('button', { name: 'Save retention' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    const { retention } = (await (await api(`/logs/retention?projectId=${env.gateway.demo.projectId}`)).json()) as { retention: { custom: boolean; levels: Record<string, number>; spans: number } };
    expect(retention).toMatchObject({ custom: true, spans: 14, levels: { debug: 3, info: 30, error: 90 } });
    const { preview } = (await (await api(`/logs/retention/preview?projectId=${env.gateway.demo.projectId}`)).json()) as { preview: { levels: Record<string, { days: number }> } };
    expect(preview.levels.debug!.days).toBe(3);
    await expect.poll(() => page.locator('tr[data-target=debug]').innerText()).toContain('0 rows');
    await page.close();
  });

  it('shows a viewer no edit controls on settings and metrics, and the API refuses their writes with 403', async () => {
    const page = await env.signedIn('/settings/?tab=members', viewer);
    await expect.poll(() => page.getByTestId('role').textContent()).toBe('viewer');
    for (const id of TABS) {
      await tab(page, id);
      await expect.poll(() => page.getByTestId('read-only').count(), { message: id }).toBeGreaterThan(0);
      const buttons = await page.locator('main button, main input[type=submit]').evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText || (e as HTMLInputElement).value));
      expect(buttons.filter((b) => EDIT.test(b.trim())), id).toEqual([]);
      expect(await page.locator('main form').count(), id).toBe(0);
      if (id === 'members') {
        // The member list is there, as text: no role pickers.
        await expect.poll(() => page.locator(`[data-testid=members] tr[data-email="${viewer.email}"]`).innerText()).toContain('viewer');
        expect(await page.locator('[data-testid=members] select').count()).toBe(0);
      }
      // Polled: the page shows "…" until the project's settings have loaded (a loaded machine read it then).
      if (id === 'retention') await expect.poll(() => page.getByTestId('days-debug').textContent()).toBe('3');
      if (id === 'usage') {
        await expect.poll(() => page.getByTestId('usage-logs').getAttribute('data-events')).not.toBe('');
        expect(await page.getByTestId('statement').count()).toBe(0);
      }
    }
    await expectAccessible(page, 'settings-viewer');
    await screenshot(page, 'settings-viewer');

    await page.goto(`${env.gateway.url}/metrics/`);
    await expect.poll(() => page.getByTestId('role').textContent()).toBe('viewer');
    const metricButtons = await page.locator('main button').evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.trim()));
    expect(metricButtons.filter((b) => EDIT.test(b))).toEqual([]);

    // The API refuses the viewer's writes whatever the page shows.
    const orgId = env.gateway.demo.organizationId;
    const projectId = env.gateway.demo.projectId;
    const ownerId = JSON.parse(Buffer.from(env.gateway.demo.ownerJwt.split('.')[1]!, 'base64url').toString()).sub as string;
    const writes: Array<[string, string, unknown]> = [
      ['POST', '/api-keys', { projectId, name: 'viewer-key', scopes: ['ingest'] }],
      ['PUT', '/logs/retention', { projectId, levels: { debug: 1 } }],
      ['POST', `/orgs/${orgId}/invitations`, { email: 'someone@example.com', role: 'admin' }],
      ['PATCH', `/orgs/${orgId}/members/${ownerId}`, { role: 'viewer' }],
      ['POST', '/alerts/rules', { projectId, rule: { key: 'viewer-rule', name: 'Viewer rule', kind: 'metric', query: { metric: 'settings.test' }, condition: { op: '>', critical: 1 } } }],
    ];
    for (const [method, path, body] of writes) {
      const res = await api(path, { method, body, token: viewerJwt });
      expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    }
    await page.close();
  });

  it.skipIf(!existsSync(join(DASHBOARD_DIR, 'app/alerts/page.tsx')))('shows a viewer no edit controls on the alert rules page', async () => {
    const page = await env.signedIn('/alerts/', viewer);
    await expect.poll(() => page.getByTestId('role').textContent()).toBe('viewer');
    await expect.poll(() => page.locator('main [aria-busy=true]').count()).toBe(0);
    const buttons = await page.locator('main button').evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.trim()));
    expect(buttons.filter((b) => EDIT.test(b))).toEqual([]);
    await page.close();
  });
});
