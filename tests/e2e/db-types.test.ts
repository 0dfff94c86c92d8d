/**
 * supabase/types/database.ts is what `npm run gen:db-types` writes from the migrations today: a
 * migration that adds, drops or re-grants a column changes the type a dashboard compiles against,
 * and this fails until the file is regenerated. It also checks what the generator promises: only
 * what the `authenticated` role may read, so columns no API role may select are absent.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DB_TYPES_FILE, generateFromMigrations } from '../../scripts/gen-db-types.ts';

describe('generated database types', () => {
  it('match the migrations (run npm run gen:db-types when this fails)', async () => {
    const generated = await generateFromMigrations();
    expect(generated).toBe(readFileSync(DB_TYPES_FILE, 'utf8'));
    // Column grants: an API key's hash is never readable, so it is no field of the row type.
    const apiKeys = /\n {6}api_keys: \{\n {8}Row: \{\n([\s\S]*?)\n {8}\};/.exec(generated)?.[1] ?? '';
    expect(apiKeys).toContain('prefix: string;');
    expect(apiKeys).not.toContain('secret_hash');
  }, 60_000);
});
