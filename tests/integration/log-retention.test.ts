/**
 * Log and span retention with a fake clock: per level and per project cutoffs (strict: a row exactly
 * at the cutoff stays), settings overriding the defaults, other projects untouched, whole partitions
 * dropped only when every project's retention allows it, bounded batches that resume, a dry run that
 * changes nothing and predicts exactly what a run removes, and the /logs/retention routes (RLS,
 * roles, 400 naming the field).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/jobs/run-job.ts';
import { cleanupRetention } from '../../src/retention/cleanup-retention.ts';
import { LOG_RETENTION_BATCH, LOG_RETENTION_DEFAULTS, applyLogRetention } from '../../src/retention/log-retention.ts';
import { LOG_LEVELS, type LogLevel } from '../../src/retention/schemas.ts';
import { logCountsDrift } from '../helpers/log-counts.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const BASE = '/functions/v1/logs/retention';

/** Project A's own settings in the boundary suite: shorter than the defaults, except fatal (longer). */
const A_DAYS = { levels: { trace: 1, debug: 2, info: 10, warn: 20, error: 60, fatal: 120 } as Record<LogLevel, number>, spans: 5 };

async function ensureDays(env: TestEnv, times: number[]) {
  for (const day of new Set(times.map((t) => iso(t).slice(0, 10)))) {
    await env.db.query('select private.ensure_telemetry_partitions($1::date, $1::date)', [day]);
  }
}

async function insertLog(env: TestEnv, projectId: string, level: LogLevel, at: number, tag: string) {
  // Each line its own event key, as ingest gives distinct lines (logs are unique by project, time and key).
  await env.db.query(`insert into public.logs (project_id, time, level, service, message, event_key) values ($1, $2, $3, 'svc', $4, hashtextextended($4, 0))`, [
    projectId,
    new Date(at),
    level,
    tag,
  ]);
}

async function insertSpan(env: TestEnv, projectId: string, at: number, tag: string, service = 'svc') {
  await env.db.query(
    `insert into public.spans (project_id, trace_id, span_id, name, service, start_time, end_time, duration_ms, kind, status, event_key)
     values ($1, $2, $2, 'op', $3, $4, $4, 0, 'server', 'ok', 0)`,
    [projectId, tag, service, new Date(at)],
  );
}

const logExists = async (env: TestEnv, tag: string) => (await env.db.query('select 1 from public.logs where message = $1', [tag])).length === 1;
const spanExists = async (env: TestEnv, tag: string) => (await env.db.query('select 1 from public.spans where trace_id = $1', [tag])).length === 1;
const countAll = async (env: TestEnv) => {
  const [r] = await env.db.query<{ logs: unknown; spans: unknown }>('select (select count(*) from public.logs) as logs, (select count(*) from public.spans) as spans');
  return { logs: Number(r!.logs), spans: Number(r!.spans) };
};
const partitionsOf = async (env: TestEnv, table: string) =>
  (await env.db.query<{ relname: string }>(`select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = $1::regclass`, [`public.${table}`])).map(
    (r) => r.relname,
  );

