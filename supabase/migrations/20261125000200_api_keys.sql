-- API keys: how SDKs, OpenTelemetry exporters and scripts authenticate to one project.
-- The secret is shown once at creation; only its sha256 is stored, and no user role may read it.
-- Keys are found by their public prefix, then the hash is compared in constant time.

-- ============================================================================ tables
create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  project_id uuid not null,
  name text not null check (char_length(name) between 1 and 200),
  -- The public part of the key (`oai_<prefix>_<secret>`), unique, used to look a key up.
  prefix text not null unique check (prefix ~ '^[a-zA-Z0-9]{12}$'),
  secret_hash text not null check (secret_hash ~ '^[0-9a-f]{64}$'),
  scopes text[] not null check (cardinality(scopes) > 0 and scopes <@ array['ingest', 'read', 'admin']),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  created_by uuid references auth.users (id) on delete set null,
  -- Set on the key a rotation created; the old key keeps working until its expires_at (the grace period).
  rotated_from uuid references public.api_keys (id) on delete set null,
  created_at timestamptz not null default now(),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.api_keys enable row level security;
create index api_keys_project_id_idx on public.api_keys (project_id);
create index api_keys_organization_id_idx on public.api_keys (organization_id);
create index api_keys_rotated_from_idx on public.api_keys (rotated_from);
comment on table public.api_keys is 'Project API keys (ingest / read / admin scopes); the secret is stored only as a sha256 hash.';

-- ============================================================================ triggers
create function private.api_keys_protect_immutable() returns trigger
language plpgsql set search_path = ''
as $$
begin
  if new.organization_id <> old.organization_id or new.project_id <> old.project_id or new.prefix <> old.prefix
     or new.secret_hash <> old.secret_hash or new.scopes <> old.scopes or new.created_at <> old.created_at
     or new.created_by is distinct from old.created_by or new.rotated_from is distinct from old.rotated_from then
    raise exception 'Only the name, expiry, revocation and last use of an API key can change' using errcode = 'OA400';
  end if;
  if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
    raise exception 'A revoked API key stays revoked' using errcode = 'OA409';
  end if;
  return new;
end
$$;
create trigger api_keys_protect_immutable before update on public.api_keys
  for each row execute function private.api_keys_protect_immutable();

create function private.api_keys_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.audit(new.organization_id,
      case when new.rotated_from is null then 'api_key.created' else 'api_key.rotated' end,
      'api_key', new.id::text,
      jsonb_build_object('name', new.name, 'prefix', new.prefix, 'project_id', new.project_id, 'scopes', new.scopes,
                         'expires_at', new.expires_at, 'rotated_from', new.rotated_from));
  elsif new.revoked_at is not null and old.revoked_at is null then
    perform private.audit(new.organization_id, 'api_key.revoked', 'api_key', new.id::text,
      jsonb_build_object('name', new.name, 'prefix', new.prefix));
  elsif new.expires_at is distinct from old.expires_at then
    perform private.audit(new.organization_id, 'api_key.expiry_changed', 'api_key', new.id::text,
      jsonb_build_object('prefix', new.prefix, 'from', old.expires_at, 'to', new.expires_at));
  end if;
  return null;
end
$$;
-- Only the columns that matter: last_used_at changes often and is not a sensitive change.
create trigger api_keys_audit_insert after insert on public.api_keys
  for each row execute function private.api_keys_audit();
create trigger api_keys_audit_update after update of revoked_at, expires_at on public.api_keys
  for each row execute function private.api_keys_audit();

-- ============================================================================ grants
revoke all on public.api_keys from anon, authenticated;
-- Every column but secret_hash is readable; the hash never leaves the database for a user.
grant select (id, organization_id, project_id, name, prefix, scopes, expires_at, revoked_at, last_used_at, created_by,
  rotated_from, created_at) on public.api_keys to authenticated;
grant insert (organization_id, project_id, name, prefix, secret_hash, scopes, expires_at, created_by, rotated_from)
  on public.api_keys to authenticated;
grant update (name, expires_at, revoked_at) on public.api_keys to authenticated;
grant delete on public.api_keys to authenticated;
grant select, insert, update, delete on public.api_keys to service_role;

-- ============================================================================ policies
create policy "Members can read key metadata of projects they may see" on public.api_keys
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners, admins and admin-scoped keys can create keys" on public.api_keys
  for insert to authenticated with check (
    organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
    or project_id in (select private.key_project_ids('admin'))
  );
create policy "Owners, admins and admin-scoped keys can revoke and change keys" on public.api_keys
  for update to authenticated
  using (
    organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
    or project_id in (select private.key_project_ids('admin'))
  )
  with check (
    organization_id in (select private.org_ids_with_role(array['owner', 'admin']))
    or project_id in (select private.key_project_ids('admin'))
  );
create policy "Owners and admins can delete keys" on public.api_keys
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
