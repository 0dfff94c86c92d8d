/**
 * GET /logs/traces (search, mounted in the logs function), over the traces of
 * tests/helpers/traces-env.ts sent through the real ingest endpoint: every filter with keyset pages
 * compared with the answer computed there from the same spans, the per-trace summary, RLS, and bad
 * parameters answered 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEnv } from '../helpers/env.ts';
import type { Tenant } from '../helpers/tenant.ts';
import { BASE, createTracesEnv, expectedSearch, type Filter, HOUR, iso, MIN, NOW, qs, sid, T1, TB, tid, type TracesEnv } from '../helpers/traces-env.ts';

describe('traces API', () => {
  let x: TracesEnv;
  let env: TestEnv;
  let t: Tenant;
  let keyB: string;
  let get: TracesEnv['get'];
  beforeAll(async () => {
    x = await createTracesEnv();
    ({ env, t, keyB, get } = x);
  }, 120_000);
  afterAll(async () => x?.close());

  describe('GET /logs/traces (search)', () => {
    const RANGE = { from: NOW - 3 * HOUR, to: NOW };
    const search = (f: Partial<Filter> & { limit?: number; cursor?: string }, auth: { token?: string; apiKey?: string } = { apiKey: t.keyA.secret }) => {
      const { from = RANGE.from, to = RANGE.to, ...rest } = f;
      return get(qs({ ...rest, from: iso(from), to: iso(to) }), auth);
    };
    const ids = (body: { traces: Array<{ traceId: string; matched: { spanId: string } }> }) => body.traces.map((x) => ({ traceId: x.traceId, spanId: x.matched.spanId }));

    const cases: Array<[string, Partial<Filter>]> = [
      ['no filter: every trace in the range', {}],
      ['service', { service: 'db' }],
      ['operation', { operation: 'GET /items' }],
      ['service and operation', { service: 'api', operation: 'GET /orders' }],
      ['minimum duration (of the matching span)', { minDurationMs: 150 }],
      ['maximum duration', { maxDurationMs: 20 }],
      ['duration window on one service', { service: 'db', minDurationMs: 15, maxDurationMs: 110 }],
      ['errors', { status: 'error' }],
      ['unset status', { status: 'unset' }],
      ['attribute value', { attr: ['customer:c2'] }],
      ['numeric attribute compared as text', { attr: ['http.status_code:500'] }],
      ['attribute exists', { attr: ['db.system'] }],
      ['two attributes on the same span', { attr: ['customer:c3', 'http.status_code:200'] }],
      ['resource attribute', { attr: ['host.name:web-7'] }],
      ['errors of one operation', { status: 'error', operation: 'GET /orders' }],
      ['a narrower range', { from: NOW - 100 * MIN, to: NOW - 60 * MIN }],
      ['a wider range takes the old trace in', { from: NOW - 6 * HOUR }],
      ['nothing matches', { service: 'nope' }],
    ];
    it.each(cases)('%s', async (_name, f) => {
      const { status, body } = await search({ ...f, limit: 100 });
      expect(status).toBe(200);
      expect(ids(body)).toEqual(expectedSearch({ ...RANGE, ...f }));
      expect(body.nextCursor).toBeNull();
    });

    it('checks the cases are not vacuous', () => {
      for (const [name, f] of cases.slice(0, -1)) expect(expectedSearch({ ...RANGE, ...f }).length, name).toBeGreaterThan(0);
      expect(expectedSearch({ ...RANGE, minDurationMs: 150 }).length).toBeLessThan(expectedSearch(RANGE).length);
    });

    it('summarises each trace: root, start, duration, counts per service, the matched span', async () => {
      const { body } = await search({ operation: 'select', minDurationMs: 118, maxDurationMs: 120 });
      expect(body.traces).toHaveLength(1);
      const i = 18;
      const start = NOW - 2 * HOUR + i * 4 * MIN;
      expect(body.traces[0]).toEqual({
        traceId: tid(i),
        root: { spanId: sid(100 * i + 1), service: 'api', name: 'GET /items' },
        start: iso(start),
        durationMs: 50 + i * 10,
        spanCount: 3,
        errorCount: 0,
        services: [
          { service: 'db', spanCount: 2, errorCount: 0 },
          { service: 'api', spanCount: 1, errorCount: 0 },
        ],
        matched: { spanId: sid(100 * i + 3), service: 'db', name: 'select', start: iso(start + 20), durationMs: 100 + i, status: 'unset' },
      });
      const t1 = (await search({ operation: 'late job' })).body.traces[0];
      expect(t1).toMatchObject({ traceId: T1, spanCount: 5, errorCount: 2, root: { spanId: sid(1) }, durationMs: 100, matched: { spanId: sid(5) } });
    });

    it.each([
      ['all traces', {}, 4],
      ['traces with several matching spans', { service: 'db' }, 3],
      ['errors', { status: 'error' }, 2],
    ] as const)('pages through %s without repeats or gaps', async (_name, f, limit) => {
      const expected = expectedSearch({ ...RANGE, ...f });
      const got: Array<{ traceId: string; spanId: string }> = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const { status, body } = await search({ ...f, limit, cursor });
        expect(status).toBe(200);
        expect(body.traces.length).toBeLessThanOrEqual(limit);
        got.push(...ids(body));
        cursor = body.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 50);
      expect(got).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / limit));
    });

    it('RLS: another project or organization is a 404, and its traces never show', async () => {
      const member = await search({ projectId: t.projectB } as Partial<Filter>, { token: t.people.member.jwt });
      expect(member.status).toBe(404);
      const outsider = await search({ projectId: t.projectA } as Partial<Filter>, { token: t.people.outsider.jwt });
      expect(outsider.status).toBe(404);
      const viewerB = await search({ projectId: t.projectB } as Partial<Filter>, { token: t.people.viewer.jwt });
      expect(viewerB.body.traces.map((x: { traceId: string }) => x.traceId).sort()).toEqual([T1, TB].sort());
      const all = await search({});
      expect(all.body.traces.map((x: { traceId: string }) => x.traceId)).not.toContain(TB);
      expect(all.body.traces.find((x: { traceId: string }) => x.traceId === T1).spanCount).toBe(5);
    });

    it.each([
      ['an inverted range', { from: iso(NOW), to: iso(NOW - HOUR) }, 'query.to'],
      ['a range over 31 days', { from: iso(NOW - 32 * 24 * HOUR), to: iso(NOW) }, 'query.to'],
      ['no range', {}, 'query.from'],
      ['an unknown status', { from: iso(NOW - HOUR), to: iso(NOW), status: 'broken' }, 'query.status'],
      ['a limit over 100', { from: iso(NOW - HOUR), to: iso(NOW), limit: 101 }, 'query.limit'],
      ['a negative duration', { from: iso(NOW - HOUR), to: iso(NOW), minDurationMs: -1 }, 'query.minDurationMs'],
      ['max below min', { from: iso(NOW - HOUR), to: iso(NOW), minDurationMs: 10, maxDurationMs: 5 }, 'query.maxDurationMs'],
      ['an attribute without a key', { from: iso(NOW - HOUR), to: iso(NOW), 'attr.': 'x' }, 'query.attr.'],
      ['a foreign cursor', { from: iso(NOW - HOUR), to: iso(NOW), cursor: 'bm90IGEgY3Vyc29y' }, 'query.cursor'],
      ['an unknown parameter', { from: iso(NOW - HOUR), to: iso(NOW), colour: 'red' }, 'query.colour'],
    ] as const)('400 for %s, naming the field', async (_name, params, field) => {
      const { status, body } = await get(qs(params as Record<string, string>), { apiKey: t.keyA.secret });
      expect(status).toBe(400);
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.details[0].field).toBe(field);
    });

    it('a user must name the project; credentials are required; ingest-only keys are refused', async () => {
      const user = await get(qs({ from: iso(NOW - HOUR), to: iso(NOW) }), { token: t.people.viewer.jwt });
      expect(user.status).toBe(400);
      expect(user.body.error.details[0].field).toBe('query.projectId');
      expect((await env.request('GET', `${BASE}${qs({ from: iso(NOW - HOUR), to: iso(NOW) })}`)).status).toBe(401);
      expect((await get(qs({ from: iso(NOW - HOUR), to: iso(NOW) }), { apiKey: keyB })).status).toBe(403);
      expect((await get(`/${T1}`, { apiKey: keyB })).status).toBe(403);
    });
  });
});
