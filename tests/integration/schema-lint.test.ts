/**
 * The security properties Supabase's database linter (the Security Advisor) checks, asserted on the
 * migrated schema in our own catalog queries (migration ..20261206000400_linter.sql lists what the
 * linter found and the intended exceptions). A new function, table, view or grant that would bring a
 * linter error or security warning back fails here first:
 *   - every function of our schemas pins its search_path (function_search_path_mutable), and a
 *     security-definer one pins it to '' so no name it uses can be shadowed by an object of the caller's;
 *   - anon can execute no security-definer function, and authenticated exactly the allow-list below
 *     (anon_ / authenticated_security_definer_function_executable);
 *   - every table of our schemas has row-level security (rls_disabled_in_public), views API roles may
 *     read in public run as the caller (security_definer_view, materialized_view_in_api), and anon
 *     may use no table, view or column at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/types.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';

/** Schemas our migrations create objects in (auth and vault are the bootstrap's stand-ins for Supabase's). */
const OUR_SCHEMAS = ['public', 'private', 'partitions'];
/** Schemas the Data API exposes (supabase/config.toml [api] schemas). */
const EXPOSED = ['public', 'graphql_public'];

/**
 * Security-definer functions signed-in users may call, each on purpose (see the exceptions in
 * 20261206000400_linter.sql): the two RPCs our orgs function calls for any user (in private since
 * 20261206000600, out of the Data API), and the RLS helpers policies call with the caller's
 * privileges. None is in a schema the Data API exposes. Adding one here is a security decision:
 * document it in its migration.
 */
const AUTHENTICATED_DEFINERS = [
  'private.accept_invitation(token text)',
  'private.colleague_ids()',
  'private.create_organization(name text, slug text)',
  'private.member_org_ids()',
  'private.org_ids_with_role(roles text[])',
  'private.readable_project_ids()',
  'private.writable_project_ids()',
];

/** Functions of user schemas (not the catalogs), without those an extension owns (pg_cron's, in CI). */
const USER_FUNCTIONS = `
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
    and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')`;
const SIGNATURE = `format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid))`;

/** The `name` column of a query, in byte order (as JavaScript sorts), whatever the database's collation. */
const names = async (q: Queryable, sql: string, params: unknown[] = []) =>
  (await q.query<{ name: string }>(`select name from (${sql}) found order by name collate "C"`, params)).map((r) => r.name);

/** Functions of our schemas that resolve names through the caller's search_path. */
const mutableSearchPath = (q: Queryable) =>
  names(
    q,
    `select ${SIGNATURE} as name ${USER_FUNCTIONS} and n.nspname = any($1)
       and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')`,
    [OUR_SCHEMAS],
  );

/** Security-definer functions of our schemas whose search_path is anything but empty. */
const definersNotPinnedEmpty = (q: Queryable) =>
  names(
    q,
    `select ${SIGNATURE} as name ${USER_FUNCTIONS} and n.nspname = any($1) and p.prosecdef
       and not coalesce(p.proconfig, '{}') @> array['search_path=""']`,
    [OUR_SCHEMAS],
  );

/** Security-definer functions, in any user schema, that a role may execute (directly or through PUBLIC). */
const definersExecutableBy = (q: Queryable, role: string) =>
  names(
    q,
    `select ${SIGNATURE} as name ${USER_FUNCTIONS} and p.prosecdef and pg_catalog.has_function_privilege($1, p.oid, 'EXECUTE')`,
    [role],
  );

/** Tables (plain and partitioned, partitions included) of our schemas without row-level security. */
const tablesWithoutRls = (q: Queryable) =>
  names(
    q,
    `select format('%I.%I', n.nspname, c.relname) as name
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1) and c.relkind in ('r', 'p') and not c.relrowsecurity`,
    [OUR_SCHEMAS],
  );

/**
 * Views and materialized views of the exposed schemas that anon or authenticated may read and that
 * do not run as the caller (a materialized view never does: it has no RLS).
 */
