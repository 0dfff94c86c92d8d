import type { Queryable } from './types.ts';

/** Schemas the Supabase Data API exposes by default. */
export const EXPOSED_SCHEMAS = ['public', 'graphql_public'];

export interface RlsProblem {
  table: string;
  problem: 'rls disabled' | 'no policy';
}

/**
 * Tables in exposed schemas that lack row-level security, or have it enabled with no policy at all
 * (which silently denies everything and usually means a policy was forgotten). Must be empty.
 */
export async function findRlsProblems(db: Queryable, schemas = EXPOSED_SCHEMAS): Promise<RlsProblem[]> {
  const rows = await db.query<{ table: string; rls: boolean; policies: number | string }>(
    `select n.nspname || '.' || c.relname as table, c.relrowsecurity as rls,
            (select count(*) from pg_policy p where p.polrelid = c.oid) as policies
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1) and c.relkind in ('r', 'p')
     order by 1`,
    [schemas],
  );
  return rows.flatMap((r): RlsProblem[] =>
    !r.rls ? [{ table: r.table, problem: 'rls disabled' as const }] : Number(r.policies) === 0 ? [{ table: r.table, problem: 'no policy' as const }] : [],
  );
}
