/**
 * The gateway's static files for the dashboard (src/node/dashboard.ts): pages by folder, hashed
 * assets cached for good, the API's paths never answered with a page, nothing outside the export.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dashboardRoutes } from '../../../src/node/dashboard.ts';

describe('dashboard static files', () => {
  const root = mkdtempSync(join(tmpdir(), 'observai-dash-'));
  const out = join(root, 'out');
  mkdirSync(join(out, 'logs'), { recursive: true });
  mkdirSync(join(out, '_next', 'static', 'chunks'), { recursive: true });
  writeFileSync(join(out, 'index.html'), '<!doctype html><title>home</title>');
  writeFileSync(join(out, 'logs', 'index.html'), '<!doctype html><title>logs</title>');
  writeFileSync(join(out, '404.html'), '<!doctype html><title>not found</title>');
  writeFileSync(join(out, '_next', 'static', 'chunks', 'a1b2.js'), 'console.log(1)');
  writeFileSync(join(root, 'secret.txt'), 'outside the export');
  const app = dashboardRoutes({ outDir: out, config: async () => ({ supabaseUrl: '', anonKey: 'anon', mode: 'embedded' }) });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each([
    // [path, status, content type (prefix), body contains, cache-control]
    ['/', 200, 'text/html', 'home', 'no-cache'],
    ['/logs/', 200, 'text/html', 'logs', 'no-cache'],
    ['/_next/static/chunks/a1b2.js', 200, 'text/javascript', 'console.log', 'public, max-age=31536000, immutable'],
    ['/nope/', 404, 'text/html', 'not found', null],
    ['/../secret.txt', 404, 'text/html', 'not found', null],
    ['/%2e%2e/secret.txt', 404, 'text/html', 'not found', null],
    ['/%E0%A4%A', 400, 'text/plain', 'percent-encoding', null],
  ])('GET %s answers %i', async (path, status, type, body, cache) => {
    const res = await app.request(path);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(new RegExp(`^${type}`));
    expect(await res.text()).toContain(body);
    if (cache) expect(res.headers.get('cache-control')).toBe(cache);
  });

  it('serves a folder\'s page asked for without its trailing slash', async () => {
    const res = await app.request('/logs');
    expect(res.status).toBe(200); // the export's links are absolute, so no redirect is needed
    expect(await res.text()).toContain('logs');
  });

  it('never answers the API paths with a page', async () => {
    for (const path of ['/functions/v1/nope', '/auth/v1/nope']) {
      const res = await app.request(path);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('<title>');
    }
  });

  it('serves the config the app boots from, never cached', async () => {
    const res = await app.request('/dashboard-config.json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ supabaseUrl: '', anonKey: 'anon', mode: 'embedded' });
  });

  it('frames no page and sniffs no type', async () => {
    const res = await app.request('/');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
