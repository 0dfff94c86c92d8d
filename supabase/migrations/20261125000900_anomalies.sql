-- Anomaly detection: per-metric detector configuration, the scanner's saved detector state per
-- series, the anomaly episodes it records and the incidents that group them.
--
-- Invariants (see src/anomalies/detect-anomalies.ts):
-- - The detect-anomalies job feeds each series' complete 1m rollup buckets (average = sum / count)
--   to its detector in time order exactly once: anomaly_detector_states.last_bucket is the per-series
--   watermark, saved in the same transaction as the state and the episode changes, so running the
--   job twice changes nothing and no history is ever reread.
-- - An episode is consecutive anomalous minutes (gaps of up to 2 normal minutes allowed); it closes
--   after 3 normal minutes. Episodes of series with the same service tag within 10 minutes of an
--   incident join it.

-- ============================================================================ tables
create table public.anomaly_configs (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  metric text not null check (char_length(metric) between 1 and 200),
  -- Applies to the metric's series whose tags contain this object ({} = every series of the metric).
  filter jsonb not null default '{}'::jsonb check (jsonb_typeof(filter) = 'object'),
  -- A DetectorConfig (src/anomalies/detectors/schemas.ts), validated by the application.
  config jsonb not null default '{}'::jsonb check (jsonb_typeof(config) = 'object'),
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, metric, filter),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.anomaly_configs enable row level security;
create index anomaly_configs_organization_id_idx on public.anomaly_configs (organization_id);
comment on table public.anomaly_configs is 'Detector configuration per metric (optionally per tag filter); series without one use the default detector.';

create table public.anomaly_detector_states (
  series_id bigint primary key references public.metric_series (id) on delete cascade,
  project_id uuid not null references public.projects (id) on delete cascade,
  detector text not null,
  -- Hash of the detector configuration the state was built with; a change starts a fresh state.
  config_hash text not null,
  state jsonb not null,
  -- The last 1m bucket fed to the detector: the series' scan watermark.
  last_bucket timestamptz not null,
  -- The episode being tracked (null when the series is normal) and its last anomalous minute.
  open_episode_id uuid,
  last_anomalous_at timestamptz,
  updated_at timestamptz not null default now()
);
alter table public.anomaly_detector_states enable row level security;
create index anomaly_detector_states_project_id_idx on public.anomaly_detector_states (project_id);
comment on table public.anomaly_detector_states is 'The anomaly scanner''s saved detector state per series, so scans resume without rereading history.';

create table public.anomaly_incidents (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  -- The service tag of the member series ('service' or 'service.name'), else 'metric:<name>'.
  correlation_key text not null,
  started_at timestamptz not null,
  -- Null while a member episode is open.
  ended_at timestamptz,
  status text not null default 'open' check (status in ('open', 'closed')),
  member_count integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.anomaly_incidents enable row level security;
create index anomaly_incidents_project_id_started_at_idx on public.anomaly_incidents (project_id, started_at desc);
create index anomaly_incidents_key_idx on public.anomaly_incidents (project_id, correlation_key, started_at desc);
comment on table public.anomaly_incidents is 'Anomaly episodes of one service (or metric) close in time, grouped.';

create table public.anomaly_episodes (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  series_id bigint not null references public.metric_series (id) on delete cascade,
  metric text not null,
  detector text not null,
  started_at timestamptz not null,
  -- End of the last anomalous minute; null while open.
  ended_at timestamptz,
  status text not null default 'open' check (status in ('open', 'closed')),
  peak_score double precision not null,
  peak_at timestamptz not null,
  -- The detector's explanation at the peak (expected value, band, deviation, direction).
  explanation jsonb not null,
  feedback text check (feedback in ('not_anomaly')),
  feedback_at timestamptz,
  incident_id uuid references public.anomaly_incidents (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.anomaly_episodes enable row level security;
create index anomaly_episodes_project_id_started_at_idx on public.anomaly_episodes (project_id, started_at desc);
create index anomaly_episodes_series_id_idx on public.anomaly_episodes (series_id, started_at);
create index anomaly_episodes_incident_id_idx on public.anomaly_episodes (incident_id) where incident_id is not null;
comment on table public.anomaly_episodes is 'A run of anomalous minutes on one series, with its peak score and explanation, and user feedback.';

-- ============================================================================ triggers
create trigger anomaly_configs_touch_updated_at before update on public.anomaly_configs
  for each row execute function private.touch_updated_at();
create trigger anomaly_incidents_touch_updated_at before update on public.anomaly_incidents
  for each row execute function private.touch_updated_at();
create trigger anomaly_episodes_touch_updated_at before update on public.anomaly_episodes
  for each row execute function private.touch_updated_at();

-- ============================================================================ grants
revoke all on public.anomaly_configs, public.anomaly_detector_states, public.anomaly_incidents, public.anomaly_episodes from anon, authenticated;
grant select on public.anomaly_configs, public.anomaly_incidents, public.anomaly_episodes to authenticated;
grant insert (project_id, organization_id, metric, filter, config, enabled), update (config, enabled, updated_at), delete
  on public.anomaly_configs to authenticated;
grant update (feedback, feedback_at) on public.anomaly_episodes to authenticated;
grant select, insert, update, delete on public.anomaly_configs, public.anomaly_detector_states, public.anomaly_incidents,
  public.anomaly_episodes to service_role;

-- ============================================================================ policies
create policy "Members can read anomaly configs of projects they may see" on public.anomaly_configs
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners and admins can add anomaly configs" on public.anomaly_configs
  for insert to authenticated with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can change anomaly configs" on public.anomaly_configs
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can remove anomaly configs" on public.anomaly_configs
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages anomaly configs" on public.anomaly_configs
  for all to service_role using (true) with check (true);
create policy "Service role manages detector states" on public.anomaly_detector_states
  for all to service_role using (true) with check (true);
create policy "Members can read anomaly incidents of projects they may see" on public.anomaly_incidents
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages anomaly incidents" on public.anomaly_incidents
  for all to service_role using (true) with check (true);
create policy "Members can read anomaly episodes of projects they may see" on public.anomaly_episodes
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Members who may change a project can give feedback on its episodes" on public.anomaly_episodes
  for update to authenticated
  using (project_id in (select private.writable_project_ids()))
  with check (project_id in (select private.writable_project_ids()));
create policy "Service role manages anomaly episodes" on public.anomaly_episodes
  for all to service_role using (true) with check (true);

-- ============================================================================ schedule
do $outer$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not enabled here; the Node scheduler runs detect-anomalies';
    return;
  end if;
  perform cron.schedule('observai-detect-anomalies', '* * * * *', $job$select private.invoke_job('detect-anomalies')$job$);
end
$outer$;
