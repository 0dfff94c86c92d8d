-- Tenancy: organizations, members and roles, projects and who is assigned to them, invitations,
-- user profiles, and the append-only audit log. Every table has row-level security; policies call
-- helpers in the `private` schema (security definer, empty search_path) so they never recurse
-- into the policies of the tables they read.

-- ============================================================================ types
create schema if not exists private;
comment on schema private is 'Helpers for RLS policies and triggers; not exposed through the Data API.';
grant usage on schema private to authenticated, service_role;

-- ============================================================================ tables
create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  billing_email text check (billing_email is null or billing_email ~ '^[^@\s]+@[^@\s]+$'),
  plan text not null default 'free' check (plan in ('free', 'team', 'enterprise')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.organizations enable row level security;
comment on table public.organizations is 'A tenant. Everything else belongs to exactly one organization.';

create table public.organization_members (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member', 'viewer')),
  created_at timestamptz not null default now(),
  primary key (organization_id, user_id)
);
alter table public.organization_members enable row level security;
create index organization_members_user_id_idx on public.organization_members (user_id);
comment on table public.organization_members is 'Who belongs to an organization, with one role: owner, admin, member or viewer.';

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 200),
  slug text not null check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, slug),
  -- Lets children reference (project, organization) together, so a child can never point at a
  -- project of another organization than its own.
  unique (id, organization_id)
);
alter table public.projects enable row level security;
create index projects_organization_id_idx on public.projects (organization_id);
comment on table public.projects is 'A project receives telemetry through its API keys; members with the member role see only projects they are assigned to.';

create table public.project_members (
  project_id uuid not null,
  organization_id uuid not null,
  user_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (project_id, user_id),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade,
  -- Leaving the organization removes the assignments.
  foreign key (organization_id, user_id) references public.organization_members (organization_id, user_id) on delete cascade
);
alter table public.project_members enable row level security;
create index project_members_user_id_idx on public.project_members (user_id);
create index project_members_organization_id_idx on public.project_members (organization_id, user_id);
comment on table public.project_members is 'Assignment of an organization member to a project; what gives the member role access.';

create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  email text not null check (email ~ '^[^@\s]+@[^@\s]+$'),
  role text not null check (role in ('owner', 'admin', 'member', 'viewer')),
  project_ids uuid[] not null default '{}',
  -- sha256 of the token; the token itself is shown once to the inviter.
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  invited_by uuid references auth.users (id) on delete set null,
  expires_at timestamptz not null,
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
alter table public.invitations enable row level security;
create index invitations_organization_id_idx on public.invitations (organization_id);
comment on table public.invitations is 'A pending offer to join an organization with a role; accepted through public.accept_invitation(token).';

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  display_name text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.profiles enable row level security;
comment on table public.profiles is 'Public mirror of auth.users (which the Data API does not expose), kept in sync by a trigger.';

