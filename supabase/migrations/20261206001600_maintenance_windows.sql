-- Maintenance windows (issue 20 item 6): while a window of a service is on, its incidents are held:
-- new ones open held (recorded, nobody paged), running ones stop paging (their ack expiries
-- freeze); when it ends, a triggered incident starts a new cycle from level 1. The incident core
-- decides (incidents.ts, 'maintenance'); the escalate-incidents job applies windows starting and
-- ending (src/oncall/maintenance.ts). See docs/incidents.md.
--
-- Invariants:
-- 1. Windows are written only by the API (owners and admins, validated: ends after it starts and
--    after now); users hold no write grant. Ending one early sets its end to now; a future one is
--    removed. Every change is audited.
-- 2. An incident is held exactly when a window of its service is on (within a pass of the job).

create table public.maintenance_windows (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  project_id uuid not null,
  service_id uuid not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  reason text check (char_length(reason) <= 500),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  check (ends_at > starts_at),
  foreign key (service_id, organization_id) references public.oncall_services (id, organization_id) on delete cascade
);
alter table public.maintenance_windows enable row level security;
create index maintenance_windows_service_idx on public.maintenance_windows (service_id, ends_at);
create index maintenance_windows_organization_id_idx on public.maintenance_windows (organization_id);
create index maintenance_windows_project_id_idx on public.maintenance_windows (project_id);
comment on table public.maintenance_windows is 'When a service''s incidents page nobody: held while a window is on.';

create trigger maintenance_windows_audit after insert or update or delete on public.maintenance_windows
  for each row execute function private.oncall_audit('maintenance_window');

revoke all on public.maintenance_windows from anon, authenticated;
grant select on public.maintenance_windows to authenticated;
grant select, insert, update, delete on public.maintenance_windows to service_role;

create policy "Members can read maintenance windows of projects they may see" on public.maintenance_windows
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages maintenance windows" on public.maintenance_windows
  for all to service_role using (true) with check (true);

-- The job's scan: open incidents whose hold no longer matches their service's windows.
create index incidents_open_service_idx on public.incidents (service_id) where state <> 'resolved';
