-- Database linter: what Supabase's Security Advisor (the splinter lints) reports on this schema, fixed or
-- documented, so that it shows 0 errors and 0 security warnings beyond the exceptions named below.
--
-- Every lint was run against a database holding the bootstrap and every migration before this one,
-- applied with `supabase db push`, with the Data API exposing `public` and `graphql_public` (as in
-- supabase/config.toml). It found no ERROR (no table without RLS, no security-definer view, no
-- auth.users exposure, nothing readable by anon) and no mutable search_path (the sketch helpers
-- pinned theirs in 20261206000100_column_grants.sql). The security warnings were:
--   - anon_security_definer_function_executable (0028) and authenticated_security_definer_function_executable
--     (0029), in the revision of those lints that checks every schema, on five trigger functions in
--     `private`: fixed below;
--   - authenticated_security_definer_function_executable (0029) on public.create_organization and
--     public.accept_invitation, and (revision that checks every schema) on the five RLS helpers in
--     `private`: intended, documented below.
--
-- Invariants (tests/integration/schema-lint.test.ts checks them against pg_catalog in both modes):
--   - every function in public, private and partitions pins its search_path, security definer ones to '';
--   - anon can execute no security-definer function; authenticated can execute exactly the seven
--     named in the exceptions below;
--   - every table in public, private and partitions has row-level security, and views that API roles
--     may read in public are security_invoker.

-- ============================================================================ grants
-- Lints 0028 and 0029 (security-definer function executable by anon / authenticated). A new function
-- is executable by PUBLIC, which anon and authenticated belong to. 20261125000100_tenancy.sql revoked
-- that from the functions of `private` that existed then, but the trigger functions added since
-- (api_keys_audit, api_keys_check_rotation, log_retention_settings_audit,
-- project_ingest_settings_audit, project_ingest_settings_within_ceiling, and the two security-invoker
-- ones api_keys_protect_immutable and invitations_protect_terms) kept it. Called directly a trigger
-- function only fails ("trigger functions can only be called as triggers"), so nothing leaked, but
-- nobody needs the grant either: PostgreSQL checks EXECUTE on a trigger function when the trigger is
-- created (by the owner running migrations), never when it fires. Revoked from every trigger function
-- of our schemas, whichever earlier migration made it.
do $$
declare
  fn regprocedure;
begin
  for fn in
    select p.oid::regprocedure
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('public', 'private', 'partitions')
      and p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype
  loop
    execute format('revoke all on function %s from public, anon, authenticated, service_role', fn);
  end loop;
end
$$;

-- ============================================================================ exceptions
-- Lint 0029 (authenticated_security_definer_function_executable), intended: public.create_organization
-- and public.accept_invitation. Any signed-in user must be able to create an organization and to accept
-- an invitation sent to their address, through our API (src/orgs/) and through the Data API
-- (`supabase.rpc(...)`, docs/API.md), so EXECUTE stays granted to authenticated and they stay in the
-- exposed schema. They stay security definer because each does what no row policy may grant a user:
--   - create_organization inserts an organization and the caller's owner membership together. As
--     security invoker, users would need to insert organizations directly (authenticated has no INSERT
--     on organizations) and a policy letting them make themselves owner of an organization without
--     members, which any user could then use to claim an organization someone else is creating;
--   - accept_invitation finds the invitation by the sha256 of a token only the invitee holds, for the
--     email of the caller's own auth.users row, then adds the membership with the invitation's role
--     and projects and marks it accepted. Invitees may not read invitations (owners and admins only:
--     the table holds the other pending invitations' addresses and roles), may not choose their role,
--     and may not write accepted_at (set once, by this function).
-- Both refuse a caller without auth.uid() first, use an empty search_path, and anon has no EXECUTE on
-- either (revoked in 20261125000100_tenancy.sql).
--
-- Lint 0029 in its revision that checks every schema (another checks only the schemas the Data API
-- exposes), intended: private.member_org_ids, private.org_ids_with_role, private.readable_project_ids,
-- private.writable_project_ids and private.colleague_ids. RLS policies call them with the caller's
-- privileges, so authenticated must be able to execute them; they are security definer because they
-- read organization_members and project_members, whose own policies call them (as invoker they would
-- recurse). They return only ids the caller is entitled to (their own memberships), and `private` is
-- not exposed by the Data API.
--
-- Not security warnings, and left as they are: rls_enabled_no_policy (0008, INFO) on the daily
-- partitions (reached only through their parent's policies; no grants to API roles) and on
-- private.instance_state and private.server_secrets (read by the server's own role only); the
-- performance INFO lints (unindexed foreign keys, unused indexes on a fresh database, no primary key
-- on the daily partitions and on metric_group_totals).
--
-- Hosted projects only: with the pg_graphql extension enabled (the default on Supabase; absent from
-- plain Postgres and PGlite), pg_graphql_authenticated_table_exposed (0027) lists every table and view
-- that authenticated may read, because GraphQL introspection then shows their names and columns to
-- signed-in users. Those grants are how supabase-js reads under RLS (docs/API.md), rows stay filtered by
-- the policies, and the schema is public in this repository; nothing here uses GraphQL, so a project
-- that wants the warning gone disables pg_graphql (Database > Extensions). anon reads no table, so the
-- anon variant (0026) stays empty.