create table public.audit_log (
  id bigint generated always as identity primary key,
  -- Not a foreign key: the log outlives the organization (its deletion is itself logged).
  organization_id uuid not null,
  actor_id uuid,
  actor_type text not null check (actor_type in ('user', 'api_key', 'service', 'system')),
  action text not null,
  target_type text not null,
  target_id text,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
alter table public.audit_log enable row level security;
create index audit_log_organization_id_created_at_idx on public.audit_log (organization_id, created_at desc);
comment on table public.audit_log is 'Append-only record of sensitive changes, written by triggers in the same transaction as the change.';

-- ============================================================================ helper functions
create function private.member_org_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.organization_id from public.organization_members m where m.user_id = (select auth.uid())
$$;
comment on function private.member_org_ids() is 'Organizations the current user belongs to, in any role.';

create function private.org_ids_with_role(roles text[]) returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.organization_id from public.organization_members m
  where m.user_id = (select auth.uid()) and m.role = any (roles)
$$;
comment on function private.org_ids_with_role(text[]) is 'Organizations where the current user holds one of the given roles.';

create function private.key_project_ids(scope text) returns setof uuid
language sql stable set search_path = ''
as $$
  select (auth.jwt() -> 'observai_key' ->> 'project_id')::uuid
  where auth.role() = 'authenticated' and (auth.jwt() -> 'observai_key' -> 'scopes') ? scope
$$;
comment on function private.key_project_ids(text) is 'The project of the API key making the request, when the key holds the scope. Our server sets the observai_key claim only after verifying the key; Supabase Auth never issues it.';

create function private.readable_project_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select p.id
  from public.projects p
  join public.organization_members m on m.organization_id = p.organization_id and m.user_id = (select auth.uid())
  where m.role in ('owner', 'admin', 'viewer')
     or exists (select 1 from public.project_members pm where pm.project_id = p.id and pm.user_id = m.user_id)
  union all
  select private.key_project_ids('read')
  union all
  select private.key_project_ids('admin')
$$;
comment on function private.readable_project_ids() is 'Projects the current user may read: all of their organizations'' projects for owner, admin and viewer; assigned ones for member.';

create function private.writable_project_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select p.id
  from public.projects p
  join public.organization_members m on m.organization_id = p.organization_id and m.user_id = (select auth.uid())
  where m.role in ('owner', 'admin')
     or (m.role = 'member' and exists (select 1 from public.project_members pm where pm.project_id = p.id and pm.user_id = m.user_id))
  union all
  select private.key_project_ids('admin')
$$;
comment on function private.writable_project_ids() is 'Projects the current user may change data in: all for owner and admin, assigned ones for member, none for viewer.';

create function private.colleague_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select distinct other.user_id
  from public.organization_members mine
  join public.organization_members other on other.organization_id = mine.organization_id
  where mine.user_id = (select auth.uid())
$$;
comment on function private.colleague_ids() is 'Users who share an organization with the current user (whose profiles they may see).';

create function private.actor_type() returns text
language sql stable set search_path = ''
as $$
  select case
    when auth.role() = 'service_role' then 'service'
    when auth.uid() is not null then 'user'
    when auth.jwt() ? 'observai_key' then 'api_key'
    else 'system'
  end
$$;

create function private.audit(org uuid, action text, target_type text, target_id text, details jsonb default '{}')
returns void
language sql security definer set search_path = ''
as $$
  insert into public.audit_log (organization_id, actor_id, actor_type, action, target_type, target_id, details)
  values (org, coalesce(auth.uid(), (auth.jwt() -> 'observai_key' ->> 'id')::uuid), private.actor_type(), action, target_type, target_id,
          coalesce(details, '{}'::jsonb))
$$;
comment on function private.audit(uuid, text, text, text, jsonb) is 'The only writer of audit_log; called from triggers so the audit row commits with the change.';

create function private.is_end_user() returns boolean
language sql stable set search_path = ''
as $$
  select auth.role() in ('authenticated', 'anon')
$$;
comment on function private.is_end_user() is 'True when the statement runs for a user JWT (not the service role, a migration or a job).';

-- ============================================================================ triggers
create function private.touch_updated_at() returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create trigger organizations_touch_updated_at before update on public.organizations
  for each row execute function private.touch_updated_at();
create trigger projects_touch_updated_at before update on public.projects
  for each row execute function private.touch_updated_at();
create trigger profiles_touch_updated_at before update on public.profiles
  for each row execute function private.touch_updated_at();

create function private.organizations_protect_billing() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if (new.billing_email is distinct from old.billing_email or new.plan is distinct from old.plan)
     and private.is_end_user()
     and not exists (select 1 from private.org_ids_with_role(array['owner']) o where o = new.id) then
    raise exception 'Only owners can change billing settings' using errcode = 'OA403';
  end if;
  return new;
end
$$;
create trigger organizations_protect_billing before update on public.organizations
  for each row execute function private.organizations_protect_billing();

create function private.organization_members_keep_an_owner() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if old.role = 'owner' and (tg_op = 'DELETE' or new.role <> 'owner')
     -- When the organization itself is being deleted its members go with it.
     and exists (select 1 from public.organizations o where o.id = old.organization_id)
     and not exists (
       select 1 from public.organization_members m
       where m.organization_id = old.organization_id and m.role = 'owner' and m.user_id <> old.user_id
     ) then
    raise exception 'An organization must keep at least one owner' using errcode = 'OA409';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;
create trigger organization_members_keep_an_owner before update or delete on public.organization_members
  for each row execute function private.organization_members_keep_an_owner();

create function private.projects_protect_organization() returns trigger
language plpgsql set search_path = ''
as $$
begin
  if new.organization_id <> old.organization_id then
    raise exception 'A project cannot move to another organization' using errcode = 'OA400';
  end if;
  return new;
end
$$;
create trigger projects_protect_organization before update on public.projects
  for each row execute function private.projects_protect_organization();

create function private.audit_log_append_only() returns trigger
language plpgsql set search_path = ''
as $$
begin
  raise exception 'audit_log is append-only' using errcode = 'OA403';
end
$$;
create trigger audit_log_append_only before update or delete on public.audit_log
  for each row execute function private.audit_log_append_only();
create trigger audit_log_no_truncate before truncate on public.audit_log
  for each statement execute function private.audit_log_append_only();

-- Audit triggers: one per table, so every path (our API, supabase-js, SQL) leaves a record.
create function private.organizations_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.audit(new.id, 'organization.created', 'organization', new.id::text, jsonb_build_object('name', new.name, 'slug', new.slug));
  elsif tg_op = 'DELETE' then
    perform private.audit(old.id, 'organization.deleted', 'organization', old.id::text, jsonb_build_object('name', old.name, 'slug', old.slug));
  elsif new.billing_email is distinct from old.billing_email or new.plan is distinct from old.plan then
    perform private.audit(new.id, 'organization.billing_changed', 'organization', new.id::text,
      jsonb_build_object('plan', jsonb_build_array(old.plan, new.plan), 'billing_email_changed', new.billing_email is distinct from old.billing_email));
  end if;
  return null;
end
$$;
create trigger organizations_audit after insert or update or delete on public.organizations
  for each row execute function private.organizations_audit();

create function private.organization_members_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.audit(new.organization_id, 'member.added', 'user', new.user_id::text, jsonb_build_object('role', new.role));
  elsif tg_op = 'UPDATE' and new.role <> old.role then
    perform private.audit(new.organization_id, 'member.role_changed', 'user', new.user_id::text, jsonb_build_object('from', old.role, 'to', new.role));
  elsif tg_op = 'DELETE' and exists (select 1 from public.organizations o where o.id = old.organization_id) then
    perform private.audit(old.organization_id, 'member.removed', 'user', old.user_id::text, jsonb_build_object('role', old.role));
  end if;
  return null;
end
$$;
create trigger organization_members_audit after insert or update or delete on public.organization_members
  for each row execute function private.organization_members_audit();

create function private.projects_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.audit(new.organization_id, 'project.created', 'project', new.id::text, jsonb_build_object('name', new.name, 'slug', new.slug));
  elsif tg_op = 'DELETE' and exists (select 1 from public.organizations o where o.id = old.organization_id) then
    perform private.audit(old.organization_id, 'project.deleted', 'project', old.id::text, jsonb_build_object('name', old.name, 'slug', old.slug));
  end if;
  return null;
end
$$;
create trigger projects_audit after insert or delete on public.projects
  for each row execute function private.projects_audit();

create function private.project_members_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.audit(new.organization_id, 'project.member_assigned', 'project', new.project_id::text, jsonb_build_object('user_id', new.user_id));
  elsif exists (select 1 from public.projects p where p.id = old.project_id)
    and exists (select 1 from public.organization_members m where m.organization_id = old.organization_id and m.user_id = old.user_id) then
    perform private.audit(old.organization_id, 'project.member_unassigned', 'project', old.project_id::text, jsonb_build_object('user_id', old.user_id));
  end if;
  return null;
end
$$;
create trigger project_members_audit after insert or delete on public.project_members
  for each row execute function private.project_members_audit();

create function private.invitations_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.audit(new.organization_id, 'invitation.created', 'invitation', new.id::text, jsonb_build_object('email', new.email, 'role', new.role));
  elsif new.accepted_at is not null and old.accepted_at is null then
    perform private.audit(new.organization_id, 'invitation.accepted', 'invitation', new.id::text, jsonb_build_object('email', new.email, 'role', new.role));
  elsif new.revoked_at is not null and old.revoked_at is null then
    perform private.audit(new.organization_id, 'invitation.revoked', 'invitation', new.id::text, jsonb_build_object('email', new.email));
  end if;
  return null;
end
$$;
create trigger invitations_audit after insert or update on public.invitations
  for each row execute function private.invitations_audit();

-- Profiles mirror auth.users.
create function private.sync_profile() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.profiles (id, email, display_name)
  values (new.id, new.email, coalesce(new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'name'))
  on conflict (id) do update set email = excluded.email, display_name = excluded.display_name;
  return new;
end
$$;
create trigger on_auth_user_saved after insert or update of email, raw_user_meta_data on auth.users
  for each row execute function private.sync_profile();

-- ============================================================================ grants
revoke all on public.organizations, public.organization_members, public.projects, public.project_members,
  public.invitations, public.profiles, public.audit_log from anon, authenticated;
grant select, update, delete on public.organizations to authenticated;
grant select, insert, update, delete on public.organization_members to authenticated;
grant select, insert, update, delete on public.projects to authenticated;
grant select, insert, delete on public.project_members to authenticated;
grant select, insert, update, delete on public.invitations to authenticated;
grant select, update (display_name) on public.profiles to authenticated;
grant select on public.audit_log to authenticated;
grant select, insert, update, delete on public.organizations, public.organization_members, public.projects,
  public.project_members, public.invitations, public.profiles to service_role;
grant select, insert on public.audit_log to service_role;
revoke all on all functions in schema private from public;
grant execute on function private.member_org_ids(), private.org_ids_with_role(text[]), private.readable_project_ids(), private.key_project_ids(text),
  private.writable_project_ids(), private.colleague_ids() to authenticated, service_role;

-- ============================================================================ policies
create policy "Members can read their organizations" on public.organizations
  for select to authenticated using (id in (select private.member_org_ids()));
create policy "Owners and admins can update their organization" on public.organizations
  for update to authenticated
  using (id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners can delete their organization" on public.organizations
  for delete to authenticated using (id in (select private.org_ids_with_role(array['owner'])));

create policy "Members can read the members of their organizations" on public.organization_members
  for select to authenticated using (organization_id in (select private.member_org_ids()));
create policy "Owners add anyone and admins add non-owners" on public.organization_members
  for insert to authenticated with check (
    organization_id in (select private.org_ids_with_role(array['owner']))
    or (role <> 'owner' and organization_id in (select private.org_ids_with_role(array['admin'])))
  );
create policy "Owners change any role and admins change non-owner roles" on public.organization_members
  for update to authenticated
  using (
    organization_id in (select private.org_ids_with_role(array['owner']))
    or (role <> 'owner' and organization_id in (select private.org_ids_with_role(array['admin'])))
  )
  with check (
    organization_id in (select private.org_ids_with_role(array['owner']))
    or (role <> 'owner' and organization_id in (select private.org_ids_with_role(array['admin'])))
  );
create policy "Owners remove anyone, admins remove non-owners, anyone can leave" on public.organization_members
  for delete to authenticated using (
    organization_id in (select private.org_ids_with_role(array['owner']))
    or (role <> 'owner' and organization_id in (select private.org_ids_with_role(array['admin'])))
    or user_id = (select auth.uid())
  );

-- The organization clause comes first so that INSERT ... RETURNING sees a project it just created
-- (readable_project_ids() reads a snapshot taken before the new row existed).
create policy "Members can read the projects they may see" on public.projects
  for select to authenticated using (
    organization_id in (select private.org_ids_with_role(array['owner', 'admin', 'viewer']))
    or id in (select private.readable_project_ids())
  );
create policy "Owners and admins can create projects" on public.projects
  for insert to authenticated with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners, admins and assigned members can update projects" on public.projects
  for update to authenticated
  using (id in (select private.writable_project_ids()))
  with check (id in (select private.writable_project_ids()));
create policy "Owners and admins can delete projects" on public.projects
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));

