/**
 * The same migrations apply with the real Supabase CLI (`supabase db push`, npm package pinned to
 * 2.117.0) as with our runner: after a CLI push our runner finds nothing pending, and the schema
 * passes the RLS gate.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.ts';
import { findRlsProblems } from '../../src/db/rls-gate.ts';
import { createPostgresDb } from '../../src/db/postgres.ts';
import type { Db } from '../../src/db/types.ts';
import { migrateDb } from '../../src/node/deps.ts';
import { loadBootstrap, loadMigrations } from '../../src/node/migrations.ts';
import { createDatabase, servicesMode } from '../helpers/env.ts';

const run = promisify(execFile);

describe.skipIf(!servicesMode())('supabase db push', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let db: Db;
  beforeAll(async () => {
    database = await createDatabase();
    db = createPostgresDb(database.url, { max: 2 });
    // What Supabase provides before migrations (roles, auth schema); never pushed to Supabase itself.
    await db.exec(loadBootstrap());
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('applies every migration, and our runner then agrees nothing is pending', async () => {
    const url = new URL(database.url);
    url.searchParams.set('sslmode', 'disable');
    const { stdout, stderr } = await run('node_modules/.bin/supabase', ['db', 'push', '--db-url', url.toString(), '--yes'], { timeout: 120_000 });
    const out = stdout + stderr;
    for (const m of loadMigrations()) expect(out).toContain(`${m.version}_${m.name}.sql`);
    expect(out).toContain('Finished supabase db push');
    const applied = await db.query<{ version: string }>('select version from supabase_migrations.schema_migrations order by version');
    expect(applied.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
    expect(await migrateDb(db, parseConfig({ OBSERVAI_MODE: 'local', DATABASE_URL: database.url }))).toEqual([]);
    expect(await findRlsProblems(db)).toEqual([]);
  }, 150_000);
});
