/**
 * Metric retention with a fake clock: raw points go by whole daily partitions once the whole day is
 * past 7 days; rollups are trimmed per resolution (1m 30 d, 5m 90 d, 1h 1 y, 1d 3 y). Table-driven
 * boundaries: one minute past the cutoff goes, one minute inside stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/jobs/run-job.ts';
import { METRIC_RETENTION_DAYS } from '../../src/metrics/metric-retention.ts';
import { cleanupRetention } from '../../src/retention/cleanup-retention.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const DAY = 86_400_000;
const MIN = 60_000;

describe('metric retention', () => {
  let env: TestEnv;
  let t: Tenant;
  let series: number;

  // [case, resolution, bucket offset from now, kept]
  const rollupCases: Array<[string, '1m' | '5m' | '1h' | '1d', number, boolean]> = (['1m', '5m', '1h', '1d'] as const).flatMap((r) => [
    [`${r} one minute past retention`, r, -METRIC_RETENTION_DAYS[r] * DAY - MIN, false] as [string, '1m' | '5m' | '1h' | '1d', number, boolean],
    [`${r} one minute inside retention`, r, -METRIC_RETENTION_DAYS[r] * DAY + MIN, true] as [string, '1m' | '5m' | '1h' | '1d', number, boolean],
  ]);
  // [case, point time offset from now, kept]
  const rawCases: Array<[string, number, boolean]> = [
    ['a point 9 days old', -9 * DAY, false],
    ['a point in the first day wholly older than 7 days', -8 * DAY, false],
    ['a point 7 days and 1 hour old (its day is partly inside retention)', -7 * DAY - 3_600_000, true],
    ['a point 6 days old', -6 * DAY, true],
  ];

  // A metric whose definition keeps 1m rollups 60 days and 1h rollups 10 days (others default).
  // [case, resolution, bucket offset from now, kept]
  const ownCases: Array<[string, '1m' | '5m' | '1h' | '1d', number, boolean]> = [
    ['its 1m rollups 45 days old stay (default would drop them)', '1m', -45 * DAY, true],
    ['its 1m rollups one minute past 60 days go', '1m', -60 * DAY - MIN, false],
    ['its 1m rollups one minute inside 60 days stay', '1m', -60 * DAY + MIN, true],
    ['its 1h rollups one minute past 10 days go', '1h', -10 * DAY - MIN, false],
    ['its 1h rollups 9 days old stay', '1h', -9 * DAY, true],
    ['its 5m rollups keep the default (89 days old stay)', '5m', -89 * DAY, true],
    ['its 5m rollups keep the default (91 days old go)', '5m', -91 * DAY, false],
  ];
  let ownSeries: number;
  let definition: { retention: Record<string, number> };
  /**
   * The metric's totals rows beside each rollup row (no 1m totals exist): the whole metric's, and two
   * groups of a tag (a value, and null for series without it). Retention treats them all alike.
   */
  const insertTotal = async (name: string, resolution: string, offset: number) => {
    if (resolution === '1m') return;
    const at = new Date(NOW + offset);
    await env.db.query(
      `insert into public.metric_totals (project_id, name, resolution, bucket, count, sum, min, max, sketch) values ($1, $2, $3, $4, 2, 1, 1, 1, '{}')`,
      [t.projectA, name, resolution, at],
    );
    await env.db.query(
      `insert into public.metric_group_totals (project_id, name, tag_key, tag_value, resolution, bucket, count, sum, min, max, sketch)
       values ($1, $2, 'host', 'a', $3, $4, 1, 1, 1, 1, '{}'), ($1, $2, 'host', null, $3, $4, 1, 1, 1, 1, '{}')`,
      [t.projectA, name, resolution, at],
    );
  };
  /** Whether the whole totals row is there; its two group rows must be there with it, and gone with it. */
  const totalKept = async (name: string, resolution: string, offset: number) => {
    const at = new Date(NOW + offset);
    const whole = await env.db.query('select 1 from public.metric_totals where name = $1 and resolution = $2 and bucket = $3', [name, resolution, at]);
    const groups = await env.db.query('select 1 from public.metric_group_totals where name = $1 and resolution = $2 and bucket = $3', [name, resolution, at]);
    expect(groups.length).toBe(whole.length * 2);
    return whole.length === 1;
  };

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: new Date(NOW).toISOString() });
    t = await createTenant(env);
    await env.db.query(`select private.ensure_telemetry_partitions(($1::timestamptz - interval '12 days')::date, $1::date)`, [new Date(NOW)]);
    const [s] = await env.db.query<{ id: string }>(`insert into public.metric_series (project_id, name, type, fingerprint) values ($1, 'r', 'gauge', 'r') returning id`, [t.projectA]);
    series = Number(s!.id);
    for (const [, offset] of rawCases) {
      await env.db.query('insert into public.metric_points (project_id, series_id, time, value, event_key) values ($1, $2, $3, 1, $4)', [t.projectA, series, new Date(NOW + offset), offset]);
    }
    for (const [, resolution, offset] of rollupCases) {
      await env.db.query(
        `insert into public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, sketch)
         values ($1, $2, $3, $4, 1, 1, 1, 1, 1, $4, '{}')`,
        [t.projectA, series, resolution, new Date(NOW + offset)],
      );
      await insertTotal('r', resolution, offset);
    }
    const put = await env.request('PUT', '/functions/v1/metrics/definitions/own.retention', {
      token: t.people.admin.jwt,
      body: { organizationId: t.orgId, retention: { '1m': 60, '1h': 10 } },
    });
    expect(put.status).toBe(200);
    definition = (await put.json()).definition;
    const [own] = await env.db.query<{ id: string }>(
      `insert into public.metric_series (project_id, name, type, fingerprint) values ($1, 'own.retention', 'gauge', 'own') returning id`,
      [t.projectA],
    );
    ownSeries = Number(own!.id);
    for (const [, resolution, offset] of ownCases) {
      await env.db.query(
        `insert into public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, sketch)
         values ($1, $2, $3, $4, 1, 1, 1, 1, 1, $4, '{}')`,
        [t.projectA, ownSeries, resolution, new Date(NOW + offset)],
      );
      await insertTotal('own.retention', resolution, offset);
    }
    expect((await runJob(env.deps, cleanupRetention, { budgetMs: 60_000 })).outcome).toBe('ok');
  });

  it('a definition reports the retention of every resolution, its own or the default', () => {
    expect(definition.retention).toEqual({ '1m': 60, '5m': 90, '1h': 10, '1d': 3 * 365 });
  });

  it.each(ownCases)('per-metric retention: %s', async (_, resolution, offset, kept) => {
    const rows = await env.db.query('select 1 from public.metric_rollups where series_id = $1 and resolution = $2 and bucket = $3', [ownSeries, resolution, new Date(NOW + offset)]);
    expect(rows).toHaveLength(kept ? 1 : 0);
    if (resolution !== '1m') expect(await totalKept('own.retention', resolution, offset), 'metric totals').toBe(kept);
  });

  it('retention settings: a partial update keeps the others, null resets, out-of-range values are a 400 naming the field', async () => {
    const put = (body: unknown, token = t.people.admin.jwt) =>
      env.request('PUT', '/functions/v1/metrics/definitions/own.retention', { token, body: { organizationId: t.orgId, ...(body as object) } });
    const partial = await put({ retention: { '1d': 400 } });
    expect((await partial.json()).definition.retention).toEqual({ '1m': 60, '5m': 90, '1h': 10, '1d': 400 });
    const reset = await put({ retention: null });
    expect((await reset.json()).definition.retention).toEqual({ '1m': 30, '5m': 90, '1h': 365, '1d': 3 * 365 });
    for (const [retention, field] of [
      [{ '1m': 0 }, 'body.retention.1m'],
      [{ '1h': 4000 }, 'body.retention.1h'],
      [{ raw: 3 }, 'body.retention'],
      [{ '5m': 1.5 }, 'body.retention.5m'],
    ] as const) {
      const res = await put({ retention });
      expect(res.status).toBe(400);
      expect((await res.json()).error.details[0].field).toBe(field);
    }
    expect((await put({ retention: { '1m': 5 } }, t.people.member.jwt)).status).toBe(403);
  });
  afterAll(async () => env?.close());

  it.each(rawCases)('%s -> kept: %s', async (_, offset, kept) => {
    const rows = await env.db.query('select 1 from public.metric_points where time = $1', [new Date(NOW + offset)]);
    expect(rows).toHaveLength(kept ? 1 : 0);
  });

  it.each(rollupCases)('%s', async (_, resolution, offset, kept) => {
    const rows = await env.db.query('select 1 from public.metric_rollups where resolution = $1 and bucket = $2', [resolution, new Date(NOW + offset)]);
    expect(rows).toHaveLength(kept ? 1 : 0);
    if (resolution !== '1m') expect(await totalKept('r', resolution, offset), 'metric totals').toBe(kept);
  });

  it('drops whole partitions, and ingest can still write today', async () => {
    const parts = await env.db.query<{ relname: string }>(
      `select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'public.metric_points'::regclass order by 1`,
    );
    const days = parts.map((p) => p.relname.slice(-8));
    expect(days).not.toContain('20260523');
    expect(days).toContain('20260525');
    const res = await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { metrics: [{ name: 'after.retention', value: 1, timestamp: NOW - MIN }] } });
    expect((await res.json()).accepted).toBe(1);
  });
});