create policy "Members can read assignments of projects they may see" on public.project_members
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners and admins can assign members" on public.project_members
  for insert to authenticated with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can unassign members" on public.project_members
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));

create policy "Owners and admins can read invitations" on public.invitations
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners invite anyone and admins invite non-owners" on public.invitations
  for insert to authenticated with check (
    organization_id in (select private.org_ids_with_role(array['owner']))
    or (role <> 'owner' and organization_id in (select private.org_ids_with_role(array['admin'])))
  );
create policy "Owners and admins can revoke invitations" on public.invitations
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can delete invitations" on public.invitations
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));

create policy "Users can read their own profile and their colleagues'" on public.profiles
  for select to authenticated using (id = (select auth.uid()) or id in (select private.colleague_ids()));
create policy "Users can update their own profile" on public.profiles
  for update to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));

create policy "Owners and admins can read their organization's audit log" on public.audit_log
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));

-- ============================================================================ RPC
create function public.create_organization(name text, slug text) returns public.organizations
language plpgsql security definer set search_path = ''
as $$
declare
  org public.organizations;
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception 'Sign in to create an organization' using errcode = 'OA403';
  end if;
  insert into public.organizations (name, slug) values (create_organization.name, create_organization.slug) returning * into org;
  insert into public.organization_members (organization_id, user_id, role) values (org.id, uid, 'owner');
  return org;
