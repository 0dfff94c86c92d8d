/**
 * GET /logs/traces/:traceId/logs (mounted in the logs function), over the traces and logs of
 * tests/helpers/traces-env.ts sent through the real ingest endpoint: the logs of a trace a page at a
 * time, by span and time, signed cursors, public log ids, RLS, and bad parameters answered 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEnv } from '../helpers/env.ts';
import type { Tenant } from '../helpers/tenant.ts';
import { B1, createTracesEnv, HOUR, iso, NOW, qs, sid, T1, tid, type TracesEnv } from '../helpers/traces-env.ts';

describe('traces API', () => {
  let x: TracesEnv;
  let env: TestEnv;
  let t: Tenant;
  let get: TracesEnv['get'];
  beforeAll(async () => {
    x = await createTracesEnv();
    ({ env, t, get } = x);
  }, 120_000);
  afterAll(async () => x?.close());

  describe('GET /logs/traces/:traceId/logs', () => {
    it('lists the logs of a trace oldest first with their span ids, a page at a time', async () => {
      const { status, body } = await get(`/${T1}/logs`);
      expect(status).toBe(200);
      expect(body.logs.map((l: { message: string; spanId: string }) => [l.message, l.spanId])).toEqual([
        ['checkout started', sid(1)],
        ['charging card', sid(2)],
        ['retrying', sid(2)],
        ['card declined', sid(2)],
      ]);
      expect(body.logs[2]).toMatchObject({ traceId: T1, level: 'warn', service: 'payments', attributes: { attempt: 2 }, time: '2026-06-01T10:30:00.012Z', severityNumber: null, resource: {} });
      expect(body.logs[3].time).toBe('2026-06-01T10:30:00.013500Z');
      expect(body.nextCursor).toBeNull();

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await get(`/${T1}/logs${qs({ limit: 3, cursor })}`, { apiKey: t.keyA.secret });
        expect(page.status).toBe(200);
        expect(page.body.logs.length).toBeLessThanOrEqual(3);
        seen.push(...page.body.logs.map((l: { message: string }) => l.message));
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(['checkout started', 'charging card', 'retrying', 'card declined']);
    });

    it('its cursors are signed and its log ids are the public ones', async () => {
      const first = await get(`/${T1}/logs${qs({ limit: 1 })}`);
      const cursor = first.body.nextCursor as string;
      expect((await get(`/${T1}/logs${qs({ limit: 1, cursor })}`)).status).toBe(200);
      const [body, tag] = cursor.split('.');
      const [time, id] = JSON.parse(Buffer.from(body!, 'base64url').toString()) as [string, string];
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const searched = await get(qs({ from: iso(NOW - 3 * HOUR), to: iso(NOW), limit: 1 }), { apiKey: t.keyA.secret });
      expect(searched.body.nextCursor).toEqual(expect.any(String));
      for (const forged of [
        b64([time, id]), // unsigned, as cursors were
        `${b64(['1970-01-01T00:00:00.000Z', id])}.${tag}`, // edited under the old signature
        searched.body.nextCursor as string, // trace search's
      ]) {
        const r = await get(`/${T1}/logs${qs({ cursor: forged })}`);
        expect(r.status, forged).toBe(400);
        expect(r.body.error.details[0].field).toBe('query.cursor');
      }
      const r = await get(qs({ from: iso(NOW - 3 * HOUR), to: iso(NOW), cursor }), { apiKey: t.keyA.secret });
      expect(r.status).toBe(400);

      const [stored] = await env.db.query<{ id: string }>(`select id::text from public.logs where trace_id = $1 order by time, id limit 1`, [T1]);
      const line = first.body.logs[0] as { id: string; message: string };
      expect(line.id).not.toBe(stored!.id);
      const opened = await env.request('GET', `/functions/v1/logs/${line.id}`, { token: t.people.viewer.jwt });
      expect(((await opened.json()) as { log: { message: string } }).log.message).toBe(line.message);
    });

    it('filters by span and time; empty for an unknown trace; RLS; 400 naming the field', async () => {
      const bySpan = await get(`/${T1}/logs${qs({ spanId: sid(2), from: iso(B1 + 12) })}`);
      expect(bySpan.body.logs.map((l: { message: string }) => l.message)).toEqual(['retrying', 'card declined']);
      expect((await get(`/${tid(0x5eed)}/logs`)).body).toEqual({ logs: [], nextCursor: null });
      expect((await get(`/${T1}/logs`, { token: t.people.outsider.jwt })).body.logs).toEqual([]);
      expect((await get(`/${T1}/logs${qs({ projectId: t.projectA })}`, { token: t.people.outsider.jwt })).status).toBe(404);
      for (const [params, field] of [
        [{ limit: 1001 }, 'query.limit'],
        [{ spanId: 'nope' }, 'query.spanId'],
        [{ cursor: 'garbage' }, 'query.cursor'],
      ] as const) {
        const { status, body } = await get(`/${T1}/logs${qs(params)}`);
        expect(status).toBe(400);
        expect(body.error.details[0].field).toBe(field);
      }
    });
  });
});
