import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Db, LockResult, Queryable } from './types.ts';

function queryable(pg: PGlite | Transaction): Queryable {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      const res = await pg.query<T>(text, params as unknown[]);
      return res.rows;
    },
    async exec(script: string) {
      await pg.exec(script);
    },
  };
}

/**
 * PGlite (Postgres compiled to WASM) for the embedded mode. It is one connection in one process, so
 * PGlite itself serialises transactions; an advisory lock still guards jobs against a second
 * scheduler started on the same data dir.
 */
export function createPgliteDb(pg: PGlite): Db {
  const base = queryable(pg);
  // Advisory locks are re-entrant within one session, and PGlite is one session: track holders in
  // process too, so two schedulers in this process still exclude each other.
  const held = new Set<number>();
  return {
    kind: 'pglite',
    ...base,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pg.transaction((tx) => fn(queryable(tx)));
    },
    async withAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<LockResult<T>> {
      if (held.has(key)) return { acquired: false };
      held.add(key);
      try {
        return await lockAndRun(key, fn);
      } finally {
        held.delete(key);
      }
    },
    async close() {
      await pg.close();
    },
  };

  async function lockAndRun<T>(key: number, fn: () => Promise<T>): Promise<LockResult<T>> {
      const [row] = await base.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [key]);
      if (!row?.ok) return { acquired: false };
      try {
        return { acquired: true, value: await fn() };
      } finally {
        await base.query('select pg_advisory_unlock($1)', [key]);
      }
  }
}
