-- Incidents (issue 20, ADR 0011): services with a PagerDuty Events v2 routing key, escalation
-- policies, incidents and their timeline. The cores are src/oncall/ (incidents.ts, escalation.ts,
-- pagerduty-events.ts); the oncall function (src/oncall/http/routes.ts) applies them. See docs/incidents.md.
--
-- Invariants:
-- 1. One open incident per (service, group key): a partial unique index where state <> 'resolved'.
-- 2. Incident state changes only through the API (as the service role, after it authorized the
--    caller), in one transaction with its timeline rows, guarded by `version` (compare-and-set).
--    Users hold no write grant on incidents or the timeline.
-- 3. The timeline is append-only: a row is never changed.
-- 4. A service's Events v2 routing key is stored as its sha256 (hex) only; nobody reads it back.

create table public.escalation_policies (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 200),
  -- {levels, repeat, ackTimeoutMinutes}, validated by src/oncall/escalation.ts (EscalationPolicy) in the API.
  document jsonb not null check (jsonb_typeof(document) = 'object' and octet_length(document::text) <= 65536),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, name),
  unique (id, organization_id)
);
alter table public.escalation_policies enable row level security;
comment on table public.escalation_policies is 'Who is paged, in which order, how often: an organization''s escalation policies (snapshotted onto incidents).';

create table public.oncall_services (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  project_id uuid not null,
  name text not null check (char_length(name) between 1 and 200),
  escalation_policy_id uuid,
  -- 'severity': from the event's severity (critical, error: high; warning, info: low), as PagerDuty's setting.
  urgency text not null default 'high' check (urgency in ('high', 'low', 'severity')),
  -- A trigger within this long after a resolve reopens the incident; 0 (PagerDuty's semantics) never does.
  reopen_window_seconds integer not null default 0 check (reopen_window_seconds between 0 and 604800),
  -- sha256 (hex) of the 32-character Events v2 routing key, shown once when the service is created.
  integration_key_hash text not null unique check (integration_key_hash ~ '^[0-9a-f]{64}$'),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, name),
  unique (id, organization_id),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade,
  foreign key (escalation_policy_id, organization_id) references public.escalation_policies (id, organization_id)
    on delete set null (escalation_policy_id)
);
alter table public.oncall_services enable row level security;
create index oncall_services_organization_id_idx on public.oncall_services (organization_id);
create index oncall_services_escalation_policy_id_idx on public.oncall_services (escalation_policy_id);
comment on table public.oncall_services is 'What incidents open for: a project''s service, its escalation policy and its Events v2 routing key (hashed).';

