/**
 * The dashboard's browser tests: Debian's Chromium (/usr/bin/chromium, installed by .ci/run) driven
 * by playwright-core against a real gateway serving the built dashboard; axe-core checks each page;
 * screenshots go to .tmp/screenshots/ (CI keeps them as artifacts).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ensureDashboardBuilt } from '../../../src/node/dashboard.ts';
import { spawnGateway, type SpawnedGateway } from '../../helpers/spawn-gateway.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(process.cwd(), '.tmp', 'screenshots');

export interface DashboardEnv {
  gateway: SpawnedGateway;
  browser: Browser;
  /** A new page signed in as `email` (default the demo owner), on `path`. */
  signedIn(path?: string, who?: { email: string; password: string }): Promise<Page>;
  /**
   * A link followed as a notification's reader does: a new browser (signed out) opens `url`, is sent
   * to sign in, signs in as `who` (default the demo owner) and is brought back to the link's page.
   */
  followLink(url: string, who?: { email: string; password: string }): Promise<Page>;
  stop(): Promise<void>;
}

export async function startDashboard(opts: { env?: Record<string, string> } = {}): Promise<DashboardEnv> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)`);
  await ensureDashboardBuilt();
  const gateway = await spawnGateway(opts);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const errors: string[] = [];
  const owner = { email: gateway.demo.ownerEmail, password: gateway.demo.ownerPassword };
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    return page;
  };
  /** Fills and sends the sign-in form the page is on. */
  const signIn = async (page: Page, who: { email: string; password: string }) => {
    // The button is enabled once the page has hydrated and loaded its config: typing before that can
    // be lost to hydration (under load), and the sign-in would then go out without a password.
    await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const signedIn = async (path = '/metrics/', who = owner) => {
    const page = await newPage();
    await page.goto(`${gateway.url}/sign-in/?next=${encodeURIComponent(path)}`);
    await signIn(page, who);
    await page.waitForURL((u) => u.pathname === path.split('?')[0]);
    return page;
  };
  const followLink = async (url: string, who = owner) => {
    const page = await newPage();
    await page.goto(url);
    await page.waitForURL((u) => u.pathname === '/sign-in/');
    await signIn(page, who);
    await page.waitForURL((u) => u.pathname === new URL(url).pathname);
    return page;
  };
  return {
    gateway,
    browser,
    signedIn,
    followLink,
    stop: async () => {
      await browser.close().catch(() => {});
      await gateway.stop();
      expect(errors, 'uncaught errors in the pages').toEqual([]);
    },
  };
}

const AXE = readFileSync(join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8');

/** axe-core on the page as it is now: no violation of serious or critical impact. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  await page.addScriptTag({ content: AXE });
  const result = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  })) as { violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> };
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${name}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`)).toEqual([]);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Runs the rollup job now (the tests' gateways run no scheduler), as the cron would. */
export async function runJob(gateway: SpawnedGateway, job: string): Promise<void> {
  const res = await fetch(`${gateway.url}/functions/v1/cron-${job}`, { method: 'POST', headers: { authorization: `Bearer ${gateway.demo.serviceToken}` } });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

/** Sends a native JSON batch through ingest with the demo project's API key. */
export async function ingest(gateway: SpawnedGateway, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${gateway.url}/functions/v1/ingest`, { method: 'POST', headers: { 'x-api-key': gateway.demo.apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { rejected?: number };
  expect(res.status).toBe(200);
  expect(json.rejected).toBe(0);
}
