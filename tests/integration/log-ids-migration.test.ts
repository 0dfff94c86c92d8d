/**
 * Migration 20261206000200_log_ids on a database that already holds logs and export runs under way:
 * no log row changes, the installation secret is made once, and each logs run's progress cursor moves
 * from [time, id] (an internal id its readers could see) to [time, event_key] naming the same line,
 * or to (time, -1) when the line is gone, which resumes before it rather than after.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { createPgliteDb } from '../../src/db/pglite.ts';
import type { Db } from '../../src/db/types.ts';
import { loadBootstrap, loadMigrations } from '../../src/node/migrations.ts';

const VERSION = '20261206000200';

describe(`migration ${VERSION}_log_ids`, () => {
  let db: Db;
  afterAll(async () => db?.close());

  it('keeps every log row, makes the secret once, and moves runs under way onto (time, event_key)', async () => {
    db = createPgliteDb(new PGlite());
    const migrations = loadMigrations();
    const at = migrations.findIndex((m) => m.version === VERSION);
    expect(at).toBeGreaterThan(0);
    await migrate(db, { bootstrap: loadBootstrap(), migrations: migrations.slice(0, at) });

    const [org] = await db.query<{ id: string }>(`insert into public.organizations (name, slug) values ('Org', 'org-ids') returning id`);
    const [project] = await db.query<{ id: string }>(`insert into public.projects (organization_id, name, slug) values ($1, 'P', 'p-ids') returning id`, [org!.id]);
    const [dest] = await db.query<{ id: string }>(
      `insert into public.export_destinations (project_id, organization_id, name, bucket, access_key_id, secret_ciphertext)
       values ($1, $2, 'd', 'bucket-one', 'AK', 'v1.0123456789abcdef.aaaa.bbbb') returning id`,
      [project!.id, org!.id],
    );
    const time = '2026-03-09T10:00:00.123456Z';
    await db.query(`select private.ensure_telemetry_partitions('2026-03-08', '2026-03-10')`);
    const lines = await db.query<{ id: string; event_key: string }>(
      `insert into public.logs (project_id, time, level, service, message, event_key)
       values ($1, $2, 'info', 's', 'first', 41), ($1, $2, 'info', 's', 'second', 42) returning id::text, event_key::text`,
      [project!.id, time],
    );
    const before = await db.query(`select id, project_id, time, message, event_key from public.logs order by id`);
    const run = async (after: string[] | null, signal = 'logs') => {
      const [r] = await db.query<{ id: string }>(
        `insert into public.export_runs (project_id, organization_id, destination_id, signal, from_time, to_time, status, progress)
         values ($1, $2, $3, $4, '2026-03-09', '2026-03-10', 'failed', $5::text::jsonb) returning id`,
        [project!.id, org!.id, dest!.id, signal, after && JSON.stringify({ after, day: '2026-03-09', nextPart: 1 })],
      );
      return r!.id;
    };
    const found = await run(['2026-03-09T10:00:00.123456Z', lines[1]!.id]);
    const gone = await run(['2026-03-09T10:00:00.123456Z', '999999999']);
    const spans = await run(['2026-03-09T10:00:00.123456Z', 'trace', 'span'], 'spans');
    const fresh = await run(null);

    await migrate(db, { migrations });

    expect(await db.query(`select id, project_id, time, message, event_key from public.logs order by id`)).toEqual(before);
    const progress = async (id: string) => (await db.query<{ progress: unknown }>('select progress from public.export_runs where id = $1', [id]))[0]!.progress;
    expect(await progress(found)).toEqual({ after: [time, '42'], day: '2026-03-09', nextPart: 1 });
    expect(await progress(gone)).toEqual({ after: [time, '-1'], day: '2026-03-09', nextPart: 1 });
    expect(await progress(spans)).toEqual({ after: [time, 'trace', 'span'], day: '2026-03-09', nextPart: 1 });
    expect(await progress(fresh)).toBeNull();
    const secrets = await db.query<{ name: string; n: number }>(`select name, octet_length(secret) as n from private.server_secrets`);
    expect(secrets).toEqual([{ name: 'instance', n: 32 }]);
  });
});
