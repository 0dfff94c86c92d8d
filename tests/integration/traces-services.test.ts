/**
 * GET /logs/traces/services (mounted in the logs function), over the spans of
 * tests/helpers/traces-env.ts sent through the real ingest endpoint: per service and per operation
 * requests, rates, errors and duration percentiles against percentiles computed here, time series,
 * RLS, and bad parameters answered 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../helpers/tenant.ts';
import { createTracesEnv, HOUR, iso, NOW, percentileCont, qs, type S, spansA, type TracesEnv } from '../helpers/traces-env.ts';

describe('traces API', () => {
  let x: TracesEnv;
  let t: Tenant;
  let get: TracesEnv['get'];
  beforeAll(async () => {
    x = await createTracesEnv();
    ({ t, get } = x);
  }, 120_000);
  afterAll(async () => x?.close());

  describe('GET /logs/traces/services', () => {
    const RANGE = { from: NOW - 3 * HOUR, to: NOW };
    const inRange = (s: S) => s.start >= RANGE.from && s.start < RANGE.to;
    const expectRow = (row: Record<string, unknown>, spans: S[]) => {
      const durations = spans.map((s) => s.duration);
      const errors = spans.filter((s) => s.status === 'error').length;
      expect(row.requests).toBe(spans.length);
      expect(row.errors).toBe(errors);
      expect(row.errorRate).toBeCloseTo(errors / spans.length, 12);
      expect(row.ratePerSecond).toBeCloseTo(spans.length / 10_800, 12);
      const d = row.durationMs as Record<string, number>;
      expect(d.p50).toBeCloseTo(percentileCont(durations, 0.5), 6);
      expect(d.p95).toBeCloseTo(percentileCont(durations, 0.95), 6);
      expect(d.p99).toBeCloseTo(percentileCont(durations, 0.99), 6);
    };

    it('per service: requests, rate, errors, error rate and duration percentiles, busiest first', async () => {
      const { status, body } = await get(`/services${qs({ from: iso(RANGE.from), to: iso(RANGE.to) })}`, { apiKey: t.keyA.secret });
      expect(status).toBe(200);
      const byService = new Map<string, S[]>();
      for (const s of spansA.filter(inRange)) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
      expect(body.services.map((r: { service: string }) => r.service)).toEqual(
        [...byService.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)).map(([k]) => k),
      );
      for (const row of body.services) expectRow(row, byService.get(row.service)!);
      expect(body).toMatchObject({ from: iso(RANGE.from), to: iso(RANGE.to), step: null, truncated: false });
    });

    it('per operation of one service, server spans only', async () => {
      const { body } = await get(`/services${qs({ from: iso(RANGE.from), to: iso(RANGE.to), service: 'api', kind: 'server' })}`, { apiKey: t.keyA.secret });
      expect(body.service).toBe('api');
      expect(body.operations.map((r: { operation: string }) => r.operation)).toEqual(['GET /orders', 'GET /items']);
      for (const row of body.operations) {
        expect(row.service).toBe('api');
        expectRow(row, spansA.filter((s) => inRange(s) && s.service === 'api' && s.name === row.operation));
      }
      const none = await get(`/services${qs({ from: iso(RANGE.from), to: iso(RANGE.to), service: 'api', kind: 'client' })}`, { apiKey: t.keyA.secret });
      expect(none.body.operations).toEqual([]);
    });

    it('as time series with step, empty buckets included', async () => {
      const { body } = await get(`/services${qs({ from: iso(RANGE.from), to: iso(RANGE.to), service: 'db', step: 1800, projectId: t.projectA })}`, { token: t.people.member.jwt });
      const [row] = body.operations;
      expect(row.operation).toBe('select');
      expect(row.series).toHaveLength(6);
      for (const [b, point] of row.series.entries()) {
        const from = RANGE.from + b * 1800_000;
        const inside = spansA.filter((s) => s.service === 'db' && s.start >= from && s.start < from + 1800_000);
        expect(point.time).toBe(iso(from));
        expect(point.requests).toBe(inside.length);
        expect(point.errors).toBe(0);
        if (inside.length === 0) expect(point.p50).toBeNull();
        else expect(point.p95).toBeCloseTo(percentileCont(inside.map((s) => s.duration), 0.95), 6);
      }
      expect(row.series[0].requests).toBe(0);
      expect(row.series.reduce((n: number, p: { requests: number }) => n + p.requests, 0)).toBe(row.requests);
    });

    it('RLS and bad parameters', async () => {
      const r = qs({ from: iso(RANGE.from), to: iso(RANGE.to), projectId: t.projectB });
      expect((await get(`/services${r}`, { token: t.people.member.jwt })).status).toBe(404);
      expect((await get(`/services${r}`, { token: t.people.outsider.jwt })).status).toBe(404);
      const b = await get(`/services${r}`, { token: t.people.viewer.jwt });
      expect(b.body.services.map((x: { service: string; requests: number }) => [x.service, x.requests])).toEqual([
        ['api', 1],
        ['b-service', 1],
      ]);
      for (const [params, field] of [
        [{ from: iso(RANGE.from), to: iso(RANGE.to), step: 1 }, 'query.step'],
        [{ from: iso(RANGE.from), to: iso(RANGE.to), kind: 'weird' }, 'query.kind'],
        [{ from: iso(RANGE.to), to: iso(RANGE.from) }, 'query.to'],
        [{ to: iso(RANGE.to) }, 'query.from'],
      ] as const) {
        const { status, body } = await get(`/services${qs(params)}`, { apiKey: t.keyA.secret });
        expect(status).toBe(400);
        expect(body.error.details[0].field).toBe(field);
      }
    });
  });
});
