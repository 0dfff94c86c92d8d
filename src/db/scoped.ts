import type { Db, Queryable } from './types.ts';

/**
 * Verified JWT claims, as Supabase Auth issues them. `role` is the Postgres role the request runs as.
 */
export interface Claims {
  sub?: string;
  role: string;
  [key: string]: unknown;
}

const ROLES = new Set(['anon', 'authenticated', 'service_role']);

/**
 * Runs fn in a transaction as the JWT's Postgres role with its claims visible to auth.uid() and
 * auth.jwt(), the way PostgREST does. Row-level security then decides what the caller sees, so a
 * missing WHERE clause in our code cannot leak another tenant's rows.
 */
export async function withClaims<T>(db: Db, claims: Claims, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  if (!ROLES.has(claims.role)) throw new Error(`refusing to assume unknown role ${claims.role}`);
  return db.transaction(async (tx) => {
    // The role name comes from the fixed set above, so interpolating it is safe.
    await tx.query(`set local role ${claims.role}`);
    await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
    return fn(tx);
  });
}

/** For internal work that must cross tenants (jobs, key verification): the service role. */
export function asServiceRole<T>(db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return withClaims(db, { role: 'service_role' }, fn);
}
