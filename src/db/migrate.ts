import type { Db } from './types.ts';

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
  if (opts.bootstrap) await db.exec(opts.bootstrap);
  await db.exec(`
    create schema if not exists supabase_migrations;
    create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
  `);
  const applied = new Set(
    (await db.query<{ version: string }>('select version from supabase_migrations.schema_migrations')).map((r) => r.version),
  );
  const done: string[] = [];
  for (const m of [...opts.migrations].sort((a, b) => a.version.localeCompare(b.version))) {
    if (applied.has(m.version)) continue;
    await db.transaction(async (tx) => {
      await tx.exec(m.sql);
      await tx.query('insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)', [
        m.version,
        m.name,
        [m.sql],
      ]);
    });
    done.push(`${m.version}_${m.name}`);
  }
  return done;
}
