-- Metric definitions per organization: unit, type, description and the default aggregation that
-- dashboards and queries use. A metric registers itself with what ingest saw on its first series;
-- owners and admins edit the definition.

-- ============================================================================ tables
create table public.metric_definitions (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 200),
  type text not null check (type in ('gauge', 'counter', 'histogram')),
  unit text check (unit is null or char_length(unit) <= 50),
  description text check (description is null or char_length(description) <= 2000),
  default_aggregation text not null default 'avg'
    check (default_aggregation in ('avg', 'sum', 'min', 'max', 'count', 'p50', 'p90', 'p95', 'p99', 'rate')),
  -- True until someone edits it: registered automatically from ingested data.
  auto_registered boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, name)
);
alter table public.metric_definitions enable row level security;
comment on table public.metric_definitions is 'What a metric means in an organization: unit, type, description, default aggregation.';

-- ============================================================================ triggers
create trigger metric_definitions_touch_updated_at before update on public.metric_definitions
  for each row execute function private.touch_updated_at();

-- ============================================================================ grants
revoke all on public.metric_definitions from anon, authenticated;
grant select on public.metric_definitions to authenticated;
grant insert (organization_id, name, type, unit, description, default_aggregation, auto_registered),
      update (type, unit, description, default_aggregation, auto_registered) on public.metric_definitions to authenticated;
grant select, insert, update, delete on public.metric_definitions to service_role;

-- ============================================================================ policies
create policy "Members can read their organization's metric definitions" on public.metric_definitions
  for select to authenticated using (organization_id in (select private.member_org_ids()));
create policy "Owners and admins can define metrics" on public.metric_definitions
  for insert to authenticated with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can edit metric definitions" on public.metric_definitions
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
