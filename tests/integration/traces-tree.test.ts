/**
 * GET /logs/traces/:traceId (mounted in the logs function), over the traces of
 * tests/helpers/traces-env.ts sent through the real ingest endpoint (native JSON and OTLP/JSON): a
 * trace as a tree (parents, depth, offsets, orphans, errors, events, links, log count), the from/to
 * hints, the same trace id in two projects, RLS, and malformed ids answered 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../helpers/tenant.ts';
import { B1, createTracesEnv, HOUR, iso, NOW, qs, sid, T1, T2, TB, tid, TO, type TracesEnv } from '../helpers/traces-env.ts';

describe('traces API', () => {
  let x: TracesEnv;
  let t: Tenant;
  let get: TracesEnv['get'];
  beforeAll(async () => {
    x = await createTracesEnv();
    ({ t, get } = x);
  }, 120_000);
  afterAll(async () => x?.close());

  describe('GET /logs/traces/:traceId', () => {
    it('returns the span tree with depths, offsets, errors, events, orphans and the log count', async () => {
      const { status, body } = await get(`/${T1}${qs({ projectId: t.projectA })}`);
      expect(status).toBe(200);
      expect(body.trace).toEqual({
        traceId: T1,
        projectIds: [t.projectA],
        start: '2026-06-01T10:30:00.000Z',
        end: '2026-06-01T10:30:00.100Z',
        durationMs: 100,
        spanCount: 5,
        errorCount: 2,
        logCount: 4,
        services: [
          { service: 'frontend', spanCount: 2, errorCount: 0 },
          { service: 'payments', spanCount: 2, errorCount: 1 },
          { service: 'worker', spanCount: 1, errorCount: 1 },
        ],
        root: { spanId: sid(1), service: 'frontend', name: 'GET /checkout' },
        roots: [sid(1), sid(5)],
        orphanCount: 1,
        truncated: false,
      });
      const [root, orphan] = body.spans;
      expect(root).toMatchObject({ spanId: sid(1), parentSpanId: null, depth: 0, offsetMs: 0, durationMs: 100, orphan: false, kind: 'server', status: 'ok', attributes: { 'http.status_code': 200 } });
      expect(root.children.map((c: { spanId: string }) => c.spanId)).toEqual([sid(2), sid(4)]);
      const [pay, render] = root.children;
      expect(pay).toMatchObject({
        spanId: sid(2), parentSpanId: sid(1), name: 'POST /pay', service: 'payments', depth: 1, offsetMs: 10, durationMs: 60, status: 'error', statusMessage: 'card declined',
        start: '2026-06-01T10:30:00.010Z', end: '2026-06-01T10:30:00.070Z',
        events: [{ name: 'exception', time: '2026-06-01T10:30:00.050Z', offsetMs: 50, attributes: { 'exception.message': 'declined' } }],
      });
      expect(pay.children).toHaveLength(1);
      expect(pay.children[0]).toMatchObject({ spanId: sid(3), depth: 2, offsetMs: 20.25, durationMs: 30.5, start: '2026-06-01T10:30:00.020250Z', children: [] });
      expect(render).toMatchObject({ spanId: sid(4), depth: 1, offsetMs: 75, kind: 'internal', status: 'unset', children: [] });
      expect(orphan).toMatchObject({ spanId: sid(5), parentSpanId: sid(0xdead), orphan: true, depth: 0, offsetMs: 5, status: 'error', children: [] });
    });

    it('keeps resource attributes and links (OTLP)', async () => {
      const { status, body } = await get(`/${T2}`, { apiKey: t.keyA.secret });
      expect(status).toBe(200);
      expect(body.trace).toMatchObject({ spanCount: 1, errorCount: 1, root: { service: 'edge', name: 'GET /edge' }, logCount: 0 });
      expect(body.spans[0]).toMatchObject({
        resource: { 'service.name': 'edge', 'host.name': 'web-7' },
        statusMessage: 'boom',
        links: [{ traceId: T1, spanId: sid(1), attributes: { why: 'retry of' } }],
      });
    });

    it('reads only the days of the from/to hints when given', async () => {
      const { status, body } = await get(`/${T1}${qs({ projectId: t.projectA, from: iso(B1 + 8), to: iso(B1 + 30) })}`);
      expect(status).toBe(200);
      expect(body.trace).toMatchObject({ spanCount: 2, logCount: 3, roots: [sid(2)], orphanCount: 1, root: null });
      expect(body.spans[0]).toMatchObject({ spanId: sid(2), orphan: true, offsetMs: 0, children: [{ spanId: sid(3), offsetMs: 10.25 }] });
    });

    it('without a projectId shows a user every project they can read: the same trace id in A and B', async () => {
      const viewer = await get(`/${T1}`, { token: t.people.viewer.jwt });
      expect(viewer.body.trace).toMatchObject({ spanCount: 6, projectIds: [t.projectA, t.projectB].sort() });
      const member = await get(`/${T1}`, { token: t.people.member.jwt });
      expect(member.body.trace).toMatchObject({ spanCount: 5, projectIds: [t.projectA] });
      const key = await get(`/${T1}`, { apiKey: t.keyA.secret });
      expect(key.body.trace).toMatchObject({ spanCount: 5, projectIds: [t.projectA] });
    });

    it('404 for a trace nobody sent, for a project or org the caller cannot see', async () => {
      expect((await get(`/${tid(0x5eed)}`)).status).toBe(404);
      expect((await get(`/${TB}`, { token: t.people.member.jwt })).status).toBe(404);
      expect((await get(`/${TB}`, { apiKey: t.keyA.secret })).status).toBe(404);
      expect((await get(`/${TB}${qs({ projectId: t.projectB })}`, { token: t.people.member.jwt })).body.error.code).toBe('NOT_FOUND');
      expect((await get(`/${TB}`, { token: t.people.viewer.jwt })).status).toBe(200);
      expect((await get(`/${TO}`, { token: t.people.owner.jwt })).status).toBe(404);
      expect((await get(`/${T1}`, { token: t.people.outsider.jwt })).status).toBe(404);
      expect((await get(`/${T1}${qs({ projectId: t.projectA })}`, { token: t.people.outsider.jwt })).status).toBe(404);
      expect((await get(`/${TO}`, { token: t.people.outsider.jwt })).status).toBe(200);
    });

    it('accepts an uppercase trace id and refuses malformed ones naming the field', async () => {
      expect((await get(`/${T1.toUpperCase()}`)).body.trace.traceId).toBe(T1);
      for (const bad of ['xyz', 'g'.repeat(32), '0'.repeat(32), 'a'.repeat(31)]) {
        const { status, body } = await get(`/${bad}`);
        expect(status).toBe(400);
        expect(body.error.details[0].field).toBe('path.traceId');
      }
      const inverted = await get(`/${T1}${qs({ from: iso(NOW), to: iso(NOW - HOUR) })}`);
      expect(inverted.status).toBe(400);
      expect(inverted.body.error.details[0].field).toBe('query.to');
    });
  });
});
