/**
 * The migration runner: applies everything once, is a no-op the second time, and two processes
 * starting at once against the same database neither fail nor apply anything twice.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { createPgliteDb } from '../../src/db/pglite.ts';
import { createPostgresDb } from '../../src/db/postgres.ts';
import type { Db } from '../../src/db/types.ts';
import { rollupTotals } from '../../src/metrics/aggregate-metrics.ts';
import { RESOLUTIONS, TOTALS_RESOLUTIONS } from '../../src/metrics/resolutions.ts';
import { addToSketch, type Sketch, sketchFromStored } from '../../src/metrics/sketch.ts';
import { loadBootstrap, loadMigrations } from '../../src/node/migrations.ts';
import { createDatabase, servicesMode } from '../helpers/env.ts';

const all = () => loadMigrations().map((m) => `${m.version}_${m.name}`);

describe('migrate', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('applies every migration once on PGlite, then nothing', async () => {
    const db = createPgliteDb(new PGlite());
    cleanups.push(() => db.close());
    const opts = { bootstrap: loadBootstrap(), migrations: loadMigrations() };
    expect(await migrate(db, opts)).toEqual(all());
    expect(await migrate(db, opts)).toEqual([]);
  });

  it.skipIf(!servicesMode())('two concurrent runners against one Postgres database apply each migration exactly once', async () => {
    const database = await createDatabase();
    const a: Db = createPostgresDb(database.url, { max: 2 });
    const b: Db = createPostgresDb(database.url, { max: 2 });
    cleanups.push(async () => {
      await a.close();
      await b.close();
      await database.drop();
    });
    await a.exec(loadBootstrap());
    const opts = { migrations: loadMigrations() };
    const [ra, rb] = await Promise.all([migrate(a, opts), migrate(b, opts)]);
    expect([...ra, ...rb].sort()).toEqual(all());
    const rows = await a.query<{ version: string }>('select version from supabase_migrations.schema_migrations');
    expect(rows).toHaveLength(all().length);
  });

  /** A PGlite database with every migration before `version` applied. */
  const migratedUpTo = async (version: string) => {
    const db = createPgliteDb(new PGlite());
    cleanups.push(() => db.close());
    const migrations = loadMigrations();
    const at = migrations.findIndex((m) => m.version === version);
    expect(at).toBeGreaterThan(0);
    await migrate(db, { bootstrap: loadBootstrap(), migrations: migrations.slice(0, at) });
    return { db, migrations, at };
  };

  it('20261206000500 moves the jobs\' internal tables to private with their rows, and the jobs keep working', async () => {
    const { db, migrations, at } = await migratedUpTo('20261206000500');
    await db.query(`insert into public.job_runs (job, started_at, finished_at, outcome) values ('before-upgrade', now(), now(), 'ok')`);
    await db.query(`insert into public.rollup_state (key, watermark) values ('aggregate-metrics', '42')`);
    expect(await migrate(db, { migrations })).toEqual(migrations.slice(at).map((m) => `${m.version}_${m.name}`));
    expect(await db.query(`select job, outcome from private.job_runs`)).toEqual([{ job: 'before-upgrade', outcome: 'ok' }]);
    expect(await db.query(`select key, watermark::text as watermark from private.rollup_state`)).toEqual([{ key: 'aggregate-metrics', watermark: '42' }]);
    const [left] = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relname in ('job_runs', 'rollup_state', 'anomaly_detector_states')`,
    );
    expect(left!.n).toBe(0);
    // The identity sequence moved with its table: the next run gets the next id.
    const [next] = await db.query<{ id: string }>(`insert into private.job_runs (job, started_at) values ('after-upgrade', now()) returning id::text as id`);
    expect(Number(next!.id)).toBeGreaterThan(1);
  });

  it('20261126002000 turns stored jsonb sketches into rank and count arrays with the same buckets', async () => {
    const { db, migrations, at } = await migratedUpTo('20261126002000');
    const [org] = await db.query<{ id: string }>(`insert into public.organizations (name, slug) values ('Org', 'org-one') returning id`);
    const [project] = await db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'Project', 'project-one') returning id`, [org!.id]);
    const [series] = await db.query<{ id: string }>(
      `insert into public.metric_series (project_id, name, type, tags, fingerprint) values ($1, 'm', 'gauge', '{}', 'f') returning id`,
      [project!.id],
    );
    // The old encoding: "p<i>" / "n<i>" / "z" keys with counts, as the rollup job wrote them.
    const values = [-1e6, -3, -3, 0, 0, 0, 1e-3, 2.5, 2.5, 2.5, 7e9];
    const expected: Sketch = {};
    const old: Record<string, number> = {};
    for (const v of values) {
      addToSketch(expected, v);
      const key = v > 1e-9 ? `p${Math.ceil(Math.log(v) / Math.log(201 / 199))}` : v < -1e-9 ? `n${Math.ceil(Math.log(-v) / Math.log(201 / 199))}` : 'z';
      old[key] = (old[key] ?? 0) + 1;
    }
    const insert = `insert into public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, sketch)
                    values ($1, $2, $3, now(), 1, 1, 1, 1, 1, now(), $4::jsonb)`;
    await db.query(insert, [project!.id, series!.id, '1m', JSON.stringify(old)]);
    await db.query(insert, [project!.id, series!.id, '1h', '{}']);
    expect(await migrate(db, { migrations })).toEqual(migrations.slice(at).map((m) => `${m.version}_${m.name}`));
    const rows = await db.query<{ resolution: string; sketch: Array<Array<number | string>>; text: string }>(
      'select resolution, sketch, sketch::text as text from public.metric_rollups order by resolution',
    );
    expect(rows.map((r) => [r.resolution, sketchFromStored(r.sketch)])).toEqual([
      ['1h', {}],
      ['1m', expected],
    ]);
    expect(rows[0]!.text).toBe('{}');
    const ranks = rows[1]!.sketch[0]!.map(Number);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  it('20261126002300 fills the metric totals of existing rollups exactly as the rollup job would', async () => {
    const { db, migrations } = await migratedUpTo('20261126002300');
    const [org] = await db.query<{ id: string }>(`insert into public.organizations (name, slug) values ('Org', 'org-two') returning id`);
    const [project] = await db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'Project', 'project-two') returning id`, [org!.id]);
    const ids: string[] = [];
    for (const [name, host] of [['m', 'a'], ['m', 'b'], ['other', 'a']]) {
      const [row] = await db.query<{ id: string }>(
        `insert into public.metric_series (project_id, name, type, tags, fingerprint) values ($1, $2, 'gauge', $3, $4) returning id`,
        [project!.id, name, JSON.stringify({ host }), `${name}-${host}`],
      );
      ids.push(row!.id);
    }
    // Two days of 1m, 5m, 1h and 1d rows of three series, as the job left them before the migration.
    const start = Date.parse('2026-03-01T22:00:00Z');
    const expected = { count: 0, sum: 0, sketch: {} as Sketch };
    for (const [i, id] of ids.entries()) {
      for (let minute = 0; minute < 240; minute += 7) {
        const v = (i + 1) * (minute + 1);
        const sketch = addToSketch({}, v);
        if (i < 2) {
          expected.count += 1;
          expected.sum += v;
          addToSketch(expected.sketch, v);
        }
        const stored = `{{${Object.keys(sketch).join(',')}},{1}}`;
        const bucket = start + minute * 60_000;
        for (const [resolution, ms] of [['1m', 60_000], ['5m', 300_000], ['1h', 3_600_000], ['1d', 86_400_000]] as const) {
          await db.query(
            `insert into public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, sketch)
             values ($1, $2, $3, $4, 1, $5, $5, $5, $5, $4, $6::bigint[])
             on conflict (resolution, series_id, bucket) do update set count = metric_rollups.count + 1, sum = metric_rollups.sum + $5,
               min = least(metric_rollups.min, $5), max = greatest(metric_rollups.max, $5),
               sketch = (select array[array_agg(k order by k), array_agg(n order by k)] from (
                 select k, sum(n)::bigint as n from (select * from unnest(metric_rollups.sketch[1:1], metric_rollups.sketch[2:2])
                                   union all select * from unnest(($6::bigint[])[1:1], ($6::bigint[])[2:2])) as u(k, n) group by k) x)`,
            [project!.id, id, resolution, new Date(Math.floor(bucket / ms) * ms), v, stored],
          );
        }
      }
    }
    // An old day whose 5m rows retention already removed: its 1h and 1d rows still get totals.
    const old = Date.parse('2026-01-10T00:00:00Z');
    for (const [resolution, bucket] of [['1h', old + 3_600_000], ['1h', old + 7_200_000], ['1d', old]] as const) {
      for (const id of ids.slice(0, 2)) {
        await db.query(
          `insert into public.metric_rollups (project_id, series_id, resolution, bucket, count, sum, min, max, last, last_time, sketch)
           values ($1, $2, $3, $4, 4, 10, 1, 4, 4, $4, '{{1000000,1000139,1000220,1000278},{1,1,1,1}}')`,
          [project!.id, id, resolution, new Date(bucket)],
        );
      }
    }
    await migrate(db, { migrations });
    const oldTotals = await db.query<{ resolution: string; count: string; sketch: Array<Array<number | string>> }>(
      `select resolution, count, sketch from public.metric_totals where name = 'm' and bucket >= $1 and bucket < $2 order by resolution, bucket`,
      [new Date(old), new Date(old + 86_400_000)],
    );
    expect(oldTotals.map((r) => [r.resolution, Number(r.count), sketchFromStored(r.sketch)])).toEqual([
      ['1d', 8, { 1000000: 2, 1000139: 2, 1000220: 2, 1000278: 2 }],
      ['1h', 8, { 1000000: 2, 1000139: 2, 1000220: 2, 1000278: 2 }],
      ['1h', 8, { 1000000: 2, 1000139: 2, 1000220: 2, 1000278: 2 }],
    ]);
    const totals = await db.query<{ resolution: string; n: string; count: string; sum: number }>(
      `select resolution, count(*) as n, sum(count) as count, sum(sum) as sum from public.metric_totals where name = 'm' and bucket >= $1 group by 1 order by 1`,
      [new Date(start - 86_400_000)],
    );
    expect(totals.map((r) => [r.resolution, Number(r.count), r.sum])).toEqual(
      ['1d', '1h', '5m'].map((r) => [r, expected.count, expected.sum]),
    );
    const [day] = await db.query<{ sketch: Array<Array<number | string>> }>(`select sketch from public.metric_totals where name = 'm' and resolution = '1d' and bucket >= $1 order by bucket limit 1`, [new Date(start - 86_400_000)]);
    expect(Object.keys(sketchFromStored(day!.sketch)).length).toBeGreaterThan(10);
    // The job recomputing the same buckets rewrites nothing.
    const kept = RESOLUTIONS.filter((r) => TOTALS_RESOLUTIONS.includes(r.name));
    for (const [j, r] of kept.entries()) {
      const written = await rollupTotals(db, project!.id, j === 0 ? null : kept[j - 1]!.name, r, new Date(start - 86_400_000), new Date(start + 2 * 86_400_000));
      expect(written, r.name).toBe(0);
    }
  });

  it('20261126002100 gives every logs partition\'s search index a 16 MB pending list: those that exist and those made later', async () => {
    const { db, migrations, at } = await migratedUpTo('20261126002100');
    await db.query(`select private.ensure_telemetry_partitions('2026-03-01', '2026-03-02')`);
    await migrate(db, { migrations });
    await db.query(`select private.ensure_telemetry_partitions('2026-03-02', '2026-03-04')`);
    const options = await db.query<{ table: string; options: string[] | null }>(
      `select x.indrelid::regclass::text as table, c.reloptions as options
       from pg_inherits i join pg_index x on x.indexrelid = i.inhrelid join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'public.logs_message_search_idx'::regclass order by 1`,
    );
    // The migrations made partitions around today too: all of them have it.
    expect(options.every((o) => JSON.stringify(o.options) === '["gin_pending_list_limit=16384"]')).toBe(true);
    expect(options.map((o) => o.table).filter((t) => t.startsWith('partitions.logs_202603'))).toEqual(
      ['20260301', '20260302', '20260303', '20260304'].map((d) => `partitions.logs_${d}`),
    );
    // The other tables' partitions are made as before.
    const [spans] = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_inherits where inhparent = 'public.spans'::regclass and inhrelid::regclass::text like 'partitions.spans_202603%'`,
    );
    expect(spans!.n).toBe(4);
  });
});
