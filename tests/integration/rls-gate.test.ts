import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRlsProblems } from '../../src/db/rls-gate.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';

describe('RLS gate', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => env?.close());

  it('every table in an exposed schema has RLS enabled and at least one policy', async () => {
    expect(await findRlsProblems(env.db)).toEqual([]);
  });

  it('catches a table without RLS and a table with RLS but no policy', async () => {
    const problems = await env.db
      .transaction(async (tx) => {
        await tx.exec(`
          create table public.gate_no_rls (id int);
          create table public.gate_no_policy (id int);
          alter table public.gate_no_policy enable row level security;
        `);
        const found = await findRlsProblems(tx);
        throw Object.assign(new Error('rollback'), { found });
      })
      .catch((e: Error & { found?: unknown }) => e.found);
    expect(problems).toEqual([
      { table: 'public.gate_no_policy', problem: 'no policy' },
      { table: 'public.gate_no_rls', problem: 'rls disabled' },
    ]);
  });

  it('every column a policy filters by has an index', async () => {
    // The columns our policies compare against helper sets; each must lead some index.
    const filtered: Array<[string, string]> = [
      ['organizations', 'id'],
      ['organization_members', 'organization_id'],
      ['organization_members', 'user_id'],
      ['projects', 'id'],
      ['projects', 'organization_id'],
      ['project_members', 'project_id'],
      ['project_members', 'organization_id'],
      ['invitations', 'organization_id'],
      ['profiles', 'id'],
      ['audit_log', 'organization_id'],
      ['api_keys', 'project_id'],
      ['api_keys', 'organization_id'],
    ];
    const indexed = await env.db.query<{ tbl: string; col: string }>(
      `select t.relname as tbl, a.attname as col
       from pg_index i
       join pg_class t on t.oid = i.indrelid
       join pg_namespace n on n.oid = t.relnamespace and n.nspname = 'public'
       join pg_attribute a on a.attrelid = t.oid and a.attnum = i.indkey[0]`,
    );
    const missing = filtered.filter(([tbl, col]) => !indexed.some((r) => r.tbl === tbl && r.col === col));
    expect(missing).toEqual([]);
  });
});
