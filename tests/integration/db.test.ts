/**
 * The database adapter of this run (embedded PGlite, or postgres.js with DATABASE_URL) decodes
 * values as the product relies on: a NULL element of an array is null (postgres.js 3.4.9 read it as
 * the string 'NULL', or NaN in a numeric array, until patches/postgres+3.4.9.patch), while the text
 * 'NULL' stays text. Transactions commit what fn did when it resolves and nothing when it throws or
 * one of its statements fails.
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

  describe('transaction', () => {
    const table = `tx_test_${Math.random().toString(36).slice(2, 8)}`;
    beforeAll(async () => {
      await env.db.exec(`create table public.${table} (v int primary key)`);
    });
    afterAll(async () => {
      await env.db.exec(`drop table if exists public.${table}`);
    });
    const values = async () => (await env.db.query<{ v: number }>(`select v from public.${table} order by v`)).map((r) => r.v);

    it('commits when fn resolves, and its statements see each other', async () => {
      const seen = await env.db.transaction(async (tx) => {
        await tx.query(`insert into public.${table} values (1), (2)`);
        return (await tx.query<{ n: number }>(`select count(*)::int as n from public.${table}`))[0]!.n;
      });
      expect(seen).toBe(2);
      expect(await values()).toEqual([1, 2]);
    });

    it('rolls back when fn throws, with statements still unanswered when it threw', async () => {
      await expect(
        env.db.transaction(async (tx) => {
          await tx.query(`insert into public.${table} values (3)`);
          void tx.query(`insert into public.${table} values (4)`).catch(() => {});
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await values()).toEqual([1, 2]);
    });

    it('rolls back when a statement fails, and the next transaction works', async () => {
      await expect(
        env.db.transaction(async (tx) => {
          await tx.query(`insert into public.${table} values (5)`);
          await tx.query(`insert into public.${table} values (1)`); // duplicate key
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect(await values()).toEqual([1, 2]);
      await env.db.transaction((tx) => tx.query(`insert into public.${table} values (6)`));
      expect(await values()).toEqual([1, 2, 6]);
    });
  });
});

