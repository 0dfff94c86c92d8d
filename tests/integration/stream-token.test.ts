/**
 * Stream tokens (src/auth/stream-token.ts): what a browser's EventSource, which sends no headers,
 * opens a Server-Sent Events route with. Minted by whoever may read the stream, bound to that one
 * stream path, good for 60 s to open it, and accepted nowhere else: not on another stream, not on a
 * non-stream route, not in a header, not after expiry; a user's own JWT is not accepted as one.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_TOKEN_TTL_S } from '../../src/auth/stream-token.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { sseReader } from '../helpers/sse.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR;

type Minted = { token: string; expiresAt: string; path: string };

async function mint(env: TestEnv, path: string, auth: { token?: string; apiKey?: string }): Promise<Minted> {
  const res = await env.request('POST', `${path}/token`, auth);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Minted;
}

describe('stream tokens over real HTTP, as EventSource sends them (no headers)', () => {
  let env: TestEnv;
  let t: Tenant;
  let server: ServerType;
  let base: string;

  beforeAll(async () => {
    env = await createTestEnv();
    t = await createTenant(env);
    server = serve({ fetch: env.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await env?.close();
  });

  it('a viewer opens the live tail with ?access_token= and receives lines ingested after it opened', async () => {
    const minted = await mint(env, '/functions/v1/logs/tail', { token: t.people.viewer.jwt });
    expect(minted.path).toBe('/functions/v1/logs/tail');
    const expiresIn = Date.parse(minted.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(50_000);
    expect(expiresIn).toBeLessThanOrEqual(STREAM_TOKEN_TTL_S * 1000);
    const abort = new AbortController();
    // What EventSource sends: a GET with Accept: text/event-stream and nothing else.
    const res = await fetch(`${base}${minted.path}?${new URLSearchParams({ projectId: t.projectA, service: 'token-tail', access_token: minted.token })}`, {
      headers: { accept: 'text/event-stream' },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const stream = sseReader(res);
    try {
      await stream.next('ready');
      const sent = await env.request('POST', '/functions/v1/ingest', {
        apiKey: t.keyA.secret,
        body: { logs: [{ timestamp: Date.now(), level: 'warn', service: 'token-tail', message: 'seen through a stream token' }] },
      });
      expect(sent.status).toBe(200);
      const line = await stream.next('log');
      expect(JSON.parse(line.data!)).toMatchObject({ message: 'seen through a stream token', service: 'token-tail' });
    } finally {
      await stream.cancel();
      abort.abort();
    }
  }, 30_000);

  it('an API key with the read scope mints for its own project; the alert and incident streams take tokens too', async () => {
    for (const path of ['/functions/v1/alerts/stream', '/functions/v1/oncall/incidents/stream']) {
      const minted = await mint(env, path, { apiKey: t.keyA.secret });
      const abort = new AbortController();
      const res = await fetch(`${base}${path}?access_token=${minted.token}`, { signal: abort.signal });
      expect(res.status, path).toBe(200);
      const stream = sseReader(res);
      await stream.next('ready');
      await stream.cancel();
      abort.abort();
    }
  });

  it('is refused on another stream, on a non-stream route, in a header, and beside a header credential', async () => {
    const minted = await mint(env, '/functions/v1/logs/tail', { token: t.people.owner.jwt });
    const other = await fetch(`${base}/functions/v1/alerts/stream?projectId=${t.projectA}&access_token=${minted.token}`);
    expect(other.status).toBe(401);
    expect(((await other.json()) as { error: { message: string } }).error.message).toMatch(/another stream/);
    // A read route does not look for access_token: the request is anonymous there.
    const search = await fetch(`${base}/functions/v1/logs/search?projectId=${t.projectA}&access_token=${minted.token}`);
    expect([400, 401]).toContain(search.status);
    const bearer = await fetch(`${base}/functions/v1/logs/search?projectId=${t.projectA}`, { headers: { authorization: `Bearer ${minted.token}` } });
    expect(bearer.status).toBe(401);
    const both = await fetch(`${base}/functions/v1/logs/tail?projectId=${t.projectA}&access_token=${minted.token}`, { headers: { authorization: `Bearer ${t.people.owner.jwt}` } });
    expect(both.status).toBe(400);
  });

  it("a user's own JWT is not a stream token, and minting needs a reader", async () => {
    const jwt = await fetch(`${base}/functions/v1/logs/tail?projectId=${t.projectA}&access_token=${t.people.owner.jwt}`);
    expect(jwt.status).toBe(401);
    expect((await env.request('POST', '/functions/v1/logs/tail/token', {})).status).toBe(401);
    expect((await env.request('POST', '/functions/v1/logs/tail/token', { token: await env.serviceJwt() })).status).toBe(403);
  });

  it('a token for a project the user cannot see opens nothing of it (404, as with the header)', async () => {
    const minted = await mint(env, '/functions/v1/logs/tail', { token: t.people.outsider.jwt });
    const res = await fetch(`${base}/functions/v1/logs/tail?projectId=${t.projectA}&access_token=${minted.token}`);
    expect(res.status).toBe(404);
  });
});

describe('stream token lifetime', () => {
  let env: TestEnv;
  let clock: FakeClock;
  let t: Tenant;

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: new Date(NOW).toISOString() });
    clock = env.clock as FakeClock;
    t = await createTenant(env);
  }, 60_000);
  afterAll(async () => env?.close());

  const open = (m: Minted) => env.app.request(`${m.path}?projectId=${t.projectA}&access_token=${m.token}`);

  it('opens within 60 s of minting and not after', async () => {
    const fresh = await mint(env, '/functions/v1/logs/tail', { token: t.people.member.jwt });
    const late = await mint(env, '/functions/v1/logs/tail', { token: t.people.member.jwt });
    clock.advance((STREAM_TOKEN_TTL_S - 1) * 1000);
    const ok = await open(fresh);
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
    clock.advance(2000);
    const expired = await open(late);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { message: string } }).error.message).toMatch(/stream token has expired/);
  });

  it('never outlives the user token it was minted from', async () => {
    const user = await env.createUser(); // its JWT lives 2 hours
    clock.advance(2 * HOUR - 30_000);
    const res = await env.request('POST', '/functions/v1/logs/tail/token', { token: user.jwt });
    expect(res.status).toBe(201);
    const { expiresAt } = (await res.json()) as Minted;
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(clock.now().getTime() + 30_000);
  });
});
