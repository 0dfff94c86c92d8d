import type { Db } from './types.ts';

const MIGRATION_LOCK_KEY = 7_100_000;

export interface Migration {
  /** The timestamp prefix of the file name, as the Supabase CLI records it. */
  version: string;
  name: string;
  sql: string;
}

/**
 * Applies pending migrations, each in its own transaction, recording them in
 * supabase_migrations.schema_migrations: the same table `supabase db push` uses, so our runner and the
 * Supabase CLI agree on what a database already has. The bootstrap (what Supabase itself provides:
 * roles, the auth schema) runs first and only outside Supabase; it is idempotent.
 */
export async function migrate(db: Db, opts: { bootstrap?: string; migrations: Migration[] }): Promise<string[]> {
  // Concurrent `create ... if not exists` can still collide in the catalog: take the lock first.
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    if (opts.bootstrap) await tx.exec(opts.bootstrap);
    await tx.exec(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
    `);
  });
  const applied = new Set(
    (await db.query<{ version: string }>('select version from supabase_migrations.schema_migrations')).map((r) => r.version),
  );
  const done: string[] = [];
  for (const m of [...opts.migrations].sort((a, b) => a.version.localeCompare(b.version))) {
    if (applied.has(m.version)) continue;
    const ran = await db.transaction(async (tx) => {
      // Two processes starting at once: the second waits here, then sees the version and skips it.
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const [already] = await tx.query('select 1 from supabase_migrations.schema_migrations where version = $1', [m.version]);
      if (already) return false;
      await tx.exec(m.sql);
      await tx.query('insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)', [
        m.version,
        m.name,
        [m.sql],
      ]);
      return true;
    });
    if (ran) done.push(`${m.version}_${m.name}`);
  }
  return done;
}
