/**
 * The alert stream (GET /alerts/stream): a project's alert transitions as Server-Sent Events, on the
 * same machinery as the live log tail (src/http/sse-stream.ts, src/db/id-follower.ts,
 * src/auth/stream-credential.ts, src/http/stream-slots.ts). Transitions arrive in id order with their
 * ids and the history's view; a resume sends only later ones; a transition committed late with a
 * smaller id is sent once; other projects' never appear; only readers may stream; a revoked key's
 * stream ends; open streams are capped. Driven by the fake clock the stream sleeps on.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openAlertStream } from '../../src/alerts/stream-alerts.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { createGatewayApp } from '../../src/app/app.ts';
import { SLOT_TTL_MS } from '../../src/http/stream-slots.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { nextEventPolling, sseReader, until } from '../helpers/sse.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const POLL_MS = 1000;

describe('alert stream', () => {
  let env: TestEnv;
  let clock: FakeClock;
  let t: Tenant;

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: iso(NOW) });
    clock = env.clock as FakeClock;
    t = await createTenant(env);
  }, 60_000);
  afterAll(async () => env?.close());

  type Reader = ReturnType<typeof sseReader>;
  const opened: Reader[] = [];
  /** Closes every stream a case opened, and waits until none sleeps on the clock any more. */
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.cancel();
    await until(() => clock.sleepers() === 0, 'the closed streams to stop');
  });

  const viewer = () => ({ sub: t.people.viewer.id, role: 'authenticated' });
  const orgOf = (projectId: string) => (projectId === t.other.projectId ? t.other.orgId : t.orgId);
  /** A transition as the jobs write it (service role); `id` forces one reserved earlier (a late commit). */
  const transition = async (fingerprint: string, opts: { projectId?: string; id?: bigint; ruleId?: string; to?: string } = {}) => {
    const projectId = opts.projectId ?? t.projectA;
    const cols = 'project_id, organization_id, rule_id, fingerprint, labels, from_state, to_state, severity, value, threshold, reason, at';
    const values = [projectId, orgOf(projectId), opts.ruleId ?? null, fingerprint, JSON.stringify({ alertname: 'Stream', fp: fingerprint }), opts.to ?? 'firing', clock.now()];
    const [row] = opts.id
      ? await env.db.query<{ id: string }>(
          `insert into public.alert_transitions (id, ${cols}) overriding system value
           values ($8, $1, $2, $3, $4, $5::text::jsonb, 'pending', $6, 'critical', 3.5, 1, 'above the threshold', $7) returning id::text`,
          [...values, opts.id.toString()],
        )
      : await env.db.query<{ id: string }>(
          `insert into public.alert_transitions (${cols}) values ($1, $2, $3, $4, $5::text::jsonb, 'pending', $6, 'critical', 3.5, 1, 'above the threshold', $7) returning id::text`,
          values,
        );
    return row!.id;
  };
  const nextId = async () =>
    BigInt((await env.db.query<{ id: string }>(`select nextval(pg_get_serial_sequence('public.alert_transitions', 'id'))::text as id`))[0]!.id);
  const fp = () => Math.random().toString(16).slice(2, 18).padEnd(16, '0');

  type Auth = { token?: string; apiKey?: string };
  const openStream = (app: { request: typeof env.app.request }, params: Record<string, string>, auth: Auth, headers: Record<string, string> = {}) => {
    const h: Record<string, string> = { ...headers };
    if (auth.token) h.authorization = `Bearer ${auth.token}`;
    if (auth.apiKey) h['x-api-key'] = auth.apiKey;
    return app.request(`/functions/v1/alerts/stream?${new URLSearchParams(params)}`, { headers: h });
  };
  /** Opens a stream that must be accepted, and reads its `ready`. */
  const stream = async (params: Record<string, string>, auth: Auth, headers: Record<string, string> = {}, app: { request: typeof env.app.request } = env.app) => {
    const res = await openStream(app, params, auth, headers);
    if (res.status !== 200) expect.fail(`${res.status} ${await res.text()}`);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const s = sseReader(res);
    opened.push(s);
    return { s, ready: JSON.parse((await s.next('ready')).data!) as { lastId: string } };
  };
  /** The next `count` transition events, moving the clock a poll at a time while none has come. */
  const transitions = async (s: Reader, count: number) => {
    const events = [(await nextEventPolling(s, clock, 'transition', { ms: POLL_MS, maxPolls: 3 })).event];
    while (events.length < count) events.push(await s.next('transition'));
    return events.map((e) => ({ eventId: e.id, ...(JSON.parse(e.data!) as { id: string; projectId: string; fingerprint: string; toState: string; labels: Record<string, string> }) }));
  };
  /** A new read key (on project A unless named), created through the API by the owner. */
  const newKey = async (body: Record<string, unknown> = {}) => {
    const res = await env.request('POST', '/functions/v1/api-keys', { token: t.people.owner.jwt, body: { projectId: t.projectA, name: 'stream', scopes: ['read'], ...body } });
    expect(res.status, await res.clone().text()).toBe(201);
    const json = (await res.json()) as { apiKey: { id: string }; secret: string };
    return { id: json.apiKey.id, secret: json.secret };
  };

  it('streams new transitions in id order, each with its id and the history view; never those of another project', async () => {
    const before = await transition(fp());
    const { s, ready } = await stream({ projectId: t.projectA }, { token: t.people.viewer.jwt });
    // Starts after the project's newest transition: the one before it opened is not sent.
    expect(ready.lastId).toBe(before);
    await until(() => clock.sleepers() > 0, 'the first poll');
    const a1 = await transition(fp());
    await transition(fp(), { projectId: t.projectB });
    const a2 = await transition(fp());
    await transition(fp(), { projectId: t.other.projectId });
    const a3 = await transition(fp(), { to: 'resolved' });
    const got = await transitions(s, 3);
    expect(got.map((g) => g.id)).toEqual([a1, a2, a3]);
    for (const g of got) expect(g.eventId).toBe(g.id);
    // The event's data is the history's view of the transition.
    const history = await env.request('GET', `/functions/v1/alerts/history?projectId=${t.projectA}&limit=3`, { token: t.people.viewer.jwt });
    const views = ((await history.json()) as { transitions: Array<{ id: string }> }).transitions.reverse();
    expect(got.map(({ eventId: _, ...view }) => view)).toEqual(views);
    // The other projects' transitions (committed between A's) were never sent.
    await transition(fp(), { projectId: t.projectB });
    const a4 = await transition(fp());
    expect((await transitions(s, 1))[0]!.id).toBe(a4);
    expect(s.seen.filter((e) => e.event === 'transition').every((e) => JSON.parse(e.data!).projectId === t.projectA)).toBe(true);
  }, 20_000);

  it('carries the transitions of alerts sent through the Alertmanager API', async () => {
    // A read key streams its own project without naming it.
    const { s } = await stream({}, { apiKey: t.keyA.secret });
    await until(() => clock.sleepers() > 0, 'the first poll');
    const res = await env.request('POST', '/functions/v1/alerts/api/v2/alerts', {
      headers: { authorization: `Bearer ${t.keyA.secret}` },
      body: [{ labels: { alertname: 'DiskFull', host: 'db-1' }, endsAt: iso(clock.now().getTime() + HOUR) }],
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const [got] = await transitions(s, 1);
    expect(got).toMatchObject({ projectId: t.projectA, toState: 'firing', labels: { alertname: 'DiskFull', host: 'db-1' } });
  }, 20_000);

  it('resumes after Last-Event-ID (or lastId), sending only later transitions; a bad one is a 400', async () => {
    const f = fp();
    const ids = [await transition(f), await transition(f), await transition(f)];
    const { s, ready } = await stream({ projectId: t.projectA, fingerprint: f }, { token: t.people.viewer.jwt }, { 'last-event-id': ids[0]! });
    expect(ready.lastId).toBe(ids[0]);
    expect((await transitions(s, 2)).map((g) => g.id)).toEqual(ids.slice(1));

    const byQuery = await stream({ projectId: t.projectA, fingerprint: f, lastId: ids[1]! }, { token: t.people.viewer.jwt });
    expect((await transitions(byQuery.s, 1)).map((g) => g.id)).toEqual([ids[2]]);

    const bad = await openStream(env.app, { projectId: t.projectA }, { token: t.people.viewer.jwt }, { 'last-event-id': 'abc' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { details: Array<{ field: string }> } }).error.details[0]!.field).toBe('header.last-event-id');
  }, 20_000);

  it('a transition committed late with a smaller id is sent, once; filters by rule and fingerprint hold', async () => {
    const [rule] = await env.db.query<{ id: string }>(
      `insert into public.alert_rules (project_id, organization_id, key, name, kind, query, condition) values ($1, $2, 'stream-rule', 'Stream rule', 'metric', '{"metric": "m"}', '{"op": ">", "critical": 1}') returning id`,
      [t.projectA, t.orgId],
    );
    const live = await openAlertStream(env.deps, viewer(), undefined, { kind: 'user' }, { projectId: t.projectA, ruleId: rule!.id });
    expect((await live.poll()).transitions).toEqual([]);
    // Reserve an id (a job's transaction still open), then commit a later one first.
    const early = await nextId();
    const later = await transition(fp(), { ruleId: rule!.id });
    await transition(fp()); // another rule's: filtered out
    expect((await live.poll()).transitions.map((x) => x.id)).toEqual([later]);
    clock.advance(10_000);
    await transition(fp(), { id: early, ruleId: rule!.id });
    expect((await live.poll()).transitions.map((x) => x.id)).toEqual([early.toString()]);
    expect((await live.poll()).transitions).toEqual([]);
    expect(live.lastId).toBe(later);
    clock.advance(-10_000);
  });

  it('sends at most a batch a poll; the rest follow in the next polls, none dropped', async () => {
    const f = fp();
    const live = await openAlertStream(env.deps, viewer(), undefined, { kind: 'user' }, { projectId: t.projectA, fingerprint: f, batch: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await transition(f));
    const polls = [await live.poll(), await live.poll(), await live.poll(), await live.poll()].map((p) => p.transitions.map((x) => x.id));
    expect(polls).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4), []]);
  });

  it('a viewer may stream; an outsider, or a key of another project, gets 404; an ingest-only key 403', async () => {
    await stream({ projectId: t.projectA }, { token: t.people.viewer.jwt });
    expect((await openStream(env.app, { projectId: t.projectA }, { token: t.people.outsider.jwt })).status).toBe(404);
    expect((await openStream(env.app, { projectId: t.projectB }, { apiKey: t.keyA.secret })).status).toBe(404);
    const ingestOnly = await newKey({ scopes: ['ingest'] });
    expect((await openStream(env.app, {}, { apiKey: ingestOnly.secret })).status).toBe(403);
    expect((await openStream(env.app, { projectId: t.projectA }, {})).status).toBe(401);
  }, 20_000);

  it("a revoked API key's stream ends at the next poll with end credential_revoked, sending nothing more", async () => {
    const key = await newKey();
    const { s } = await stream({}, { apiKey: key.secret });
    await until(() => clock.sleepers() > 0, 'the first poll');
    const sent = await transition(fp());
    expect((await transitions(s, 1))[0]!.id).toBe(sent);
    await transition(fp());
    expect((await env.request('POST', `/functions/v1/api-keys/${key.id}/revoke`, { token: t.people.owner.jwt })).status).toBe(200);
    const { event, polls } = await nextEventPolling(s, clock, 'end', { ms: POLL_MS, maxPolls: 10 });
    expect(JSON.parse(event.data!)).toMatchObject({ reason: 'credential_revoked', lastId: sent });
    expect(polls).toBe(1);
    expect(s.seen.filter((e) => e.event === 'transition').map((e) => e.id)).toEqual([sent]);
    await expect(s.next('transition')).rejects.toThrow(/stream ended/);
  }, 20_000);

  it('caps open streams (429 naming the cap), counted apart from live tails', async () => {
    const caps = { maxPerKey: 1, maxPerUser: 2, maxPerProject: 3, maxPerProcess: 3 };
    const worker = createGatewayApp({ ...env.deps, config: { ...env.deps.config, logTail: caps } });
    const key = await newKey();
    await stream({}, { apiKey: key.secret }, {}, worker);
    const refused = await openStream(worker, {}, { apiKey: key.secret });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe(String(SLOT_TTL_MS / 1000));
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/Too many alert streams open for this API key \(at most 1\)/) });
    // Another process counts the same key's slot through the cache.
    const other = createGatewayApp({ ...env.deps, config: { ...env.deps.config, logTail: caps } });
    expect((await openStream(other, {}, { apiKey: key.secret })).status).toBe(429);
    // The same key may still open a live tail: the kinds are counted apart.
    const tail = await worker.request(`/functions/v1/logs/tail`, { headers: { 'x-api-key': key.secret } });
    expect(tail.status).toBe(200);
    opened.push(sseReader(tail));
    // Closing the stream gives its slot back.
    await opened.shift()!.cancel();
    for (let attempt = 0; ; attempt++) {
      const res = await openStream(worker, {}, { apiKey: key.secret });
      if (res.status === 200) {
        opened.push(sseReader(res));
        break;
      }
      expect(res.status).toBe(429);
      if (attempt >= 100) throw new Error('the slot was never given back');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }, 20_000);
});
