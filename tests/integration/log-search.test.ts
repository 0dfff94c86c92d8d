/**
 * Log search through the logs function: every search operator on tricky text (punctuation, stack
 * traces, URLs, non-English words), every filter, keyset pagination that neither skips nor repeats
 * while rows arrive between pages, signed cursors that refuse every edit with a 400, the level
 * histogram, a log with its context, log ids that reveal nothing about other tenants, RLS, and bad
 * parameters answered with a 400 naming the field. The live tail is in log-tail.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/auth/api-key-secret.ts';
import { cursorCodec } from '../../src/core/cursor.ts';
import { withClaims } from '../../src/db/scoped.ts';
import { serverSecret } from '../../src/db/server-secret.ts';
import { logSearchVector } from '../../src/logs/search-syntax.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { logCountsDrift } from '../helpers/log-counts.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const HOUR = 3_600_000;
// A fixed clock near real time, so the migration's partitions cover the data.
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

interface L {
  key: string;
  message: string;
  level?: string;
  service?: string;
  at: number;
  attributes?: Record<string, unknown>;
  trace_id?: string;
  span_id?: string;
}

const CORPUS: L[] = [
  { key: 'url', message: 'GET https://api.example.com/v1/users?id=42 failed: connection refused', level: 'error', service: 'web', at: NOW - 50 * 60_000, attributes: { 'http.status_code': 502, route: '/v1/users' } },
  { key: 'npe', message: 'java.lang.NullPointerException\n\tat com.foo.Bar.baz(Bar.java:42)\n\tat com.foo.Main.run(Main.java:7)', level: 'error', service: 'billing', at: NOW - 40 * 60_000, trace_id: TRACE, span_id: SPAN },
  { key: 'de', message: 'Zahlung für Müller fehlgeschlagen', level: 'warn', service: 'billing', at: NOW - 35 * 60_000, attributes: { customer: 'müller' } },
  { key: 'ru', message: 'ошибка подключения к базе данных', level: 'error', service: 'db', at: NOW - 30 * 60_000 },
  { key: 'reset', message: 'connection reset by peer', level: 'warn', service: 'web', at: NOW - 25 * 60_000, attributes: { 'http.status_code': 500 } },
  { key: 'reversed', message: 'refused connection attempt from 10.0.0.1:8080', level: 'info', service: 'web', at: NOW - 20 * 60_000, trace_id: TRACE },
  { key: 'snake', message: 'user_id=7 logged in (session timeout=30m)', level: 'info', service: 'auth', at: NOW - 15 * 60_000, attributes: { user_id: '7' } },
  { key: 'health', message: 'health check ok', level: 'debug', service: 'web', at: NOW - 10 * 60_000 },
  { key: 'timeouts', message: 'Timeouts exceeded; retrying "payment" call', level: 'warn', service: 'billing', at: NOW - 5 * 60_000 },
  { key: 'fatal', message: 'out of memory: killed process 1234 (node)', level: 'fatal', service: 'db', at: NOW - 2 * 60_000 },
];

describe('log search', () => {
  let env: TestEnv;
  let t: Tenant;
  const ids = new Map<string, string>();

  const ingest = async (logs: L[], apiKey = t.keyA.secret) => {
    const res = await env.request('POST', '/functions/v1/ingest', {
      apiKey,
      body: {
        logs: logs.map((l) => ({
          timestamp: l.at,
          level: l.level ?? 'info',
          service: l.service ?? 'web',
          message: l.message,
          attributes: { ...(l.attributes ?? {}), key: l.key },
          ...(l.trace_id ? { trace_id: l.trace_id } : {}),
          ...(l.span_id ? { span_id: l.span_id } : {}),
        })),
      },
    });
    expect(res.status).toBe(200);
    expect((await res.json()).rejected).toBe(0);
  };

  const get = async (path: string, auth: { token?: string; apiKey?: string } = {}) => {
    const res = await env.request('GET', `/functions/v1/logs${path}`, auth.token || auth.apiKey ? auth : { token: t.people.viewer.jwt });
    return { status: res.status, body: await res.json() };
  };
  const search = async (params: Record<string, string>, auth?: { token?: string; apiKey?: string }) => {
    const qs = new URLSearchParams({ projectId: t.projectA, from: iso(NOW - HOUR), to: iso(NOW + 1), ...params });
    const r = await get(`/search?${qs}`, auth);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as { logs: Array<{ id: string; message: string; attributes: { key: string }; time: string; level: string; service: string; traceId: string | null }>; nextCursor: string | null };
  };
  const keys = async (params: Record<string, string>) => (await search(params)).logs.map((l) => l.attributes.key).sort();

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: iso(NOW) });
    t = await createTenant(env);
    await ingest(CORPUS);
    // Same words in another project: never visible from project A.
    await env.db.query(
      `insert into public.logs (project_id, time, level, service, message, attributes, event_key) values ($1, $2, 'error', 'web', 'connection refused elsewhere', '{"key":"other"}', 1)`,
      [t.other.projectId, new Date(NOW - 30 * 60_000)],
    );
    for (const l of (await search({ limit: '100' })).logs) ids.set(l.attributes.key, l.id);
  }, 60_000);
  afterAll(async () => env?.close());

  it.each<[string, string[]]>([
    ['connection', ['reset', 'reversed', 'url']],
    ['CONNECTION', ['reset', 'reversed', 'url']],
    ['"connection refused"', ['url']],
    ['"refused connection"', ['reversed']],
    ['connection -reset', ['reversed', 'url']],
    ['connection -"connection refused"', ['reset', 'reversed']],
    ['reset OR Müller', ['de', 'reset']],
    ['connection refused OR peer', ['reset', 'reversed', 'url']],
    ['NullPointerException', ['npe']],
    ['java.lang.NullPointerException', ['npe']],
    ['Bar.java:42', ['npe']],
    ['com.foo.Main', ['npe']],
    ['api.example.com', ['url']],
    ['https://api.example.com/v1/users?id=42', ['url']],
    ['users', ['url']],
    ['10.0.0.1', ['reversed']],
    ['8080', ['reversed']],
    ['user_id=7', ['snake']],
    ['timeout', ['snake']],
    ['timeout*', ['snake', 'timeouts']],
    ['"payment"', ['timeouts']],
    ['müller', ['de']],
    ['MÜLLER', ['de']],
    ['für', ['de']],
    ['ошибка', ['ru']],
    ['базе данных', ['ru']],
    ['(node)', ['fatal']],
    ['nothing-matches-this', []],
  ])('q=%j finds %j', async (q, expected) => {
    expect(await keys({ q })).toEqual(expected);
  });

  it.each<[Record<string, string>, string[]]>([
    [{ level: 'error' }, ['npe', 'ru', 'url']],
    [{ level: 'warn,fatal' }, ['de', 'fatal', 'reset', 'timeouts']],
    [{ minLevel: 'error' }, ['fatal', 'npe', 'ru', 'url']],
    [{ minLevel: 'warn', level: 'warn,info' }, ['de', 'reset', 'timeouts']],
    [{ service: 'billing' }, ['de', 'npe', 'timeouts']],
    [{ service: 'db,auth' }, ['fatal', 'ru', 'snake']],
    [{ service: 'web', level: 'warn', q: 'connection' }, ['reset']],
    [{ traceId: TRACE }, ['npe', 'reversed']],
    [{ traceId: TRACE.toUpperCase(), spanId: SPAN }, ['npe']],
    [{ 'attr.http.status_code': '502' }, ['url']],
    [{ 'attr.route': '/v1/users' }, ['url']],
    [{ 'attr.customer': 'müller' }, ['de']],
    [{ has: 'http.status_code' }, ['reset', 'url']],
    [{ has: 'http.status_code,route' }, ['url']],
    [{ from: iso(NOW - 31 * 60_000), to: iso(NOW - 15 * 60_000) }, ['reset', 'reversed', 'ru']],
  ])('filter %j', async (params, expected) => {
    expect(await keys(params)).toEqual(expected);
  });

  it('returns the fields of a log, newest first by default and oldest first on request', async () => {
    const { logs } = await search({});
    expect(logs.map((l) => l.attributes.key)).toEqual(CORPUS.map((l) => l.key).reverse());
    const npe = logs.find((l) => l.attributes.key === 'npe')!;
    expect(npe).toMatchObject({ level: 'error', service: 'billing', traceId: TRACE, spanId: SPAN, time: iso(NOW - 40 * 60_000) });
    expect(npe.message).toBe(CORPUS[1]!.message);
    const asc = await search({ order: 'asc' });
    expect(asc.logs.map((l) => l.attributes.key)).toEqual(CORPUS.map((l) => l.key));
  });

  it('the full-text condition is the indexed expression (the planner can use the GIN index)', async () => {
    // With sequential scans off, only an index on exactly this expression can answer the query.
    const plan = await env.db.transaction(async (tx) => {
      await tx.query('set local enable_seqscan = off');
      return tx.query<Record<string, string>>(`explain select id from public.logs l where ${logSearchVector('l')} @@ to_tsquery('simple', 'connection')`);
    });
    const text = plan.map((r) => Object.values(r)[0]).join('\n');
    expect(text).toMatch(/Bitmap Index Scan on logs_\d+_to_tsvector_idx/);
    expect(text).not.toMatch(/Seq Scan/);
  });

  it.each(['desc', 'asc'] as const)('pagination (%s) neither skips nor repeats while logs arrive between pages', async (order) => {
    const base = NOW - 3 * HOUR;
    const batch = Array.from({ length: 57 }, (_, i): L => ({
      key: `page-${order}-${i}`,
      message: `paging ${order} line ${i}`,
      service: 'pager',
      // Ties on purpose: three lines share each timestamp, so ordering must fall back to the id.
      at: base + Math.floor(i / 3) * 1000,
    }));
    await ingest(batch);
    const range = { from: iso(base - 1000), to: iso(base + HOUR), service: 'pager', q: order, order, limit: '10' };
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await search({ ...range, ...(cursor ? { cursor } : {}) });
      seen.push(...page.logs.map((l) => l.attributes.key));
      cursor = page.nextCursor;
      // New lines in the middle, before and after the window arrive between pages.
      await ingest([
        { key: `late-${order}-${pages}`, message: `paging ${order} late`, service: 'pager', at: base + 5_500 + pages },
        { key: `new-${order}-${pages}`, message: `paging ${order} new`, service: 'pager', at: NOW - 1000 },
      ]);
      pages++;
    } while (cursor && pages < 20);
    const original = batch.map((l) => l.key);
    expect(new Set(seen).size).toBe(seen.length);
    for (const k of original) expect(seen).toContain(k);
    expect(seen.filter((k) => k.startsWith('new-'))).toEqual([]);
    const onlyOriginal = seen.filter((k) => k.startsWith('page-'));
    expect(onlyOriginal).toEqual(order === 'desc' ? [...original].reverse() : original);
  });

  it('a cursor is bound to its search', async () => {
    const page = await search({ limit: '2' });
    const r = await get(`/search?projectId=${t.projectA}&limit=2&q=connection&cursor=${page.nextCursor}`);
    expect(r.status).toBe(400);
    expect(r.body.error.details[0].field).toBe('query.cursor');
  });

  describe('cursors are signed and range-checked', () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const status = async (cursor: string) => {
      const r = await get(`/search?projectId=${t.projectA}&cursor=${encodeURIComponent(cursor)}`);
      return { status: r.status, field: r.body.error?.details?.[0]?.field as string | undefined };
    };
    const first = async () => {
      const cursor = (await search({ limit: '2' })).nextCursor!;
      const [body, tag] = cursor.split('.');
      return { cursor, value: JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>, tag: tag! };
    };

    // [edit, the answer when the edit is signed with the server's own key (as if the key leaked)]
    it.each<[string, (c: Record<string, unknown>) => Record<string, unknown>, number]>([
      // The findings: a range past the 400-day cap, and times no Date can hold (a 500 before).
      ['a range of 1,000 days', (c) => ({ ...c, f: NOW - 1000 * 86_400_000, t: NOW }), 400],
      ['f = -9e15', (c) => ({ ...c, f: -9e15 }), 400],
      ['t = 9e15', (c) => ({ ...c, t: 9e15 }), 400],
      ['a position outside its range', (c) => ({ ...c, us: String((NOW + HOUR) * 1000) }), 400],
      ['an id past 2^63', (c) => ({ ...c, id: '9223372036854775808' }), 400],
      // Harmless once signed, but not the caller's to change.
      ['another order', (c) => ({ ...c, o: c.o === 'desc' ? 'asc' : 'desc' }), 200],
    ])('edited (%s): refused with its old signature and unsigned (as cursors were)', async (_, edit, resealed) => {
      const { value, tag } = await first();
      const edited = edit(value);
      expect(await status(`${b64(edited)}.${tag}`)).toEqual({ status: 400, field: 'query.cursor' });
      expect(await status(b64(edited))).toEqual({ status: 400, field: 'query.cursor' });
      const r = await status(cursorCodec(await serverSecret(env.db)).seal('logs.search', edited));
      expect(r.status).toBe(resealed);
      if (resealed === 400) expect(r.field).toBe('query.cursor');
    });

    it('an unedited cursor still works; one of another endpoint does not', async () => {
      const { cursor, value } = await first();
      expect((await status(cursor)).status).toBe(200);
      const codec = cursorCodec(await serverSecret(env.db));
      expect(await status(codec.seal('traces.logs', value))).toEqual({ status: 400, field: 'query.cursor' });
    });
  });

  it('log ids reveal nothing about other tenants: not the shared sequence, and B writing in between changes nothing A can see', async () => {
    const otherKey = await generateApiKey();
    await env.db.query(
      `insert into public.api_keys (organization_id, project_id, name, prefix, secret_hash, scopes) values ($1, $2, 'b-ingest', $3, $4, array['ingest'])`,
      [t.other.orgId, t.other.projectId, otherKey.prefix, otherKey.hash],
    );
    const line = (key: string, at: number): L => ({ key, message: `sequence probe ${key}`, service: 'probe', at });
    const between = 50;
    await ingest([line('a1', NOW - 3000)]);
    await ingest(Array.from({ length: between }, (_, i) => line(`b${i}`, NOW - 2000)), otherKey.key);
    await ingest([line('a2', NOW - 1000)]);
    const seen = (await search({ service: 'probe', order: 'asc' })).logs;
    expect(seen.map((l) => l.attributes.key)).toEqual(['a1', 'a2']);
    const [a1, a2] = seen.map((l) => BigInt(l.id));
    const stored = await env.db.query<{ id: string }>(`select id::text from public.logs where service = 'probe' and project_id = $1 order by time`, [t.projectA]);
    // The setting of the finding: the stored ids are one sequence, and B's lines advanced it.
    expect(BigInt(stored[1]!.id) - BigInt(stored[0]!.id)).toBe(BigInt(between + 1));
    // What A sees is neither those ids nor anything near one another: a keyed permutation of 63-bit
    // values (two random ones fall within 2^40 of each other once in about 4 million).
    expect([a1, a2]).not.toContain(BigInt(stored[0]!.id));
    expect([a1, a2]).not.toContain(BigInt(stored[1]!.id));
    const gap = a2! > a1! ? a2! - a1! : a1! - a2!;
    expect(gap > 1n << 40n).toBe(true);
    // The public id is what every route takes back.
    expect((await get(`/${a1}`)).body.log.attributes.key).toBe('a1');
    expect((await get(`/${stored[0]!.id}`)).status).toBe(404);
    // And the Data API cannot read the column at all (authenticated, as PostgREST runs).
    const asViewer = (sql: string) => withClaims(env.db, { sub: t.people.viewer.id, role: 'authenticated' }, (tx) => tx.query(sql));
    await expect(asViewer(`select id from public.logs where service = 'probe'`)).rejects.toMatchObject({ code: '42501' });
    await expect(asViewer(`select * from public.logs where service = 'probe'`)).rejects.toMatchObject({ code: '42501' });
    expect(await asViewer(`select message from public.logs where service = 'probe' order by time`)).toEqual([
      { message: 'sequence probe a1' },
      { message: 'sequence probe a2' },
    ]);
  });

  it('level histogram: counts per bucket per level over the whole range, zeros included', async () => {
    const corpus = 'service=web,billing,db,auth';
    const r = await get(`/histogram?projectId=${t.projectA}&${corpus}&from=${iso(NOW - HOUR)}&to=${iso(NOW)}&step=600`);
    expect(r.status).toBe(200);
    const h = r.body;
    expect(h.step).toBe(600);
    expect(h.buckets).toHaveLength(6);
    expect(h.total).toBe(CORPUS.length);
    const expected = new Map<string, Record<string, number>>();
    for (const l of CORPUS) {
      const start = iso(Math.floor(l.at / 600_000) * 600_000);
      const c = expected.get(start) ?? {};
      c[l.level!] = (c[l.level!] ?? 0) + 1;
      expected.set(start, c);
    }
    for (const b of h.buckets) expect(b.counts).toEqual(expected.get(b.start) ?? {});
    expect(h.totals).toMatchObject({ error: 3, warn: 3, info: 2, debug: 1, fatal: 1, trace: 0 });
    const filtered = await get(`/histogram?projectId=${t.projectA}&from=${iso(NOW - HOUR)}&to=${iso(NOW)}&${corpus}&q=connection&minLevel=warn`);
    expect(filtered.body.total).toBe(2);
    expect(filtered.body.step).toBe(60);
    expect(filtered.body.buckets).toHaveLength(60);
  });

  it('histograms from the per-minute counts equal counting the lines, at minute and odd edges', async () => {
    const cases = [
      { from: NOW - HOUR, to: NOW },
      { from: NOW - HOUR + 12_345, to: NOW - 61_001 },
      { from: NOW - 37 * 60_000 - 1, to: NOW - 4 * 60_000 + 999 },
    ];
    for (const range of cases) {
      for (const filter of ['', '&service=web,billing', '&minLevel=warn', '&level=error&service=db']) {
        const qs = `projectId=${t.projectA}&from=${iso(range.from)}&to=${iso(range.to)}&step=300${filter}`;
        const fromCounts = await get(`/histogram?${qs}`);
        // has=key holds for every corpus line and forces counting the lines themselves.
        const fromLines = await get(`/histogram?${qs}&has=key`);
        expect(fromCounts.status).toBe(200);
        expect(fromCounts.body.buckets).toEqual(fromLines.body.buckets);
        expect(fromCounts.body.total).toBe(fromLines.body.total);
      }
    }
  });

  it('log_counts holds exactly the lines per project, minute, service and level, through retries and deletes', async () => {
    const check = async () => expect(await logCountsDrift(env.db)).toEqual([]);
    await check();
    const line: L = { key: 'counted', message: 'counted once', service: 'counter', level: 'warn', at: NOW - 90_000 };
    await ingest([line, { ...line, key: 'counted-2' }]);
    // The same batch again (a retry): deduplicated, so not counted again.
    const again = await env.request('POST', '/functions/v1/ingest', {
      apiKey: t.keyA.secret,
      body: { logs: [line, { ...line, key: 'counted-2' }].map((l) => ({ timestamp: l.at, level: l.level, service: l.service, message: l.message, attributes: { key: l.key } })) },
    });
    expect((await again.json()).duplicates).toBe(2);
    const [c] = await env.db.query<{ n: string }>(`select n::text from public.log_counts where project_id = $1 and service = 'counter'`, [t.projectA]);
    expect(c?.n).toBe('2');
    await check();
    await env.db.query(`delete from public.logs where service = 'counter' and attributes ->> 'key' = 'counted'`);
    await check();
    await env.db.query(`delete from public.logs where service = 'counter'`);
    expect(await env.db.query(`select 1 from public.log_counts where service = 'counter'`)).toEqual([]);
    await check();
  });

  it('one log with the lines around it from the same service', async () => {
    const r = await get(`/${ids.get('reset')}?before=1&after=5`);
    expect(r.status).toBe(200);
    expect(r.body.log.attributes.key).toBe('reset');
    expect(r.body.log.projectId).toBe(t.projectA);
    expect(r.body.before.map((l: { attributes: { key: string } }) => l.attributes.key)).toEqual(['url']);
    expect(r.body.after.map((l: { attributes: { key: string } }) => l.attributes.key).slice(0, 2)).toEqual(['reversed', 'health']);
    expect(r.body.after.every((l: { service: string }) => l.service === 'web')).toBe(true);
  });

  it('RLS: members see their projects only, other tenants get 404, keys read their own project', async () => {
    const npe = ids.get('npe')!;
    expect((await get(`/${npe}`, { token: t.people.member.jwt })).status).toBe(200);
    expect((await get(`/${npe}`, { token: t.people.unassigned.jwt })).status).toBe(404);
    expect((await get(`/${npe}`, { token: t.people.outsider.jwt })).status).toBe(404);
    expect((await get(`/search?projectId=${t.projectA}`, { token: t.people.outsider.jwt })).status).toBe(404);
    const viaKey = await get(`/search?q=refused&from=${iso(NOW - HOUR)}&to=${iso(NOW + 1)}`, { apiKey: t.keyA.secret });
    expect(viaKey.status).toBe(200);
    expect(viaKey.body.logs.map((l: { attributes: { key: string } }) => l.attributes.key).sort()).toEqual(['reversed', 'url']);
    expect((await get(`/search?projectId=${t.other.projectId}`, { apiKey: t.keyA.secret })).status).toBe(404);
    expect((await env.request('GET', '/functions/v1/logs/search')).status).toBe(401);
  });

  it('private.visible_logs returns exactly what the logs read policy allows, for users and keys', async () => {
    const asCaller = (claims: Record<string, unknown>, sql: string) =>
      env.db.transaction(async (tx) => {
        await tx.query('set local role authenticated');
        await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
        return tx.query<{ n: string | number; projects: string[] | null }>(sql);
      });
    const count = async (claims: Record<string, unknown>, from: string) =>
      (await asCaller(claims, `select count(*) as n, array_agg(distinct project_id::text) as projects from ${from}`))[0]!;
    const key = { role: 'authenticated', observai_key: { id: t.keyA.id, project_id: t.projectA, organization_id: t.orgId, scopes: ['ingest', 'read'] } };
    for (const claims of [
      { sub: t.people.viewer.id, role: 'authenticated' },
      { sub: t.people.member.id, role: 'authenticated' },
      { sub: t.people.unassigned.id, role: 'authenticated' },
      { sub: t.people.outsider.id, role: 'authenticated' },
      key,
    ]) {
      const viaView = await count(claims, 'private.visible_logs');
      const viaPolicy = await count(claims, 'public.logs');
      expect(Number(viaView.n)).toBe(Number(viaPolicy.n));
      expect(viaView.projects).toEqual(viaPolicy.projects);
    }
    expect((await count({ sub: t.people.outsider.id, role: 'authenticated' }, 'private.visible_logs')).projects).toEqual([t.other.projectId]);
    expect(Number((await count({ sub: t.people.unassigned.id, role: 'authenticated' }, 'private.visible_logs')).n)).toBe(0);
    expect((await count(key, 'private.visible_logs')).projects).toEqual([t.projectA]);
  });

  it.each<[string, string]>([
    ['/search?level=loud', 'query.level.0'],
    ['/search?minLevel=loud', 'query.minLevel'],
    ['/search?level=debug&minLevel=warn', 'query.level'],
    ['/search?limit=0', 'query.limit'],
    ['/search?limit=5000', 'query.limit'],
    ['/search?order=sideways', 'query.order'],
    ['/search?from=yesterday', 'query.from'],
    ['/search?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.to'],
    ['/search?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.from'],
    ['/search?q=---', 'query.q'],
    ['/search?cursor=garbage', 'query.cursor'],
    ['/search?traceId=xyz', 'query.traceId'],
    ['/search?spanId=0123', 'query.spanId'],
    ['/search?severity=3', 'query.severity'],
    ['/search?service=', 'query.service'],
    [`/search?attr.${'k'.repeat(201)}=1`, `query.attr.${'k'.repeat(201)}`],
    ['/histogram?step=1&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z', 'query.step'],
    ['/histogram?buckets=0', 'query.buckets'],
    ['/12x', 'path.id'],
    ['/9999999999999999999', 'path.id'],
    ['/tail?lastId=9223372036854775808', 'query.lastId'],
    ['/1?before=1000', 'query.before'],
    ['/tail?rate=100000', 'query.rate'],
    ['/search?service=a%00b', 'query.service'],
    ['/search?attr.x=%00', 'query.attr.x'],
    ['/search?has=%00', 'query.has'],
    ['/traces?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&attr.x=%00', 'query.attr.x'],
  ])('%s is a 400 naming %s', async (path, field) => {
    const r = await get(path);
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.details[0].field).toBe(field);
  });
});
