import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Migration } from '../db/migrate.ts';

/** The repository's supabase/ folder (src/node -> ../../supabase). */
export const SUPABASE_DIR = new URL('../../supabase/', import.meta.url).pathname;

/** Reads supabase/migrations/<version>_<name>.sql in order. */
export function loadMigrations(dir = join(SUPABASE_DIR, 'migrations')): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const [, version, name] = /^(\d+)_([\w-]+)\.sql$/.exec(file)!;
      return { version: version!, name: name!, sql: readFileSync(join(dir, file), 'utf8') };
    });
}

/** What Supabase provides before migrations; applied only outside Supabase. */
export function loadBootstrap(): string {
  return readFileSync(join(SUPABASE_DIR, 'bootstrap', 'supabase-compat.sql'), 'utf8');
}
