-- Telemetry storage: metric series and points, histogram points, logs, spans, per-project ingest
-- settings, usage metering and series-limit rejections. Raw tables are partitioned by day (UTC) and
-- written in bulk by the ingest function running as the service role; users and read-scoped keys
-- read them under RLS. Partitions are created ahead by private.ensure_telemetry_partitions().

-- ============================================================================ types
-- Partitions live outside the exposed schema: the Data API never reaches them directly (only through
-- their parent, under its policies), and Supabase's default grants on public do not apply to them.
create schema if not exists partitions;
comment on schema partitions is 'Daily partitions of the raw telemetry tables; not exposed, no grants to API roles.';
revoke all on schema partitions from public, anon, authenticated;

-- ============================================================================ tables
create table public.project_ingest_settings (
  project_id uuid primary key references public.projects (id) on delete cascade,
  organization_id uuid not null,
  max_series integer not null default 10000 check (max_series between 0 and 10000000),
  requests_per_minute integer not null default 6000 check (requests_per_minute > 0),
  events_per_minute integer not null default 6000000 check (events_per_minute > 0),
  updated_at timestamptz not null default now(),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.project_ingest_settings enable row level security;
comment on table public.project_ingest_settings is 'Per-project ingest limits (series cardinality, request and event rates); defaults apply when no row exists.';

create table public.metric_series (
  id bigint generated always as identity primary key,
  project_id uuid not null references public.projects (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 200),
  type text not null check (type in ('gauge', 'counter', 'histogram')),
  -- Counters and histograms: whether points are running totals (cumulative) or per-interval (delta).
  temporality text check (temporality in ('cumulative', 'delta')),
  unit text,
  tags jsonb not null default '{}'::jsonb,
  -- sha256 of name, type, temporality and sorted tags: the series identity within a project.
  fingerprint text not null,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  unique (project_id, fingerprint)
);
alter table public.metric_series enable row level security;
create index metric_series_project_id_name_idx on public.metric_series (project_id, name);
create index metric_series_tags_idx on public.metric_series using gin (tags jsonb_path_ops);
comment on table public.metric_series is 'A metric name with one tag set. Points reference it by id so they stay narrow.';

create table public.metric_points (
  project_id uuid not null,
  series_id bigint not null,
  time timestamptz not null,
  value double precision not null,
  -- 64-bit hash of the event id (or content fingerprint): confirms dedup "maybe seen" answers exactly.
  event_key bigint not null
) partition by range (time);
alter table public.metric_points enable row level security;
create index metric_points_series_id_time_idx on public.metric_points (series_id, time);
comment on table public.metric_points is 'Raw gauge and counter points, one narrow row each, partitioned by day.';

create table public.metric_histogram_points (
  project_id uuid not null,
  series_id bigint not null,
  time timestamptz not null,
  count double precision not null,
  sum double precision,
  min double precision,
  max double precision,
  -- {"kind":"explicit","bounds":[...],"counts":[...]} or {"kind":"exponential","scale":..,"zeroCount":..,"positive":{..},"negative":{..}}
  buckets jsonb not null,
  event_key bigint not null
) partition by range (time);
alter table public.metric_histogram_points enable row level security;
create index metric_histogram_points_series_id_time_idx on public.metric_histogram_points (series_id, time);
comment on table public.metric_histogram_points is 'Raw histogram points with their buckets, so percentiles stay exact-able later.';

create sequence public.logs_id_seq as bigint;
create table public.logs (
  id bigint not null default nextval('public.logs_id_seq'),
  project_id uuid not null,
  time timestamptz not null,
  level text not null check (level in ('trace', 'debug', 'info', 'warn', 'error', 'fatal')),
  severity_number smallint,
  service text not null,
  message text not null,
  attributes jsonb not null default '{}'::jsonb,
  resource jsonb not null default '{}'::jsonb,
  trace_id text,
  span_id text,
  event_key bigint not null
) partition by range (time);
alter sequence public.logs_id_seq owned by public.logs.id;
alter table public.logs enable row level security;
create index logs_project_id_time_idx on public.logs (project_id, time desc, id desc);
create index logs_trace_id_idx on public.logs (trace_id) where trace_id is not null;
create index logs_message_fts_idx on public.logs using gin (to_tsvector('simple', message));
comment on table public.logs is 'Structured log lines, partitioned by day, with a full-text index on the message.';

create table public.spans (
  project_id uuid not null,
  trace_id text not null,
  span_id text not null,
  parent_span_id text,
  name text not null,
  service text not null,
  start_time timestamptz not null,
  end_time timestamptz not null,
  duration_ms double precision not null,
  kind text not null,
  status text not null check (status in ('unset', 'ok', 'error')),
  status_message text,
  attributes jsonb not null default '{}'::jsonb,
  resource jsonb not null default '{}'::jsonb,
  events jsonb not null default '[]'::jsonb,
  links jsonb not null default '[]'::jsonb,
  event_key bigint not null
) partition by range (start_time);
alter table public.spans enable row level security;
create index spans_trace_id_idx on public.spans (trace_id, span_id);
create index spans_project_id_service_start_idx on public.spans (project_id, service, start_time desc);
comment on table public.spans is 'Trace spans with their events and links, partitioned by day of start time.';

create table public.ingest_usage (
  id bigint generated always as identity primary key,
  project_id uuid not null references public.projects (id) on delete cascade,
  organization_id uuid not null,
  at timestamptz not null default now(),
  events integer not null check (events >= 0),
  bytes bigint not null check (bytes >= 0)
);
alter table public.ingest_usage enable row level security;
create index ingest_usage_project_id_at_idx on public.ingest_usage (project_id, at);
create index ingest_usage_organization_id_idx on public.ingest_usage (organization_id);
comment on table public.ingest_usage is 'One row per accepted ingest request (events, bytes), committed with the data: the billing record.';

create table public.series_rejections (
  project_id uuid not null references public.projects (id) on delete cascade,
  day date not null,
  metric_name text not null,
  rejected_points bigint not null default 0,
  sample_tags jsonb not null default '{}'::jsonb,
  last_rejected_at timestamptz not null default now(),
  primary key (project_id, day, metric_name)
);
alter table public.series_rejections enable row level security;
comment on table public.series_rejections is 'Points refused because their new series would pass the project series limit, counted per metric per day.';

-- Billing view: accepted events and bytes per project per day (UTC). security_invoker makes the
-- caller's RLS on ingest_usage apply (owners and admins of the organization).
create view public.ingest_usage_daily with (security_invoker = true) as
  select project_id, organization_id, (at at time zone 'UTC')::date as day, sum(events)::bigint as events, sum(bytes)::bigint as bytes,
         count(*)::bigint as requests
  from public.ingest_usage
  group by project_id, organization_id, (at at time zone 'UTC')::date;
comment on view public.ingest_usage_daily is 'Accepted events, bytes and requests per project per UTC day, for billing.';

-- ============================================================================ helper functions
create function private.ensure_telemetry_partitions(from_day date, to_day date) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  d date;
  t text;
  made integer := 0;
  name text;
begin
  for d in select generate_series(from_day, to_day, interval '1 day')::date loop
    foreach t in array array['metric_points', 'metric_histogram_points', 'logs', 'spans'] loop
      name := t || '_' || to_char(d, 'YYYYMMDD');
      if to_regclass('partitions.' || name) is null then
        begin
          execute format('create table partitions.%I partition of public.%I for values from (%L) to (%L)',
                         name, t, (d::timestamp at time zone 'UTC'), ((d + 1)::timestamp at time zone 'UTC'));
          execute format('alter table partitions.%I enable row level security', name);
          execute format('revoke all on partitions.%I from anon, authenticated', name);
          made := made + 1;
        exception when duplicate_table then
          null; -- created concurrently
        end;
      end if;
    end loop;
  end loop;
  return made;
end
$$;
comment on function private.ensure_telemetry_partitions(date, date) is 'Creates the daily partitions of the raw telemetry tables for [from_day, to_day] (UTC) that do not exist yet.';
revoke all on function private.ensure_telemetry_partitions(date, date) from public;
grant execute on function private.ensure_telemetry_partitions(date, date) to service_role;

-- ============================================================================ triggers
create function private.project_ingest_settings_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  perform private.audit(new.organization_id, 'project.ingest_limits_changed', 'project', new.project_id::text,
    jsonb_build_object('max_series', new.max_series, 'requests_per_minute', new.requests_per_minute,
                       'events_per_minute', new.events_per_minute));
  return null;
end
$$;
create trigger project_ingest_settings_audit after insert or update on public.project_ingest_settings
  for each row execute function private.project_ingest_settings_audit();

-- ============================================================================ grants
revoke all on public.project_ingest_settings, public.metric_series, public.metric_points, public.metric_histogram_points,
  public.logs, public.spans, public.ingest_usage, public.series_rejections from anon, authenticated;
grant select on public.metric_series, public.metric_points, public.metric_histogram_points, public.logs, public.spans,
  public.ingest_usage, public.series_rejections, public.project_ingest_settings to authenticated;
grant insert (project_id, organization_id, max_series, requests_per_minute, events_per_minute), update (max_series, requests_per_minute, events_per_minute, updated_at)
  on public.project_ingest_settings to authenticated;
grant select, insert, update, delete on public.project_ingest_settings, public.metric_series, public.metric_points,
  public.metric_histogram_points, public.logs, public.spans, public.ingest_usage, public.series_rejections to service_role;
grant usage on sequence public.logs_id_seq to service_role;
revoke all on public.ingest_usage_daily from anon, authenticated;
grant select on public.ingest_usage_daily to authenticated, service_role;

-- ============================================================================ policies
create policy "Members can read ingest settings of projects they may see" on public.project_ingest_settings
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners and admins can set ingest limits" on public.project_ingest_settings
  for insert to authenticated with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can change ingest limits" on public.project_ingest_settings
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Members can read series of projects they may see" on public.metric_series
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Members can read metric points of projects they may see" on public.metric_points
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Members can read histogram points of projects they may see" on public.metric_histogram_points
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Members can read logs of projects they may see" on public.logs
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Members can read spans of projects they may see" on public.spans
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners and admins can read usage" on public.ingest_usage
  for select to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Members can read series rejections of projects they may see" on public.series_rejections
  for select to authenticated using (project_id in (select private.readable_project_ids()));

-- Partitions for the acceptance window around today; the ensure-partitions job keeps them ahead.
select private.ensure_telemetry_partitions(current_date - 8, current_date + 3);
