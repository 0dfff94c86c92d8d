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
});