const exposedViewsBypassingRls = (q: Queryable) =>
  names(
    q,
    `select format('%I.%I', n.nspname, c.relname) as name
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1) and c.relkind in ('v', 'm')
       and (pg_catalog.has_table_privilege('anon', c.oid, 'SELECT') or pg_catalog.has_table_privilege('authenticated', c.oid, 'SELECT'))
       and (c.relkind = 'm' or not coalesce(c.reloptions, '{}') && array['security_invoker=true', 'security_invoker=on', 'security_invoker=1', 'security_invoker=yes'])`,
    [EXPOSED],
  );

/** Tables and views of our schemas on which anon holds any privilege, on the whole or on a column. */
const relationsAnonMayUse = (q: Queryable) =>
  names(
    q,
    `select format('%I.%I', n.nspname, c.relname) as name
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1) and c.relkind in ('r', 'p', 'v', 'm', 'f')
       and (pg_catalog.has_table_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
            or pg_catalog.has_any_column_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))`,
    [OUR_SCHEMAS],
  );

describe('schema lint', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => env?.close());

  it('every function of our schemas pins its search_path, security-definer ones to empty', async () => {
    expect(await mutableSearchPath(env.db)).toEqual([]);
    expect(await definersNotPinnedEmpty(env.db)).toEqual([]);
  });

  it('anon can execute no security-definer function', async () => {
    expect(await definersExecutableBy(env.db, 'anon')).toEqual([]);
  });

  it('authenticated can execute exactly the allowed security-definer functions, none in a schema the Data API exposes', async () => {
    const definers = await definersExecutableBy(env.db, 'authenticated');
    expect(definers).toEqual(AUTHENTICATED_DEFINERS);
    // Supabase's linter (0029, authenticated_security_definer_function_executable) warns on these.
    expect(definers.filter((d) => EXPOSED.some((schema) => d.startsWith(`${schema}.`)))).toEqual([]);
  });

  it('every table of our schemas has RLS, exposed views run as the caller, and anon may use no relation', async () => {
    expect(await tablesWithoutRls(env.db)).toEqual([]);
    expect(await exposedViewsBypassingRls(env.db)).toEqual([]);
    expect(await relationsAnonMayUse(env.db)).toEqual([]);
  });

  it('catches each kind of regression', async () => {
    // What a careless migration would add; rolled back, so the checks above stay about the real schema.
    const found = await env.db
      .transaction(async (tx) => {
        await tx.exec(`
          create function public.lint_probe_definer() returns int language sql security definer as 'select 1';
          create function private.lint_probe_path() returns int language sql as 'select 1';
          create function private.lint_probe_definer_path() returns int language sql security definer set search_path = public as 'select 1';
          create table public.lint_probe_table (id int);
          grant select on public.lint_probe_table to anon;
          create view public.lint_probe_view as select 1 as x;
          grant select on public.lint_probe_view to authenticated;
          create table private.lint_probe_column (id int);
          alter table private.lint_probe_column enable row level security;
          grant select (id) on private.lint_probe_column to anon;
        `);
        const result = {
          mutable: await mutableSearchPath(tx),
          notEmpty: await definersNotPinnedEmpty(tx),
          anon: await definersExecutableBy(tx, 'anon'),
          authenticated: await definersExecutableBy(tx, 'authenticated'),
          noRls: await tablesWithoutRls(tx),
          views: await exposedViewsBypassingRls(tx),
          anonRelations: await relationsAnonMayUse(tx),
        };
        throw Object.assign(new Error('rollback'), { result });
      })
      .catch((e: Error & { result?: unknown }) => e.result);
    expect(found).toEqual({
      mutable: ['private.lint_probe_path()', 'public.lint_probe_definer()'],
      notEmpty: ['private.lint_probe_definer_path()', 'public.lint_probe_definer()'],
      // New functions are executable by PUBLIC until a migration revokes it.
      anon: ['private.lint_probe_definer_path()', 'public.lint_probe_definer()'],
      authenticated: [...AUTHENTICATED_DEFINERS, 'private.lint_probe_definer_path()', 'public.lint_probe_definer()'].sort(),
      noRls: ['public.lint_probe_table'],
      views: ['public.lint_probe_view'],
      anonRelations: ['private.lint_probe_column', 'public.lint_probe_table'],
    });
  });
});
