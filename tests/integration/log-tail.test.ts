/**
 * The live tail (GET /logs/tail): its settle window, resumption and rate bound; the SSE stream itself,
 * driven by the fake clock it sleeps on; a stream ending within one poll of its credential being
 * revoked, expiring or losing the project; and the caps on concurrent tails per API key, user,
 * project (across processes, through the cache) and process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../src/auth/jwt.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { createGatewayApp } from '../../src/app/app.ts';
import { logIdCodec } from '../../src/log-view/log-ids.ts';
import type { StreamCredential as TailCredential } from '../../src/auth/stream-credential.ts';
import type { SseSink } from '../../src/http/sse-stream.ts';
import { SLOT_TTL_MS } from '../../src/http/stream-slots.ts';
import { createTailSlots, streamLogTail } from '../../src/logs/stream-tail.ts';
import { openLogTail } from '../../src/logs/tail-logs.ts';
import { createTestEnv, TEST_JWT_SECRET, type TestEnv } from '../helpers/env.ts';
import { nextEventPolling, sseReader, until } from '../helpers/sse.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const HOUR = 3_600_000;
// A fixed clock near real time, so the migration's partitions cover the data.
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const POLL_MS = 1000;

describe('live tail', () => {
  let env: TestEnv;
  let clock: FakeClock;
  let t: Tenant;

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: iso(NOW) });
    clock = env.clock as FakeClock;
    t = await createTenant(env);
    // The caps' tests add a viewer a tail: more members than the Free plan's 10.
    await env.db.query(`update public.organizations set plan = 'enterprise' where id = $1`, [t.orgId]);
  }, 60_000);
  afterAll(async () => env?.close());

  const viewer = () => ({ sub: t.people.viewer.id, role: 'authenticated' });
  const asViewer: TailCredential = { kind: 'user' };
  const insertWithId = (id: bigint, message: string, service = 'tail', projectId = t.projectA) =>
    env.db.query(`insert into public.logs (id, project_id, time, level, service, message, event_key) values ($1, $2, $3, 'info', $4, $5, $1)`, [
      id.toString(),
      projectId,
      new Date(NOW - 1000),
      service,
      message,
    ]);
  const insert = async (message: string, service: string, projectId = t.projectA) => {
    const [row] = await env.db.query<{ id: string }>(
      `insert into public.logs (project_id, time, level, service, message, event_key) values ($1, $2, 'info', $3, $4, (random() * 1e15)::int8) returning id::text`,
      [projectId, clock.now(), service, message],
    );
    return row!.id;
  };
  const nextId = async () => BigInt((await env.db.query<{ id: string }>(`select nextval('public.logs_id_seq')::text as id`))[0]!.id);
  const ingest = async (logs: Array<{ message: string; service: string; at: number }>) => {
    const res = await env.request('POST', '/functions/v1/ingest', {
      apiKey: t.keyA.secret,
      body: { logs: logs.map((l) => ({ timestamp: l.at, level: 'info', service: l.service, message: l.message })) },
    });
    expect(res.status).toBe(200);
  };
  const tailPath = (params: Record<string, string>) => `/functions/v1/logs/tail?${new URLSearchParams(params)}`;
  const openStream = async (app: { request: typeof env.app.request }, params: Record<string, string>, auth: { token?: string; apiKey?: string }, headers: Record<string, string> = {}) => {
    const h: Record<string, string> = { ...headers };
    if (auth.token) h.authorization = `Bearer ${auth.token}`;
    if (auth.apiKey) h['x-api-key'] = auth.apiKey;
    return app.request(tailPath(params), { headers: h });
  };
  /** A new read key (on project A unless named), created through the API by the owner. */
  const newKey = async (body: Record<string, unknown> = {}) => {
    const res = await env.request('POST', '/functions/v1/api-keys', { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'tail', scopes: ['read'], ...body } });
    expect(res.status, await res.clone().text()).toBe(201);
    const json = (await res.json()) as { apiKey: { id: string }; secret: string };
    return { id: json.apiKey.id, secret: json.secret };
  };

  it('streams only new matching lines, picks up late commits within the settle window, never twice', async () => {
    const tail = await openLogTail(env.deps, viewer(), undefined, asViewer, { filter: { projectId: t.projectA, services: ['tail'], attributes: [] }, rate: 100, settleMs: 60_000 });
    expect((await tail.poll()).logs).toEqual([]);
    // Reserve an id (an ingest transaction still open), then commit a later one first.
    const early = await nextId();
    const later = await nextId();
    await insertWithId(later, 'second committed first');
    await ingest([{ message: 'not for this tail', service: 'elsewhere', at: NOW - 1000 }]);
    expect((await tail.poll()).logs.map((l) => l.message)).toEqual(['second committed first']);
    clock.advance(10_000);
    await insertWithId(early, 'first committed late');
    expect((await tail.poll()).logs.map((l) => l.message)).toEqual(['first committed late']);
    expect((await tail.poll()).logs).toEqual([]);
    // Past the settle window, a straggler below the head is given up on.
    const straggler = await nextId();
    const fresh = await nextId();
    await insertWithId(fresh, 'fresh');
    expect((await tail.poll()).logs.map((l) => l.message)).toEqual(['fresh']);
    clock.advance(61_000);
    await tail.poll();
    clock.advance(1_000);
    await tail.poll();
    await insertWithId(straggler, 'too late');
    expect((await tail.poll()).logs).toEqual([]);
    clock.advance(-72_000);
  });

  it('resumes after a last (public) id and bounds the rate, reporting what it skipped', async () => {
    const ids = await logIdCodec(env.db);
    const first = await nextId();
    await insertWithId(first, 'resume-1', 'tail2');
    for (let i = 2; i <= 4; i++) await insertWithId(await nextId(), `resume-${i}`, 'tail2');
    const resumed = await openLogTail(env.deps, viewer(), undefined, asViewer, { filter: { projectId: t.projectA, services: ['tail2'], attributes: [] }, rate: 10, lastId: ids.toPublic(first) });
    const lines = (await resumed.poll()).logs;
    expect(lines.map((l) => l.message)).toEqual(['resume-2', 'resume-3', 'resume-4']);
    expect(resumed.lastId).toBe(lines[2]!.id);

    const bounded = await openLogTail(env.deps, viewer(), undefined, asViewer, { filter: { projectId: t.projectA, services: ['tail3'], attributes: [] }, rate: 5 });
    for (let i = 0; i < 12; i++) await insertWithId(await nextId(), `flood-${i}`, 'tail3');
    const b = await bounded.poll();
    expect(b.logs.map((l) => l.message)).toEqual(['flood-0', 'flood-1', 'flood-2', 'flood-3', 'flood-4']);
    expect(b.dropped).toBe(7);
    await insertWithId(await nextId(), 'after the flood', 'tail3');
    expect((await bounded.poll()).logs.map((l) => l.message)).toEqual(['after the flood']);
  });

  it('a tail sees nothing of projects the caller cannot read', async () => {
    await expect(openLogTail(env.deps, { sub: t.people.outsider.id, role: 'authenticated' }, undefined, asViewer, { filter: { projectId: t.projectA, attributes: [] }, rate: 5 })).rejects.toThrow(/not found/);
  });

  describe('a poll after the credential stopped holding ends the tail and sends nothing', () => {
    const keyClaims = (keyId: string) => ({ role: 'authenticated', observai_key: { id: keyId, project_id: t.projectA, organization_id: t.orgId, scopes: ['read'] } });
    const filter = (service: string) => ({ filter: { projectId: t.projectA, services: [service], attributes: [] }, rate: 10 });

    it.each([
      ['revoked', (id: string) => env.request('POST', `/functions/v1/api-keys/${id}/revoke`, { token: t.people.owner.jwt }), 'credential_revoked'],
      ['deleted', (id: string) => env.db.query('delete from public.api_keys where id = $1', [id]), 'credential_revoked'],
      ['past its expiry', async () => clock.advance(2 * HOUR), 'credential_expired'],
    ] as const)('an API key %s', async (_, stop, reason) => {
      const key = await newKey({ expiresAt: iso(clock.now().getTime() + HOUR) });
      const service = `key-${reason}-${key.id.slice(0, 8)}`;
      const tail = await openLogTail(env.deps, keyClaims(key.id), t.projectA, { kind: 'apiKey', keyId: key.id }, filter(service));
      await insert('before', service);
      expect((await tail.poll()).logs.map((l) => l.message)).toEqual(['before']);
      await insert('after', service);
      await stop(key.id);
      try {
        expect(await tail.poll()).toEqual({ logs: [], dropped: 0, end: reason });
      } finally {
        if (reason === 'credential_expired') clock.advance(-2 * HOUR);
      }
    });

    it('a user token past its exp', async () => {
      const exp = Math.floor(clock.now().getTime() / 1000) + 5;
      const tail = await openLogTail(env.deps, { ...viewer(), exp }, undefined, { kind: 'user', expiresAt: exp * 1000 }, filter('user-exp'));
      await insert('in time', 'user-exp');
      expect((await tail.poll()).logs.map((l) => l.message)).toEqual(['in time']);
      await insert('too late', 'user-exp');
      clock.advance(5_000);
      try {
        expect(await tail.poll()).toEqual({ logs: [], dropped: 0, end: 'credential_expired' });
      } finally {
        clock.advance(-5_000);
      }
    });

    it('a user taken off the project', async () => {
      const member = { sub: t.people.member.id, role: 'authenticated' };
      const tail = await openLogTail(env.deps, member, undefined, { kind: 'user' }, filter('unassigned'));
      await insert('assigned', 'unassigned');
      expect((await tail.poll()).logs.map((l) => l.message)).toEqual(['assigned']);
      await env.db.query('delete from public.project_members where project_id = $1 and user_id = $2', [t.projectA, t.people.member.id]);
      try {
        expect(await tail.poll()).toEqual({ logs: [], dropped: 0, end: 'access_revoked' });
      } finally {
        await env.db.query('insert into public.project_members (project_id, organization_id, user_id) values ($1, $2, $3)', [t.projectA, t.orgId, t.people.member.id]);
      }
    });
  });

  describe('over HTTP (Server-Sent Events)', () => {
    it('a ready event, log events carrying their public id, resumable with Last-Event-ID', async () => {
      const res = await openStream(env.app, { projectId: t.projectA, service: 'sse', q: 'hello' }, { token: t.people.viewer.jwt });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const stream = sseReader(res);
      const ready = await stream.next('ready');
      expect(ready.retry).toBe('1000');
      await ingest([
        { message: 'hello from sse', service: 'sse', at: NOW - 500 },
        { message: 'goodbye from sse', service: 'sse', at: NOW - 400 },
        { message: 'hello again from sse', service: 'sse', at: NOW - 300 },
      ]);
      const { event } = await nextEventPolling(stream, clock, 'log', { ms: POLL_MS, maxPolls: 3 });
      const line = JSON.parse(event.data!);
      expect(line.message).toBe('hello from sse');
      expect(event.id).toBe(line.id);
      const [stored] = await env.db.query<{ id: string }>(`select id::text from public.logs where message = 'hello from sse'`);
      expect(line.id).not.toBe(stored!.id);
      await stream.cancel();

      const resumed = sseReader(await openStream(env.app, { projectId: t.projectA, service: 'sse', q: 'hello' }, { token: t.people.viewer.jwt }, { 'last-event-id': line.id }));
      expect(JSON.parse((await resumed.next('ready')).data!).lastId).toBe(line.id);
      const again = await nextEventPolling(resumed, clock, 'log', { ms: POLL_MS, maxPolls: 3 });
      expect(JSON.parse(again.event.data!).message).toBe('hello again from sse');
      await resumed.cancel();

      const bad = await openStream(env.app, { projectId: t.projectA }, { token: t.people.viewer.jwt }, { 'last-event-id': 'abc' });
      expect(bad.status).toBe(400);
    }, 20_000);

    it.each([
      ['revoking the key', 'credential_revoked'],
      ['the key expiring', 'credential_expired'],
    ] as const)('the stream ends at the first poll after %s, sending nothing more', async (_, reason) => {
      // Polls at 0 s (on opening), 1 s (which sends 'sent') and 2 s: an expiry at 2 s is that poll's.
      const key = await newKey(reason === 'credential_expired' ? { expiresAt: iso(clock.now().getTime() + 2 * POLL_MS) } : {});
      const service = `sse-${reason}`;
      const stream = sseReader(await openStream(env.app, { service }, { apiKey: key.secret }));
      await stream.next('ready');
      await until(() => clock.sleepers() > 0, 'the first poll');
      await insert('sent', service);
      expect((await nextEventPolling(stream, clock, 'log', { ms: POLL_MS, maxPolls: 1 })).polls).toBe(1);
      await insert('never sent', service);
      if (reason === 'credential_revoked') {
        expect((await env.request('POST', `/functions/v1/api-keys/${key.id}/revoke`, { token: t.people.owner.jwt })).status).toBe(200);
      }
      const { event, polls } = await nextEventPolling(stream, clock, 'end', { ms: POLL_MS, maxPolls: 10 });
      expect(JSON.parse(event.data!)).toMatchObject({ reason });
      expect(polls).toBe(1);
      expect(stream.seen.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data!).message)).toEqual(['sent']);
      await expect(stream.next('log')).rejects.toThrow(/stream ended/);
    }, 20_000);

    it("the stream ends within a poll of the user token's exp", async () => {
      const jwt = await signJwt(TEST_JWT_SECRET, { sub: t.people.viewer.id, role: 'authenticated' }, { now: clock.now(), expiresInSeconds: 3 });
      const stream = sseReader(await openStream(env.app, { projectId: t.projectA, service: 'sse-jwt' }, { token: jwt }));
      await stream.next('ready');
      const { event, polls } = await nextEventPolling(stream, clock, 'end', { ms: POLL_MS, maxPolls: 10 });
      expect(JSON.parse(event.data!)).toMatchObject({ reason: 'credential_expired' });
      expect(polls).toBeLessThanOrEqual(3);
    }, 20_000);

    it('time, heartbeats and the time limit come from the clock', async () => {
      const events: string[] = [];
      const sink: SseSink = {
        async writeSSE(m) {
          events.push(m.event === 'end' ? `end:${JSON.parse(m.data).reason}` : m.event!);
        },
        async write(text) {
          events.push(text.trim());
        },
      };
      const tail = await openLogTail(env.deps, viewer(), undefined, asViewer, { filter: { projectId: t.projectA, services: ['quiet'], attributes: [] }, rate: 5 });
      const slots = createTailSlots(env.deps);
      const lease = await slots.acquire({ projectId: t.projectA, userId: t.people.viewer.id });
      // Polls at 0..5 s; idle 2 s at 2 and 4 s; the limit reached at 6 s.
      const run = streamLogTail(env.deps, tail, lease, sink, new Promise(() => {}), { pollMs: 1000, heartbeatMs: 2000, maxDurationMs: 6000 });
      for (let i = 0; i < 6; i++) {
        await until(() => clock.sleepers() > 0, 'the stream to sleep');
        clock.advance(1000);
      }
      await run;
      expect(events).toEqual(['ready', ': heartbeat', ': heartbeat', 'end:max_duration']);
      expect(slots.open).toBe(0);
    });
  });

  describe('caps on concurrent tails', () => {
    // Every case counts its own principals and projects: a cancelled stream gives its slots back a
    // moment after the cancel, and must not be counted by the next case.
    const caps = { maxPerKey: 1, maxPerUser: 2, maxPerProject: 3, maxPerProcess: 3 };
    type Worker = ReturnType<typeof createGatewayApp>;
    type Auth = { token?: string; apiKey?: string };
    /** A gateway process of its own: the same database and cache, its own per-process count. */
    const worker = (): Worker => createGatewayApp({ ...env.deps, config: { ...env.deps.config, logTail: caps } });
    const project = async () => {
      const [p] = await env.db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'T', $2) returning id`, [t.orgId, `tail-${Math.random().toString(36).slice(2, 10)}`]);
      return p!.id;
    };
    /** A new viewer of the organization (reads every project of it). */
    const viewerToken = async () => {
      const user = await env.createUser();
      await env.db.query(`insert into public.organization_members (organization_id, user_id, role) values ($1, $2, 'viewer')`, [t.orgId, user.id]);
      return { token: user.jwt };
    };
    const opened: Array<ReturnType<typeof sseReader>> = [];
    const open = async (app: Worker, auth: Auth, projectId: string) => {
      const res = await openStream(app, { projectId }, auth);
      if (res.status !== 200) expect.fail(`${res.status} ${await res.text()}`);
      const s = sseReader(res);
      await s.next('ready');
      opened.push(s);
    };
    /** The 429's message, after checking its code and Retry-After. */
    const refused = async (app: Worker, auth: Auth, projectId: string) => {
      const res = await openStream(app, { projectId }, auth);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe(String(SLOT_TTL_MS / 1000));
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('RATE_LIMITED');
      return body.error.message;
    };
    /** Opens (and closes) a tail once the slots of the streams just cancelled are given back. */
    const openOnceFree = async (app: Worker, auth: Auth, projectId: string) => {
      for (let attempt = 0; ; attempt++) {
        const res = await openStream(app, { projectId }, auth);
        if (res.status === 200) return res.body!.cancel();
        expect(res.status).toBe(429);
        if (attempt >= 100) throw new Error('the slot was never given back');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const closeAll = async () => {
      for (const s of opened.splice(0)) await s.cancel();
    };
    afterAll(closeAll);

    it('per API key, across processes; closing a tail gives its slot back', async () => {
      const [a, b] = [worker(), worker()];
      const p = await project();
      const key = await newKey({ projectId: p });
      await open(a, { apiKey: key.secret }, p);
      expect(await refused(a, { apiKey: key.secret }, p)).toMatch(/for this API key \(at most 1\)/);
      expect(await refused(b, { apiKey: key.secret }, p)).toMatch(/for this API key/);
      await closeAll();
      await openOnceFree(b, { apiKey: key.secret }, p);
    });

    it('per user, across processes and projects', async () => {
      const [a, b] = [worker(), worker()];
      const [p, q] = [await project(), await project()];
      const user = await viewerToken();
      await open(a, user, p);
      await open(b, user, q);
      expect(await refused(b, user, p)).toMatch(/for this user \(at most 2\)/);
      await closeAll();
      await openOnceFree(a, user, p);
    });

    it('per project, whoever opens them; another project is counted apart', async () => {
      const [a, b] = [worker(), worker()];
      const [p, q] = [await project(), await project()];
      const key = await newKey({ projectId: p });
      await open(a, await viewerToken(), p);
      await open(a, await viewerToken(), p);
      await open(b, { apiKey: key.secret }, p);
      const fourth = await viewerToken();
      expect(await refused(b, fourth, p)).toMatch(/on this project \(at most 3\)/);
      await open(b, fourth, q);
      await closeAll();
    });

    it('per process', async () => {
      const [a, b] = [worker(), worker()];
      const p = await project();
      for (let i = 0; i < 3; i++) await open(a, await viewerToken(), i < 2 ? p : await project());
      expect(await refused(a, await viewerToken(), await project())).toMatch(/on this server \(at most 3\)/);
      await open(b, await viewerToken(), await project());
      await closeAll();
    });

    it('a slot of a process that died lapses by itself', async () => {
      const p = await project();
      const key = await newKey({ projectId: p });
      // What a process leaves behind when it dies with a tail open: a slot it never gives back.
      expect(await env.deps.cache.acquireSlots([{ key: `tail:key:${key.id}`, limit: 1 }], 'dead-process', { now: clock.now().getTime(), ttlMs: SLOT_TTL_MS })).toBe(-1);
      expect(await refused(worker(), { apiKey: key.secret }, p)).toMatch(/for this API key/);
      clock.advance(SLOT_TTL_MS);
      try {
        await open(worker(), { apiKey: key.secret }, p);
      } finally {
        await closeAll();
        clock.advance(-SLOT_TTL_MS);
      }
    });
  });
});
