import postgres from 'postgres';
import type { Db, LockResult, Queryable } from './types.ts';

export interface PostgresOptions {
  max?: number;
  /** Prepared statements; turn off behind a transaction-mode pooler (Supabase port 6543). */
  prepare?: boolean;
  applicationName?: string;
}

type Sql = postgres.Sql<Record<string, never>>;

function queryable(sql: Sql | postgres.TransactionSql<Record<string, never>>): Queryable {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      return (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[];
    },
    async exec(script: string) {
      await sql.unsafe(script);
    },
  };
}

/** A pooled postgres.js connection. Used for local Postgres and for Supabase Postgres. */
export function createPostgresDb(url: string, opts: PostgresOptions = {}): Db {
  const sql: Sql = postgres(url, {
    max: opts.max ?? 10,
    prepare: opts.prepare ?? true,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
    connection: { application_name: opts.applicationName ?? 'observai' },
    // Keep int8 and numeric as strings (postgres.js default) and parse timestamps to Date.
  });
  const base = queryable(sql);
  return {
    kind: 'postgres',
    ...base,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return (await sql.begin((tx) => fn(queryable(tx)))) as T;
    },
    async withAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<LockResult<T>> {
      const conn = await sql.reserve();
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
      await sql.end({ timeout: 5 });
    },
  };
}
