/**
 * The database adapter of this run (embedded PGlite, or postgres.js with DATABASE_URL) decodes
 * values as the product relies on: a NULL element of an array is null (postgres.js 3.4.9 read it as
 * the string 'NULL', or NaN in a numeric array, until patches/postgres+3.4.9.patch), while the text
 * 'NULL' stays text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';

describe('database adapter', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => env?.close());

  it.each([
    // [case, SQL of one array, what it reads as]
    ['text', `array['a', null, 'NULL', 'null']::text[]`, ['a', null, 'NULL', 'null']],
    ['float8', `array[1.5, null, -2]::float8[]`, [1.5, null, -2]],
    ['int4', `array[null, 7]::int4[]`, [null, 7]],
    ['two-dimensional text', `array[['x', null], [null, 'NULL']]::text[]`, [['x', null], [null, 'NULL']]],
    ['only nulls', `array[null, null]::text[]`, [null, null]],
  ])('a %s array keeps its NULL elements null', async (_, sql, expected) => {
    const [row] = await env.db.query<{ a: unknown }>(`select ${sql} as a`);
    expect(row!.a).toEqual(expected);
  });
});