describe('log retention boundaries', () => {
  let env: TestEnv;
  let t: Tenant;

  // [case, project, level or 'spans', row time, kept]. Project A has its own settings (A_DAYS), B and
  // the other organization's project O keep the defaults.
  type Case = [string, 'A' | 'B' | 'O', LogLevel | 'spans', number, boolean];
  const boundary = (who: 'A' | 'B', days: { levels: Record<LogLevel, number>; spans: number }): Case[] =>
    [...LOG_LEVELS, 'spans' as const].flatMap((what) => {
      const cutoff = NOW - (what === 'spans' ? days.spans : days.levels[what]) * DAY;
      return [
        [`${who} ${what}: 1 ms past its cutoff goes`, who, what, cutoff - 1, false],
        [`${who} ${what}: exactly at its cutoff stays`, who, what, cutoff, true],
        [`${who} ${what}: 1 ms inside its cutoff stays`, who, what, cutoff + 1, true],
      ] as Case[];
    });
  const cases: Case[] = [
    ...boundary('A', A_DAYS),
    ...boundary('B', LOG_RETENTION_DEFAULTS),
    // Another organization's project keeps the defaults even where A's cutoff is shorter.
    ...(['trace', 'debug', 'info', 'warn', 'error'] as const).map(
      (l): Case => [`O ${l}: past A's cutoff but inside the default stays`, 'O', l, NOW - A_DAYS.levels[l] * DAY - 1, true],
    ),
    ['O spans: past A\'s cutoff but inside the default stays', 'O', 'spans', NOW - A_DAYS.spans * DAY - 1, true],
    // Older than every retention anywhere (A keeps fatal 120 days): the whole day's partition goes.
    ['A fatal 125 days old goes with its partition', 'A', 'fatal', NOW - 125 * DAY, false],
    ['B info 125 days old goes with its partition', 'B', 'info', NOW - 125 * DAY, false],
    ['B spans 125 days old go with their partition', 'B', 'spans', NOW - 125 * DAY, false],
  ];
  const tagOf = (i: number) => `case-${i}`;
  let dry: Awaited<ReturnType<typeof applyLogRetention>>;
  let real: Awaited<ReturnType<typeof applyLogRetention>>;
  let preview: { levels: Record<LogLevel, { rows: number; cutoff: string; days: number }>; spans: { rows: number; cutoff: string }; custom: boolean };
  let countsBeforeDryRun: { logs: number; spans: number };
  let countsAfterDryRun: { logs: number; spans: number };

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: iso(NOW) });
    t = await createTenant(env);
    // Settings up to 400 days: the pro plan's retention (free keeps 90; docs/BILLING.md).
    await env.db.query(`update public.organizations set plan = 'pro' where id = $1`, [t.orgId]);
    const res = await env.request('PUT', BASE, { token: t.people.owner.jwt, body: { projectId: t.projectA, levels: A_DAYS.levels, spans: A_DAYS.spans } });
    expect(res.status).toBe(200);
    await ensureDays(env, cases.map((c) => c[3]));
    const project = { A: t.projectA, B: t.projectB, O: t.other.projectId };
    for (const [i, [, who, what, at]] of cases.entries()) {
      if (what === 'spans') await insertSpan(env, project[who], at, tagOf(i));
      else await insertLog(env, project[who], what, at, tagOf(i));
    }
    preview = (await (await env.request('GET', `${BASE}/preview?projectId=${t.projectA}`, { token: t.people.member.jwt })).json()).preview;
    countsBeforeDryRun = await countAll(env);
    dry = await applyLogRetention(env.db, new Date(NOW), Infinity, { dryRun: true });
    countsAfterDryRun = await countAll(env);
    real = await applyLogRetention(env.db, new Date(NOW), Infinity);
  }, 120_000);
  afterAll(async () => env?.close());

  it.each(cases.map((c, i) => [...c, i] as const))('%s', async (_, __, what, ___, kept, i) => {
    expect(what === 'spans' ? await spanExists(env, tagOf(i)) : await logExists(env, tagOf(i))).toBe(kept);
  });

  it('the dry run changes nothing and its counts are exactly what the run then deletes', () => {
    expect(countsAfterDryRun).toEqual(countsBeforeDryRun);
    expect(dry.dryRun).toBe(true);
    expect(real.dryRun).toBe(false);
    expect(real.complete).toBe(true);
    expect(real.projects).toEqual(dry.projects);
    expect(real.partitions).toEqual(dry.partitions);
    expect(real.totals).toEqual(dry.totals);
  });

  it('reports per project and level the days, the cutoff and the rows deleted one by one', () => {
    const a = real.projects.find((p) => p.projectId === t.projectA)!;
    expect(a.custom).toBe(true);
    for (const l of LOG_LEVELS) {
      expect(a.levels[l]).toEqual({ days: A_DAYS.levels[l], cutoff: iso(NOW - A_DAYS.levels[l] * DAY), rows: 1 });
    }
    expect(a.spans).toEqual({ days: 5, cutoff: iso(NOW - 5 * DAY), rows: 1 });
    const b = real.projects.find((p) => p.projectId === t.projectB)!;
    expect(b.custom).toBe(false);
    expect(b.levels.debug).toEqual({ days: 7, cutoff: iso(NOW - 7 * DAY), rows: 1 });
    expect(real.projects.find((p) => p.projectId === t.other.projectId)).toBeUndefined();
    expect(real.totals).toEqual({ levels: { trace: 2, debug: 2, info: 2, warn: 2, error: 2, fatal: 2 }, spans: 2 });
  });

  it('drops only the partitions wholly older than the longest retention of any project', async () => {
    const oldDay = iso(NOW - 125 * DAY).slice(0, 10).replaceAll('-', '');
    expect(real.partitions.logs).toEqual({ before: iso(NOW - 120 * DAY).slice(0, 10), names: [`logs_${oldDay}`] });
    // ensure_telemetry_partitions made a spans partition for every day a log case uses: those older than
    // the longest span retention (30 days) go too.
    const spansBefore = iso(NOW - 30 * DAY).slice(0, 10);
    const oldSpanDays = [...new Set(cases.map((c) => iso(c[3]).slice(0, 10)).filter((d) => d < spansBefore))].sort();
    expect(oldSpanDays).toContain(iso(NOW - 125 * DAY).slice(0, 10));
    expect(real.partitions.spans).toEqual({ before: spansBefore, names: oldSpanDays.map((d) => `spans_${d.replaceAll('-', '')}`) });
    expect(await partitionsOf(env, 'logs')).not.toContain(`logs_${oldDay}`);
    // A's fatal cutoff (120 days) is on the horizon day itself: that partition stays.
    expect(await partitionsOf(env, 'logs')).toContain(`logs_${iso(NOW - 120 * DAY).slice(0, 10).replaceAll('-', '')}`);
  });

  it('the histogram counts follow: trimmed lines are uncounted, dropped days lose their counts', async () => {
    expect(await logCountsDrift(env.db)).toEqual([]);
  });

  it("a project's preview counted every row the run then removed from it, partitions included", () => {
    expect(preview.custom).toBe(true);
    const gone = (what: LogLevel | 'spans') => cases.filter(([, who, w, , kept]) => who === 'A' && w === what && !kept).length;
    for (const l of LOG_LEVELS) expect(preview.levels[l]).toMatchObject({ days: A_DAYS.levels[l], cutoff: iso(NOW - A_DAYS.levels[l] * DAY), rows: gone(l) });
    expect(preview.levels.fatal.rows).toBe(2);
    expect(preview.spans.rows).toBe(gone('spans'));
  });
});

