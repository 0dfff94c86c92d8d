/**
 * supabase/schema.sql is what the migrations produce: a fresh database is migrated and dumped, and
 * the committed snapshot must equal it (regenerate with `npm run schema:snapshot`). Needs a Postgres
 * server and pg_dump, so it runs in the services mode (CI runs both modes).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateSchemaSnapshot, SNAPSHOT_PATH } from '../../scripts/schema-snapshot.ts';
import { servicesMode } from '../helpers/env.ts';

describe.skipIf(!servicesMode())('schema snapshot', () => {
  it('supabase/schema.sql equals the schema a fresh migration produces (npm run schema:snapshot)', async () => {
    const fresh = await generateSchemaSnapshot(process.env.DATABASE_URL);
    const committed = readFileSync(SNAPSHOT_PATH, 'utf8');
    // Compared as text: a mismatch shows the first differing lines.
    expect(committed.split('\n')).toEqual(fresh.split('\n'));
  }, 120_000);
});