create table public.incidents (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  project_id uuid not null,
  service_id uuid not null,
  -- Events v2: pagerduty/<service>/<dedup_key> (src/oncall/pagerduty-events.ts, pagerDutyGroupKey).
  group_key text not null check (char_length(group_key) between 1 and 2048),
  dedup_key text check (char_length(dedup_key) <= 255),
  title text not null check (char_length(title) between 1 and 1024),
  severity text check (severity in ('critical', 'error', 'warning', 'info')),
  -- The first event's source and details (Events v2 payload), as sent.
  details jsonb not null default '{}' check (jsonb_typeof(details) = 'object'),
  urgency text not null check (urgency in ('high', 'low')),
  state text not null default 'triggered' check (state in ('triggered', 'acknowledged', 'resolved')),
  -- +1 on every state change: the compare-and-set column (src/oncall/incidents.ts, isCurrent).
  version integer not null default 1,
  held boolean not null default false,
  -- The policy this incident escalates by, as it was when the incident opened; null: its service had none.
  escalation_policy_id uuid,
  policy jsonb,
  -- The escalation core's state (EscalationState).
  escalation jsonb not null,
  next_wake_at timestamptz,
  snoozed_until timestamptz,
  acknowledged_at timestamptz,
  -- A user id, or `service:<id>` for an Events v2 event.
  acknowledged_by text,
  resolved_at timestamptz,
  resolved_by text,
  merged_into uuid references public.incidents (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade,
  foreign key (service_id, organization_id) references public.oncall_services (id, organization_id) on delete cascade
);
alter table public.incidents enable row level security;
create unique index incidents_one_open_idx on public.incidents (service_id, md5(group_key)) where state <> 'resolved';
create index incidents_last_resolved_idx on public.incidents (service_id, md5(group_key), resolved_at desc) where state = 'resolved';
create index incidents_project_created_idx on public.incidents (project_id, created_at desc, id);
create index incidents_organization_id_idx on public.incidents (organization_id);
create index incidents_next_wake_idx on public.incidents (next_wake_at) where state <> 'resolved' and next_wake_at is not null;
create index incidents_merged_into_idx on public.incidents (merged_into);
comment on table public.incidents is 'Incidents: triggered, acknowledged, resolved; changed only through the API, guarded by version.';

create table public.incident_timeline (
  id bigint generated always as identity primary key,
  incident_id uuid not null references public.incidents (id) on delete cascade,
  organization_id uuid not null references public.organizations (id) on delete cascade,
  project_id uuid not null,
  at timestamptz not null,
  kind text not null check (kind ~ '^[a-z_]{1,40}$'),
  -- A user id, `service:<id>` for an Events v2 event, or null (the system).
  actor text,
  details jsonb not null default '{}' check (jsonb_typeof(details) = 'object'),
  created_at timestamptz not null default now()
);
alter table public.incident_timeline enable row level security;
create index incident_timeline_incident_idx on public.incident_timeline (incident_id, at, id);
create index incident_timeline_organization_id_idx on public.incident_timeline (organization_id);
create index incident_timeline_project_id_idx on public.incident_timeline (project_id);
comment on table public.incident_timeline is 'Everything that happened to an incident, one row per core timeline entry; append-only.';

create trigger escalation_policies_touch_updated_at before update on public.escalation_policies
  for each row execute function private.touch_updated_at();
create trigger oncall_services_touch_updated_at before update on public.oncall_services
  for each row execute function private.touch_updated_at();
create trigger incidents_touch_updated_at before update on public.incidents
  for each row execute function private.touch_updated_at();

-- The timeline is history: nobody rewrites it.
create function private.incident_timeline_append_only() returns trigger
language plpgsql set search_path = ''
as $$
begin
  raise exception 'incident timeline rows are never changed' using errcode = 'OA403';
end
$$;
create trigger incident_timeline_append_only before update on public.incident_timeline
  for each row execute function private.incident_timeline_append_only();

-- Audit: services and policies (never the routing key's hash).
create function private.oncall_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  r jsonb := to_jsonb(case when tg_op = 'DELETE' then old else new end);
  entity text := tg_argv[0];
  verb text := case tg_op when 'INSERT' then 'created' when 'UPDATE' then 'changed' else 'deleted' end;
begin
  r := r - 'integration_key_hash' - 'created_at' - 'updated_at';
  perform private.audit((r ->> 'organization_id')::uuid, entity || '.' || verb, entity, r ->> 'id', r);
  return null;
end
$$;
create trigger oncall_services_audit after insert or delete on public.oncall_services
  for each row execute function private.oncall_audit('oncall_service');
create trigger oncall_services_audit_update after update on public.oncall_services
  for each row when ((to_jsonb(old) - 'updated_at') is distinct from (to_jsonb(new) - 'updated_at'))
  execute function private.oncall_audit('oncall_service');
create trigger escalation_policies_audit after insert or delete on public.escalation_policies
  for each row execute function private.oncall_audit('escalation_policy');
create trigger escalation_policies_audit_update after update on public.escalation_policies
  for each row when ((to_jsonb(old) - 'updated_at') is distinct from (to_jsonb(new) - 'updated_at'))
  execute function private.oncall_audit('escalation_policy');

revoke all on function private.incident_timeline_append_only(), private.oncall_audit() from public;

-- ============================================================================ grants
revoke all on public.escalation_policies, public.oncall_services, public.incidents, public.incident_timeline from anon, authenticated;
grant select on public.escalation_policies to authenticated;
-- A policy's document is written only by the API (as the service role, after validating it against
-- escalation.ts and authorizing the caller): the escalation job trusts what incidents snapshot.
grant update (name) on public.escalation_policies to authenticated;
grant delete on public.escalation_policies to authenticated;
-- Never the routing key's hash: a user cannot read it back (the key is shown once).
grant select (id, organization_id, project_id, name, escalation_policy_id, urgency, reopen_window_seconds, created_by, created_at,
  updated_at) on public.oncall_services to authenticated;
grant update (name, escalation_policy_id, urgency, reopen_window_seconds) on public.oncall_services to authenticated;
grant delete on public.oncall_services to authenticated;
-- Incidents and their timeline: read only; every change is the API's (invariant 2).
grant select on public.incidents, public.incident_timeline to authenticated;
grant select, insert, update, delete on public.escalation_policies, public.oncall_services, public.incidents,
  public.incident_timeline to service_role;

-- ============================================================================ policies
create policy "Members can read escalation policies of their organizations" on public.escalation_policies
  for select to authenticated using (organization_id in (select private.member_org_ids()));
create policy "Owners and admins can change escalation policies" on public.escalation_policies
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can remove escalation policies" on public.escalation_policies
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages escalation policies" on public.escalation_policies
  for all to service_role using (true) with check (true);

create policy "Members can read services of projects they may see" on public.oncall_services
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners and admins can change services" on public.oncall_services
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can remove services" on public.oncall_services
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages services" on public.oncall_services
  for all to service_role using (true) with check (true);

create policy "Members can read incidents of projects they may see" on public.incidents
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages incidents" on public.incidents
  for all to service_role using (true) with check (true);

create policy "Members can read incident timelines of projects they may see" on public.incident_timeline
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages incident timelines" on public.incident_timeline
  for all to service_role using (true) with check (true);

-- ============================================================================ realtime
do $$
begin
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    alter publication supabase_realtime add table public.incidents, public.incident_timeline;
  end if;
end
$$;
