import postgres from 'postgres';
import type { Db, LockResult, Queryable } from './types.ts';

export interface PostgresOptions {
  max?: number;
  /** Prepared statements; turn off behind a transaction-mode pooler (Supabase port 6543). */
  prepare?: boolean;
  applicationName?: string;
}

type Sql = postgres.Sql<Record<string, never>>;

/**
 * Statements with parameters are prepared (named, cached per connection) unless `prepare` is off:
 * postgres.js sends an unprepared one as Parse + Describe, waits for the parameter types, then Bind +
 * Execute, two round trips every time; a prepared one is one round trip (Bind + Execute) from its
 * second use on, and Postgres does not parse it again (it still plans each execution for its values,
 * see plan_cache_mode below). Values always travel as parameters, so statement texts vary only with
 * a query's shape (its filters, its group-by keys), and connections are recycled (postgres.js
 * max_lifetime): the per-connection caches stay bounded. Behind a transaction-mode pooler set
 * prepare: false.
 */
function queryable(sql: Sql | postgres.TransactionSql<Record<string, never>>, prepare: boolean): Queryable {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      return (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare })) as unknown as T[];
    },
    async exec(script: string) {
      await sql.unsafe(script);
    },
  };
}

/** A pooled postgres.js connection. Used for local Postgres and for Supabase Postgres. */
export function createPostgresDb(url: string, opts: PostgresOptions = {}): Db {
  const prepare = opts.prepare ?? true;
  const sql: Sql = postgres(url, {
    max: opts.max ?? 10,
    prepare: opts.prepare ?? true,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
    // Prepared statements still get a plan made for their parameter values on every execution, as
    // unprepared ones did. A precaution: after five executions Postgres may switch a prepared
    // statement to a generic plan, which cannot see a query's time range or id list. (bench:query
    // measured no difference either way at 10M points.)
    // Only where statements are prepared: poolers (PgBouncer) refuse unknown startup parameters.
    connection: { application_name: opts.applicationName ?? 'observai', ...(prepare ? { plan_cache_mode: 'force_custom_plan' } : {}) },
    // Keep int8 and numeric as strings (postgres.js default) and parse timestamps to Date.
  });
  const base = queryable(sql, prepare);
  // Advisory locks are session locks, so each holder keeps a connection for as long as its job runs,
  // while the job's own statements need connections too. Taken from the same pool, N jobs started
  // together on a pool of N held every connection and waited for ever for one more. They come from a
  // small pool of their own (opened on first use): a lock waits for a lock connection at worst, and
  // the work always has the whole main pool.
  let locks: Sql | undefined;
  const lockPool = () =>
    (locks ??= postgres(url, { max: 2, prepare: false, idle_timeout: 30, connect_timeout: 5, onnotice: () => {}, connection: { application_name: `${opts.applicationName ?? 'observai'}-locks` } }));
  return {
    kind: 'postgres',
    ...base,
    // postgres.js' sql.begin. Tried on 2026-11-26: BEGIN pipelined with fn's first statements on a
    // reserved connection (sql.reserve) saved a round trip per transaction, about 5% of ingest's
    // gateway CPU, but then ingest did not recover after a Postgres outage in 2 runs of 3
    // (tests/e2e/ingest-outage.test.ts); the cause was not found, so it was not kept.
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return (await sql.begin((tx) => fn(queryable(tx, prepare)))) as T;
    },
    async withAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<LockResult<T>> {
      const conn = await lockPool().reserve();
      try {
        const [row] = await conn.unsafe('select pg_try_advisory_lock($1) as ok', [key]);
        if (!row?.ok) return { acquired: false };
        try {
          return { acquired: true, value: await fn() };
        } finally {
          await conn.unsafe('select pg_advisory_unlock($1)', [key]);
        }
      } finally {
        conn.release();
      }
    },
    async close() {
      await Promise.all([sql.end({ timeout: 5 }), locks?.end({ timeout: 5 })]);
    },
  };
}