describe('log retention partitions and batches', () => {
  let env: TestEnv;
  let t: Tenant;

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: iso(NOW) });
    t = await createTenant(env);
    // Settings up to 400 days: the pro plan's retention (free keeps 90; docs/BILLING.md).
    await env.db.query(`update public.organizations set plan = 'pro' where id = $1`, [t.orgId]);
  }, 60_000);
  afterAll(async () => env?.close());

  const put = (body: Record<string, unknown>) => env.request('PUT', BASE, { token: t.people.admin.jwt, body: { projectId: t.projectA, ...body } });

  it('keeps a partition while any project still retains part of it, and trims the others row by row', async () => {
    // A day that ends 91.5 days before now: past the default 90 days for every level.
    const day = NOW - 92 * DAY;
    const spanDay = NOW - 32 * DAY;
    await ensureDays(env, [day, spanDay]);
    await insertLog(env, t.projectA, 'error', day, 'a-error');
    await insertLog(env, t.projectB, 'info', day, 'b-info');
    await insertSpan(env, t.projectA, spanDay, 'a-span');
    await insertSpan(env, t.projectB, spanDay, 'b-span');
    const logsPart = `logs_${iso(day).slice(0, 10).replaceAll('-', '')}`;
    const spansPart = `spans_${iso(spanDay).slice(0, 10).replaceAll('-', '')}`;

    // A keeps errors 100 days and spans 40: neither partition may go.
    expect((await put({ levels: { error: 100 }, spans: 40 })).status).toBe(200);
    const keep = await runJob(env.deps, cleanupRetention, { budgetMs: 60_000 });
    expect(keep.outcome).toBe('ok');
    expect(keep.summary).toMatchObject({ logs: { deleted: { info: 1, error: 0, spans: 1 }, complete: true }, complete: true });
    expect((keep.summary.logs as { droppedPartitions: string[] }).droppedPartitions).not.toContain(logsPart);
    expect((keep.summary.logs as { droppedPartitions: string[] }).droppedPartitions).not.toContain(spansPart);
    expect(await partitionsOf(env, 'logs')).toContain(logsPart);
    expect(await partitionsOf(env, 'spans')).toContain(spansPart);
    expect([await logExists(env, 'a-error'), await logExists(env, 'b-info')]).toEqual([true, false]);
    expect([await spanExists(env, 'a-span'), await spanExists(env, 'b-span')]).toEqual([true, false]);

    // Back to 90 and 30 days: now every row in those days is past retention everywhere.
    expect((await put({ levels: { error: 90 }, spans: 30 })).status).toBe(200);
    const drop = await runJob(env.deps, cleanupRetention, { budgetMs: 60_000 });
    expect(drop.summary).toMatchObject({ logs: { droppedPartitions: expect.arrayContaining([logsPart, spansPart]), deleted: { error: 0, spans: 0 } } });
    expect(await partitionsOf(env, 'logs')).not.toContain(logsPart);
    expect(await partitionsOf(env, 'spans')).not.toContain(spansPart);
  });

  it('deletes in bounded batches: out of budget it reports complete=false, the next run finishes', async () => {
    // Past debug's default 7 days and A's span retention of 5 days, inside every partition horizon.
    expect((await put({ spans: 5 })).status).toBe(200);
    const old = NOW - 8 * DAY;
    await ensureDays(env, [old]);
    // 6,000 debug lines at one instant (a batch takes every row sharing its last time) and 6,000 spread out.
    await env.db.query(
      `insert into public.logs (project_id, time, level, service, message, event_key)
       select $1, $2::timestamptz + case when g > 6000 then g * interval '1 ms' else interval '0' end, 'debug', 'svc', 'bulk', g from generate_series(1, 12000) g`,
      [t.projectA, new Date(old)],
    );
    await env.db.query(
      `insert into public.spans (project_id, trace_id, span_id, name, service, start_time, end_time, duration_ms, kind, status, event_key)
       select $1, 'bulk', g::text, 'op', 'svc-' || (g % 2), $2::timestamptz + g * interval '1 ms', $2, 0, 'server', 'ok', g from generate_series(1, 6000) g`,
      [t.projectA, new Date(old)],
    );
    // Inside retention, untouched throughout.
    await ensureDays(env, [NOW - 6 * DAY]);
    await insertLog(env, t.projectA, 'debug', NOW - 6 * DAY, 'recent-debug');
    expect(12_000).toBeGreaterThan(2 * LOG_RETENTION_BATCH); // so the run takes several batches

    const dry = await applyLogRetention(env.db, new Date(NOW), Infinity, { dryRun: true });
    expect(dry.totals).toMatchObject({ levels: { debug: 12_000 }, spans: 6_000 });

    const partial = await runJob(env.deps, cleanupRetention, { budgetMs: 0 });
    expect(partial.summary).toMatchObject({ logs: { complete: false }, complete: false });
    const [left] = await env.db.query<{ n: unknown }>(`select count(*) as n from public.logs where message = 'bulk'`);
    expect(Number(left!.n)).toBe(12_000);

    const rest = await runJob(env.deps, cleanupRetention, { budgetMs: 60_000 });
    expect(rest.summary).toMatchObject({ logs: { deleted: { debug: 12_000, spans: 6_000 }, projects: 1, complete: true }, complete: true });
    expect(await env.db.query(`select 1 from public.logs where message = 'bulk'`)).toHaveLength(0);
    expect(await env.db.query(`select 1 from public.spans where trace_id = 'bulk'`)).toHaveLength(0);
    expect(await logExists(env, 'recent-debug')).toBe(true);
  });
});

