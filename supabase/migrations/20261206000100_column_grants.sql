-- Hardening: what each user may change is decided per column, not only per row.
--
-- A policy on a row is not a policy on its columns. The tenancy tables granted whole-table INSERT and
-- UPDATE to `authenticated`, so their row policies were the only guard, and they could not tell a
-- revocation from a rewrite: through the Data API an admin could turn a pending invitation's role
-- into `owner`, accept it with a second account and demote the real owner, or clear `accepted_at` and
-- extend `expires_at` so a used token worked again, with no audit row for any of it. Here every
-- user-writable column is granted by name (the rest are the server's), and triggers keep the facts
-- that no role may rewrite (an invitation's terms, who created a key, which key a rotation replaced).
--
-- Invariants:
--   - authenticated may INSERT and UPDATE only the columns granted below; tests/integration/
--     column-grants.test.ts compares every table's grants with its list, so a new whole-table grant
--     fails CI;
--   - an invitation's terms (organization, email, role, projects, token, inviter, expiry) never change
--     after it is created, for any role; accepted_at and revoked_at are set once and never again;
--   - api_keys.created_by is the inserting user (auth.uid()), never a value the caller chose;
--     rotated_from names a key of the same project or the insert fails, with one message whether the
--     key is elsewhere or nowhere (no tenant learns another's key ids through a foreign-key error);
--   - a user may lower a project's ingest limits and raise them back up to the default ceiling (or to
--     what the operator had granted); above it only the service role (the operator, later billing)
--     sets them, so the limits protect the shared backend.

-- ============================================================================ grants
revoke insert, update on public.organizations, public.organization_members, public.projects, public.project_members,
  public.invitations from authenticated;
-- Organizations are created by public.create_organization(); the slug names the organization in URLs
-- and does not change. Billing columns are also guarded by organizations_protect_billing.
grant update (name, billing_email, plan) on public.organizations to authenticated;
grant insert (organization_id, user_id, role), update (role) on public.organization_members to authenticated;
grant insert (organization_id, name, slug), update (name) on public.projects to authenticated;
grant insert (project_id, organization_id, user_id) on public.project_members to authenticated;
-- Inviting names the terms; revoking is the only change a user makes afterwards. Accepting is
-- public.accept_invitation() (security definer).
grant insert (organization_id, email, role, project_ids, token_hash, expires_at), update (revoked_at)
  on public.invitations to authenticated;
alter table public.invitations alter column invited_by set default auth.uid();

revoke insert on public.api_keys from authenticated;
grant insert (organization_id, project_id, name, prefix, secret_hash, scopes, expires_at, rotated_from)
  on public.api_keys to authenticated;
alter table public.api_keys alter column created_by set default auth.uid();

-- ============================================================================ triggers
create function private.invitations_protect_terms() returns trigger
language plpgsql set search_path = ''
as $$
begin
  if new.id <> old.id or new.organization_id <> old.organization_id or new.email <> old.email or new.role <> old.role
     or new.project_ids <> old.project_ids or new.token_hash <> old.token_hash or new.expires_at <> old.expires_at
     or new.created_at <> old.created_at
     -- A deleted user's id is set to null by the foreign keys; nothing else changes these.
     or (new.invited_by is distinct from old.invited_by and new.invited_by is not null)
     or (new.accepted_by is distinct from old.accepted_by and new.accepted_by is not null and old.accepted_by is not null) then
    raise exception 'An invitation''s terms cannot change; revoke it and invite again' using errcode = 'OA400';
  end if;
  if old.accepted_at is not null and new.accepted_at is distinct from old.accepted_at then
    raise exception 'An accepted invitation stays accepted' using errcode = 'OA409';
  end if;
  if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
    raise exception 'A revoked invitation stays revoked' using errcode = 'OA409';
  end if;
  return new;
end
$$;
comment on function private.invitations_protect_terms() is 'Keeps an invitation''s terms immutable and its acceptance and revocation one-way, for every role.';
create trigger invitations_protect_terms before update on public.invitations
  for each row execute function private.invitations_protect_terms();

create function private.api_keys_check_rotation() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.rotated_from is not null
     and not exists (select 1 from public.api_keys k where k.id = new.rotated_from and k.project_id = new.project_id) then
    raise exception 'rotated_from must name a key of the same project' using errcode = 'OA400';
  end if;
  return new;
end
$$;
comment on function private.api_keys_check_rotation() is 'A rotation names a key of its own project; checked before the foreign key, so the answer is the same for another tenant''s key and for none.';
create trigger api_keys_check_rotation before insert on public.api_keys
  for each row execute function private.api_keys_check_rotation();

-- The ceilings a user may set without the operator. They equal the defaults in
-- src/ingest/settings.ts (DEFAULT_INGEST_SETTINGS) and the column defaults of project_ingest_settings.
create function private.project_ingest_settings_within_ceiling() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  raised text;
begin
  if not private.is_end_user() then
    return new;
  end if;
  raised := case
    when new.max_series > greatest(10000, case when tg_op = 'UPDATE' then old.max_series else 0 end)
      then format('max_series %s is above the ceiling of 10000', new.max_series)
    when new.requests_per_minute > greatest(6000, case when tg_op = 'UPDATE' then old.requests_per_minute else 0 end)
      then format('requests_per_minute %s is above the ceiling of 6000', new.requests_per_minute)
    when new.events_per_minute > greatest(6000000, case when tg_op = 'UPDATE' then old.events_per_minute else 0 end)
      then format('events_per_minute %s is above the ceiling of 6000000', new.events_per_minute)
  end;
  if raised is not null then
    raise exception '%; only the operator can raise a limit above it', raised using errcode = 'OA403';
  end if;
  return new;
end
$$;
comment on function private.project_ingest_settings_within_ceiling() is 'Users may lower ingest limits and raise them back to the default ceiling (or to what the operator granted); only the service role goes above.';
create trigger project_ingest_settings_within_ceiling before insert or update on public.project_ingest_settings
  for each row execute function private.project_ingest_settings_within_ceiling();

-- ============================================================================ helper functions
-- Linter (function_search_path_mutable): the two sketch helpers now pin their search_path too. They
-- run once per rollup or totals row written (generated columns), where the clause costs about a
-- microsecond a row; they are never evaluated by queries.
alter function private.sketch_text(bigint[]) set search_path = '';
alter function private.sketch_quantiles(bigint[]) set search_path = '';
