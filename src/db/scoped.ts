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
 * Every transaction run for a user or an API key is bounded, whatever the verb asks for: under `set
 * role authenticated` Postgres applies no role setting (those apply at login), so statement_timeout
 * would otherwise be 0, and one slow query could hold a pooled connection every tenant shares.
 * A verb passes its own statement_timeout to use another bound.
 */
export const USER_STATEMENT_TIMEOUT = '15s';

/**
 * Runs fn in a transaction as the JWT's Postgres role with its claims visible to auth.uid() and
 * auth.jwt(), the way PostgREST does. Row-level security then decides what the caller sees, so a
 * missing WHERE clause in our code cannot leak another tenant's rows.
 * `settings` are transaction-local settings (statement_timeout, jit, ...) applied in the same
 * statement as the role and claims, like PostgREST's one `set_config` prelude: one round trip.
 */
export async function withClaims<T>(db: Db, claims: Claims, fn: (tx: Queryable) => Promise<T>, settings: Readonly<Record<string, string>> = {}): Promise<T> {
  if (!ROLES.has(claims.role)) throw new Error(`refusing to assume unknown role ${claims.role}`);
  if (claims.role !== 'service_role' && settings.statement_timeout === undefined) {
    settings = { ...settings, statement_timeout: USER_STATEMENT_TIMEOUT };
  }
  const names = Object.keys(settings);
  for (const name of names) if (!/^[a-z_]+$/.test(name)) throw new Error(`refusing to set ${name}`);
  return db.transaction(async (tx) => {
    // set_config('role', ..., true) is SET LOCAL ROLE; the role name is one of the fixed set above.
    // Not awaited before fn runs: fn's first statement is pipelined behind it on the connection (one
    // round trip less per transaction). Statements run in the order they are issued, so nothing of
    // fn's runs before the role is set, and if the prelude failed they fail with it.
    const prelude = tx.query(
      `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)${names.map((n, i) => `, set_config('${n}', $${i + 3}, true)`).join('')}`,
      [claims.role, JSON.stringify(claims), ...names.map((n) => settings[n]!)],
    );
    const body = Promise.resolve().then(() => fn(tx));
    body.catch(() => {}); // observed here so an early rejection is not "unhandled"; awaited below
    try {
      await prelude;
    } catch (err) {
      // Not before fn has settled: the transaction (and its connection) must not be given back while
      // fn may still issue statements on it.
      await body.catch(() => {});
      throw err;
    }
    return body;
  });
}

/**
 * Settings of short interactive reads (dashboards, search, traces): a bounded statement time, and no
 * JIT (compiling costs more than it saves on these queries, measured by bench:query and bench:logs).
 */
export const INTERACTIVE_READ: Readonly<Record<string, string>> = { statement_timeout: USER_STATEMENT_TIMEOUT, jit: 'off' };

/** For internal work that must cross tenants (jobs, key verification): the service role. */
export function asServiceRole<T>(db: Db, fn: (tx: Queryable) => Promise<T>, settings?: Readonly<Record<string, string>>): Promise<T> {
  return withClaims(db, { role: 'service_role' }, fn, settings);
}

/**
 * Runs `fn` in the caller's transaction as the service role, then returns to the caller's claims:
 * for the writes users hold no grant for (a webhook's outbox and delivery state, a generated key's
 * hash, an incident's state and timeline), made only after the caller's own claims authorized the
 * verb, in the same transaction (no gap between the check and the write). The claims keep the
 * caller's user id (or API key), so an audit row written meanwhile still names them. SET ROLE is
 * judged against the session's user, so this switches as withClaims itself does.
 */
export async function asServiceRoleWithin<T>(tx: Queryable, actor: Claims, fn: () => Promise<T>): Promise<T> {
  const service: Claims = {
    role: 'service_role',
    ...(actor.sub ? { sub: actor.sub } : {}),
    ...(actor.observai_key ? { observai_key: actor.observai_key } : {}),
  };
  const become = (claims: Claims) =>
    tx.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, [claims.role, JSON.stringify(claims)]);
  await become(service);
  const result = await fn();
  await become(actor);
  return result;
}