describe('/logs/retention routes', () => {
  let env: TestEnv;
  let t: Tenant;

  beforeAll(async () => {
    env = await createTestEnv({ fakeTime: iso(NOW) });
    t = await createTenant(env);
    // Settings up to 400 days: the pro plan's retention (free keeps 90; docs/BILLING.md).
    await env.db.query(`update public.organizations set plan = 'pro' where id = $1`, [t.orgId]);
    const day = NOW - 10 * DAY;
    await ensureDays(env, [day]);
    await insertLog(env, t.projectA, 'debug', day, 'route-debug');
    await insertLog(env, t.projectA, 'error', day, 'route-error');
    // Past the 14 days set below, inside the longest span retention (30 days): deleted row by row.
    await ensureDays(env, [NOW - 20 * DAY]);
    await insertSpan(env, t.projectA, NOW - 20 * DAY, 'route-span');
  }, 60_000);
  afterAll(async () => env?.close());

  const get = (path: string, auth: { token?: string; apiKey?: string }) => env.request('GET', `${BASE}${path}`, auth);
  const put = (token: string | undefined, body: unknown, apiKey?: string) => env.request('PUT', BASE, { token, apiKey, body });

  it('GET answers the effective settings, defaults included, to readers of the project', async () => {
    const res = await get(`?projectId=${t.projectA}`, { token: t.people.member.jwt });
    expect(res.status).toBe(200);
    expect((await res.json()).retention).toEqual({
      projectId: t.projectA,
      custom: false,
      levels: { trace: 7, debug: 7, info: 30, warn: 90, error: 90, fatal: 90 },
      spans: 30,
      updatedAt: null,
      defaults: LOG_RETENTION_DEFAULTS,
    });
    // A read key defaults to its own project.
    const byKey = await get('', { apiKey: t.keyA.secret });
    expect(byKey.status).toBe(200);
    expect((await byKey.json()).retention.projectId).toBe(t.projectA);
  });

  it.each([
    ['a member not assigned to the project', 'unassigned', 404],
    ['another organization', 'outsider', 404],
  ] as const)('GET and preview are 404 for %s', async (_, who, status) => {
    expect((await get(`?projectId=${t.projectA}`, { token: t.people[who].jwt })).status).toBe(status);
    expect((await get(`/preview?projectId=${t.projectA}`, { token: t.people[who].jwt })).status).toBe(status);
  });

  it('refuses anonymous callers', async () => {
    expect((await get(`?projectId=${t.projectA}`, {})).status).toBe(401);
    expect((await env.request('PUT', BASE, { body: { projectId: t.projectA, spans: 3 } })).status).toBe(401);
  });

  it('PUT: owners and admins change it, audited; what is left out keeps its value', async () => {
    const res = await put(t.people.owner.jwt, { projectId: t.projectA, levels: { debug: 3 } });
    expect(res.status).toBe(200);
    expect((await res.json()).retention).toMatchObject({ custom: true, levels: { trace: 7, debug: 3, info: 30, fatal: 90 }, spans: 30 });
    const again = await put(t.people.admin.jwt, { projectId: t.projectA, levels: { info: 45 }, spans: 14 });
    expect((await again.json()).retention).toMatchObject({ levels: { debug: 3, info: 45 }, spans: 14 });
    const audit = await env.db.query<{ actor_id: string; details: Record<string, unknown> }>(
      `select actor_id, details from public.audit_log where action = 'project.log_retention_changed' and target_id = $1 order by id`,
      [t.projectA],
    );
    expect(audit).toHaveLength(2);
    expect(audit[0]!.actor_id).toBe(t.people.owner.id);
    expect(audit[1]!).toMatchObject({ actor_id: t.people.admin.id, details: { info_days: 45, span_days: 14, previous: { info_days: 30, span_days: 30 } } });
    const read = await (await get(`?projectId=${t.projectA}`, { token: t.people.viewer.jwt })).json();
    expect(read.retention).toMatchObject({ custom: true, levels: { debug: 3, info: 45 }, spans: 14 });
  });

  it.each([
    ['a member', 'member', 403],
    ['a viewer', 'viewer', 403],
    ['a member not assigned to the project', 'unassigned', 404],
    ['another organization', 'outsider', 404],
  ] as const)('PUT is refused for %s (%s)', async (_, who, status) => {
    const res = await put(t.people[who].jwt, { projectId: t.projectA, levels: { debug: 1 } });
    expect(res.status).toBe(status);
    const [row] = await env.db.query<{ debug_days: number }>('select debug_days from public.log_retention_settings where project_id = $1', [t.projectA]);
    expect(row?.debug_days).not.toBe(1);
  });

  it('PUT refuses API keys', async () => {
    expect((await put(undefined, { projectId: t.projectA, levels: { debug: 1 } }, t.keyA.secret)).status).toBe(403);
  });

  it.each([
    ['a level below 1 day', { levels: { debug: 0 } }, 'body.levels.debug'],
    ['a level above 400 days', { levels: { fatal: 401 } }, 'body.levels.fatal'],
    ['spans above 400 days', { spans: 500 }, 'body.spans'],
    ['a fraction of a day', { levels: { info: 1.5 } }, 'body.levels.info'],
    ['a level that does not exist', { levels: { verbose: 3 } }, 'body.levels'],
    ['nothing to change', {}, 'body.levels'],
    ['no projectId', { projectId: undefined, spans: 3 }, 'body.projectId'],
  ])('PUT answers 400 naming the field for %s', async (_, body, field) => {
    const res = await put(t.people.owner.jwt, { projectId: t.projectA, ...body });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details[0].field).toBe(field);
  });

  it('GET answers 400 naming a malformed projectId', async () => {
    const res = await get('?projectId=nope', { token: t.people.owner.jwt });
    expect(res.status).toBe(400);
    expect((await res.json()).error.details[0].field).toBe('query.projectId');
  });

  it('preview: readers see what the next run removes from their project, and nothing changes', async () => {
    const before = await countAll(env);
    for (const auth of [{ token: t.people.member.jwt }, { token: t.people.viewer.jwt }, { apiKey: t.keyA.secret }]) {
      const res = await get(auth.apiKey ? '/preview' : `/preview?projectId=${t.projectA}`, auth);
      expect(res.status).toBe(200);
      const { preview } = await res.json();
      expect(preview).toMatchObject({
        projectId: t.projectA,
        now: iso(NOW),
        levels: { debug: { days: 3, cutoff: iso(NOW - 3 * DAY), rows: 1 }, error: { days: 90, rows: 0 } },
        spans: { days: 14, rows: 1 },
      });
    }
    expect(await countAll(env)).toEqual(before);
  });

  it('preview as the service role is the job-wide dry run, and changes nothing', async () => {
    const before = await countAll(env);
    const res = await get('/preview', { token: await env.serviceJwt() });
    expect(res.status).toBe(200);
    const { preview } = await res.json();
    expect(preview).toMatchObject({ dryRun: true, now: iso(NOW), wouldDelete: { invitations: 0, jobRuns: 0, anomalyEpisodes: 0, anomalyIncidents: 0 }, complete: true });
    expect(preview.logs.projects).toEqual([
      expect.objectContaining({ projectId: t.projectA, levels: expect.objectContaining({ debug: { days: 3, cutoff: iso(NOW - 3 * DAY), rows: 1 } }), spans: expect.objectContaining({ rows: 1 }) }),
    ]);
    expect(await countAll(env)).toEqual(before);
    // The run then removes exactly that.
    const run = await runJob(env.deps, cleanupRetention, { budgetMs: 60_000 });
    expect(run.summary).toMatchObject({ logs: { deleted: { debug: 1, error: 0, spans: 1 }, projects: 1 } });
    expect([await logExists(env, 'route-debug'), await logExists(env, 'route-error'), await spanExists(env, 'route-span')]).toEqual([false, true, false]);
  });
});