end
$$;
comment on function public.create_organization(text, text) is 'Creates an organization with the caller as its first owner (a user cannot insert an organization row directly).';

create function public.accept_invitation(token text) returns public.organization_members
language plpgsql security definer set search_path = ''
as $$
declare
  inv public.invitations;
  uid uuid := auth.uid();
  member public.organization_members;
begin
  if uid is null then
    raise exception 'Sign in to accept an invitation' using errcode = 'OA403';
  end if;
  select * into inv from public.invitations i
  where i.token_hash = encode(sha256(convert_to(accept_invitation.token, 'UTF8')), 'hex')
    and i.accepted_at is null and i.revoked_at is null and i.expires_at > now()
    and lower(i.email) = (select lower(u.email) from auth.users u where u.id = uid)
  for update;
  if not found then
    raise exception 'Invitation not found or expired' using errcode = 'OA404';
  end if;
  if exists (select 1 from public.organization_members m where m.organization_id = inv.organization_id and m.user_id = uid) then
    raise exception 'You are already a member of this organization' using errcode = 'OA409';
  end if;
  insert into public.organization_members (organization_id, user_id, role) values (inv.organization_id, uid, inv.role)
  returning * into member;
  insert into public.project_members (project_id, organization_id, user_id)
  select p.id, p.organization_id, uid from public.projects p
  where p.id = any (inv.project_ids) and p.organization_id = inv.organization_id;
  update public.invitations set accepted_at = now(), accepted_by = uid where id = inv.id;
  return member;
end
$$;
comment on function public.accept_invitation(text) is 'Joins the caller to the inviting organization when the token matches an open invitation for their email.';

revoke all on function public.create_organization(text, text), public.accept_invitation(text) from public, anon;
grant execute on function public.create_organization(text, text), public.accept_invitation(text) to authenticated;

-- ============================================================================ instance state
create table private.instance_state (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);
alter table private.instance_state enable row level security;
comment on table private.instance_state is 'Facts about this installation (e.g. that the demo tenant was seeded once); server-side only, no policies.';
