-- What a Supabase project provides before any migration runs, recreated for plain Postgres and PGlite.
-- Never applied on Supabase (the platform owns these objects there). Idempotent: safe on every start.

-- Roles are cluster-wide: databases bootstrapped at the same moment (parallel test files) may race
-- to create them, so a duplicate is not an error.
do $$
declare
  r record;
begin
  for r in select * from (values ('anon', 'nologin noinherit'), ('authenticated', 'nologin noinherit'),
                                 ('service_role', 'nologin noinherit bypassrls')) as t(name, opts) loop
    if not exists (select 1 from pg_roles where rolname = r.name) then
      begin
        execute format('create role %I %s', r.name, r.opts);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
end
$$;

-- The connecting role must be able to `set role` to each of them, as Supabase's authenticator can.
do $$
begin
  execute format('grant anon, authenticated, service_role to %I', current_user);
exception when others then
  -- Superusers may already assume any role; a grant to oneself of a role one owns can fail harmlessly.
  null;
end
$$;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

-- The columns of Supabase's auth.users that this project reads.
create table if not exists auth.users (
  id uuid primary key default gen_random_uuid(),
  email text unique,
  raw_user_meta_data jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Columns Supabase's auth.users has that the local Auth stand-in (src/auth-standin) writes: the
-- password's scrypt hash (never the password) and the last sign-in. Added to tables created before.
alter table auth.users add column if not exists encrypted_password text;
alter table auth.users add column if not exists last_sign_in_at timestamptz;

-- The local Auth stand-in's sessions and refresh tokens (named as Supabase Auth's own tables, which
-- this script never touches on Supabase). A refresh token is stored as its SHA-256, never in plain
-- text; `parent` links each to the token it replaced, so the reuse of a revoked one ends the whole
-- session (every token of the family goes with it). Only the gateway's own role reads them: row-level
-- security on, no policy, nothing granted to anon, authenticated or service_role.
create table if not exists auth.sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);
alter table auth.sessions enable row level security;
revoke all on auth.sessions from public, anon, authenticated, service_role;

create table if not exists auth.refresh_tokens (
  id bigint generated always as identity primary key,
  token text not null unique check (token ~ '^[0-9a-f]{64}$'),
  user_id uuid not null references auth.users (id) on delete cascade,
  session_id uuid not null references auth.sessions (id) on delete cascade,
  parent text,
  revoked boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists refresh_tokens_session_id_idx on auth.refresh_tokens (session_id);
alter table auth.refresh_tokens enable row level security;
revoke all on auth.refresh_tokens from public, anon, authenticated, service_role;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select nullif(auth.jwt() ->> 'sub', '')::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select nullif(auth.jwt() ->> 'role', '')
$$;

grant execute on function auth.jwt(), auth.uid(), auth.role() to anon, authenticated, service_role;

-- Supabase grants these on the public schema; tables still need their own grants and policies.
grant usage on schema public to anon, authenticated, service_role;

-- Local stand-in for Supabase Vault, so private.invoke_job (the pg_cron -> cron-<job> call) finds
-- its two secrets the same way outside Supabase (self-hosted Postgres with pg_cron and pg_net, and
-- tests/e2e/pg-cron.test.ts). It keeps the names Supabase uses (vault.create_secret,
-- vault.decrypted_secrets) but NOT its encryption: secrets are stored as plain text, readable only by
-- the owner (no grant to anon, authenticated or service_role). On Supabase the real Vault is used.
create schema if not exists vault;
revoke all on schema vault from public;

create table if not exists vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text unique,
  description text not null default '',
  secret text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
revoke all on vault.secrets from public;

create or replace view vault.decrypted_secrets as
  select id, name, description, secret, secret as decrypted_secret, created_at, updated_at from vault.secrets;
revoke all on vault.decrypted_secrets from public;

-- Supabase's signature: vault.create_secret(new_secret, new_name, new_description, new_key_id).
create or replace function vault.create_secret(new_secret text, new_name text default null, new_description text default '',
                                               new_key_id uuid default null) returns uuid
language sql set search_path = ''
as $$
  insert into vault.secrets (secret, name, description) values (new_secret, new_name, coalesce(new_description, '')) returning id
$$;
revoke all on function vault.create_secret(text, text, text, uuid) from public;
