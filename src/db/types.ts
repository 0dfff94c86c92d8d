/**
 * The database surface the product uses. Two adapters implement it: postgres.js (local Postgres and
 * Supabase) and PGlite (embedded). Parameters are positional ($1, $2, ...).
 *
 * JSON parameters: pass `JSON.stringify(value)` and cast in SQL as `$n::text::jsonb`. Without the
 * text cast postgres.js encodes a string bound to a jsonb parameter as a JSON string, while PGlite
 * parses it, and the two modes would store different values. Arrays of times: pass epoch
 * milliseconds (`$n::float8[]`, `to_timestamp(x / 1000.0)`); postgres.js does not encode Date arrays.
 */
export type Row = Record<string, unknown>;

export interface Queryable {
  query<T = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations, bootstrap). */
  exec(script: string): Promise<void>;
}

export type LockResult<T> = { acquired: true; value: T } | { acquired: false };

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Holds a session-level advisory lock on one connection while fn runs, so only one runner in
   * the whole cluster executes fn at a time. Returns { acquired: false } at once if it is taken.
   */
  withAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<LockResult<T>>;
  close(): Promise<void>;
}
