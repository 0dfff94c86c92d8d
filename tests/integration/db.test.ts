/**
 * The database adapter of this run (embedded PGlite, or postgres.js with DATABASE_URL) decodes
 * values as the product relies on: a NULL element of an array is null (postgres.js 3.4.9 read it as
 * the string 'NULL', or NaN in a numeric array, until patches/postgres+3.4.9.patch), while the text
 * 'NULL' stays text. Transactions commit what fn did when it resolves and nothing when it throws or
 * one of its statements fails. A COPY FROM that fails after its rows were all sent fails its writer
 * (postgres.js left it waiting forever until the same patch; bench:ingest's ceiling COPY hung on it).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, servicesMode, type TestEnv } from '../helpers/env.ts';

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

  it.runIf(servicesMode())('a COPY FROM refused at its end (unique violation) rejects its writer instead of hanging', async () => {
    const sql = postgres(env.databaseUrl!, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe('create temporary table copy_test (v int primary key)');
      const writable = await sql.unsafe('copy copy_test (v) from stdin').writable();
      // The duplicate is the last row: Postgres finds it only after the writer's final chunk.
      await expect(pipeline(Readable.from(['1\n2\n', '3\n1\n']), writable)).rejects.toMatchObject({ code: '23505' });
      const [row] = await sql.unsafe('select count(*)::int as n from copy_test');
      expect(row!.n).toBe(0);
    } finally {
      await sql.end();
    }
  });
});

describe.skipIf(!servicesMode())('advisory locks on a small pool', () => {
  it('jobs started together on a pool no larger than their number all finish (lock connections apart from the work)', async () => {
    const { createPostgresDb } = await import('../../src/db/postgres.ts');
    const env = await createTestEnv();
    const db = createPostgresDb(env.databaseUrl!, { max: 2 });
    try {
      // Each "job" holds its lock while its work needs a connection of the pool, as runJob does.
      const jobs = [101, 102, 103].map((key) => db.withAdvisoryLock(key, () => db.query<{ n: number }>('select pg_sleep(0.05), 1 as n')));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<'deadlock'>((resolve) => (timer = setTimeout(() => resolve('deadlock'), 10_000)));
      const outcome = await Promise.race([Promise.all(jobs), deadline]);
      clearTimeout(timer);
      expect(outcome).not.toBe('deadlock');
      expect((outcome as Array<{ acquired: boolean }>).every((r) => r.acquired)).toBe(true);
    } finally {
      await db.close();
      await env.close();
    }
  }, 30_000);
});
