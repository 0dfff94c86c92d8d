-- Saved dashboards (issue 23 item 3): panels of metrics, logs and traces per project, private to
-- their creator or shared with the organization's members who may read the project, exported and
-- imported as JSON. The dashboards domain (src/dashboards/) validates the panels (zod) and serves
-- them at /metrics/dashboards.
--
-- Invariants:
-- - Readers of a project see its 'organization' dashboards; a 'private' one only its creator (owners
--   and admins included: private means private).
-- - Writers: the creator while they may change the project (owners, admins, members assigned to it),
--   and owners and admins of the organization on every dashboard they can see. Viewers never write;
--   API keys never write (created_by is the inserting user, and a key has none).
-- - Only the creator may make a dashboard private (an admin cannot hide a colleague's dashboard from
--   everyone but its creator, nor from themselves).
-- - version goes up by one at every update, whoever makes it (a trigger), so PUT with a stale version
--   is a 409; users cannot write it, nor created_by, the tenancy columns or the timestamps.
-- - The database bounds what any path may store (the Data API included): at most 50 panels and
--   512 KiB of panel text; the API refuses more than 256 KiB of panel JSON with a 400 naming the field.
-- - Creating, changing and deleting a dashboard is audited (dashboard.created/changed/deleted) with
--   its title, visibility, version and panel count, never the panels themselves.

-- ============================================================================ tables
create table public.dashboards (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  title text not null check (char_length(title) between 1 and 200),
  description text not null default '' check (char_length(description) <= 2000),
  -- Panels as src/dashboards/schemas.ts validates them (Panel): kind, title, grid position, query.
  panels jsonb not null default '[]'::jsonb
    check (jsonb_typeof(panels) = 'array' and jsonb_array_length(panels) <= 50 and octet_length(panels::text) <= 524288),
  -- Template variables (tag values a viewer picks) and the default time range and refresh.
  variables jsonb not null default '[]'::jsonb
    check (jsonb_typeof(variables) = 'array' and jsonb_array_length(variables) <= 20 and octet_length(variables::text) <= 65536),
  time_range jsonb not null default '{"from": "now-6h", "to": "now"}'::jsonb
    check (jsonb_typeof(time_range) = 'object' and octet_length(time_range::text) <= 1024),
  visibility text not null default 'organization' check (visibility in ('private', 'organization')),
  -- Optimistic concurrency: a replace names the version it read (dashboards_next_version).
  version integer not null default 1 check (version >= 1),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.dashboards enable row level security;
create index dashboards_project_id_idx on public.dashboards (project_id, title);
create index dashboards_organization_id_idx on public.dashboards (organization_id);
create index dashboards_created_by_idx on public.dashboards (created_by);
comment on table public.dashboards is 'Saved dashboards of a project: panels over its metrics, logs and traces, private to their creator or shared with the organization.';

-- ============================================================================ triggers
create trigger dashboards_touch_updated_at before update on public.dashboards
  for each row execute function private.touch_updated_at();

create function private.dashboards_next_version() returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.version := old.version + 1;
  return new;
end
$$;
comment on function private.dashboards_next_version() is 'Every update of a dashboard is a new version, whoever writes it: what PUT /metrics/dashboards/:id compares.';
create trigger dashboards_next_version before update on public.dashboards
  for each row execute function private.dashboards_next_version();

-- At most 500 dashboards per project, counted over every row (RLS would hide colleagues' private
-- ones from the inserting user), whichever path inserts; creations in one project are serialised
-- by the lock until their transaction ends, so the count holds.
create function private.dashboards_limit() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtextextended('dashboards:' || new.project_id::text, 0));
  if (select count(*) from public.dashboards d where d.project_id = new.project_id) >= 500 then
    raise exception 'A project has at most 500 dashboards' using errcode = 'OA400';
  end if;
  return new;
end
$$;
comment on function private.dashboards_limit() is 'Keeps a project to at most 500 dashboards (private ones included), whatever path inserts them.';
create trigger dashboards_limit before insert on public.dashboards
  for each row execute function private.dashboards_limit();

-- Who changed a shared view of the data is worth a line; the panels are not audit material (large,
-- and the audit log keeps forever), their count is.
create function private.dashboards_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  r public.dashboards;
begin
  if tg_op = 'DELETE' then r := old; else r := new; end if;
  perform private.audit(r.organization_id,
    'dashboard.' || case tg_op when 'INSERT' then 'created' when 'UPDATE' then 'changed' else 'deleted' end,
    'dashboard', r.id::text,
    jsonb_build_object('project_id', r.project_id, 'title', r.title, 'visibility', r.visibility, 'version', r.version,
                       'panels', jsonb_array_length(r.panels), 'created_by', r.created_by));
  return null;
end
$$;
comment on function private.dashboards_audit() is 'Audits dashboards created, changed and deleted (title, visibility, version, panel count), in the change''s transaction.';
create trigger dashboards_audit after insert or update or delete on public.dashboards
  for each row execute function private.dashboards_audit();

revoke all on function private.dashboards_next_version(), private.dashboards_limit(), private.dashboards_audit() from public;

-- ============================================================================ grants
revoke all on public.dashboards from anon, authenticated;
grant select on public.dashboards to authenticated;
grant insert (project_id, organization_id, title, description, panels, variables, time_range, visibility),
  update (title, description, panels, variables, time_range, visibility) on public.dashboards to authenticated;
grant delete on public.dashboards to authenticated;
grant select, insert, update, delete on public.dashboards to service_role;

-- ============================================================================ policies
create policy "Members can read shared dashboards of projects they may see, and their own" on public.dashboards
  for select to authenticated
  using (project_id in (select private.readable_project_ids())
         and (visibility = 'organization' or created_by = (select auth.uid())));
create policy "Members who may change a project can add dashboards of their own" on public.dashboards
  for insert to authenticated
  with check (project_id in (select private.writable_project_ids()) and created_by = (select auth.uid()));
create policy "Creators, owners and admins can change dashboards they see" on public.dashboards
  for update to authenticated
  using ((visibility = 'organization' or created_by = (select auth.uid()))
         and ((created_by = (select auth.uid()) and project_id in (select private.writable_project_ids()))
              or organization_id in (select private.org_ids_with_role(array['owner', 'admin']))))
  with check ((visibility = 'organization' or created_by = (select auth.uid()))
              and ((created_by = (select auth.uid()) and project_id in (select private.writable_project_ids()))
                   or organization_id in (select private.org_ids_with_role(array['owner', 'admin']))));
create policy "Creators, owners and admins can remove dashboards they see" on public.dashboards
  for delete to authenticated
  using ((visibility = 'organization' or created_by = (select auth.uid()))
         and ((created_by = (select auth.uid()) and project_id in (select private.writable_project_ids()))
              or organization_id in (select private.org_ids_with_role(array['owner', 'admin']))));
create policy "Service role manages dashboards" on public.dashboards
  for all to service_role using (true) with check (true);
