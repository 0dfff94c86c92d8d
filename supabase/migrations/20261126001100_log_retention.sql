-- Log and span retention per project: how many days logs of each level and spans are kept. A project
-- without a row keeps the defaults (trace 7, debug 7, info 30, warn 90, error 90, fatal 90, spans 30;
-- the column defaults, and LOG_RETENTION_DEFAULTS in src/retention/log-retention.ts).
--
-- Invariants (see src/retention/log-retention.ts, run by the cleanup-retention job):
-- - Nothing inside its retention is touched: a log goes when time < now - <its level's days>, a span
--   when start_time < now - span_days (strict).
-- - A whole daily partition of logs (spans) is dropped only when its day ends before now - the
--   longest log (span) retention of any project's row or of the defaults, so every row in it is past
--   retention whatever project it belongs to. Everything younger is deleted row by row, per project and
--   level, in bounded batches.

-- ============================================================================ tables
create table public.log_retention_settings (
  project_id uuid primary key references public.projects (id) on delete cascade,
  organization_id uuid not null,
  -- Days kept per log level (the 'trace' log level, not spans) and for spans.
  trace_days integer not null default 7 constraint log_retention_settings_trace_days_range check (trace_days between 1 and 400),
  debug_days integer not null default 7 constraint log_retention_settings_debug_days_range check (debug_days between 1 and 400),
  info_days integer not null default 30 constraint log_retention_settings_info_days_range check (info_days between 1 and 400),
  warn_days integer not null default 90 constraint log_retention_settings_warn_days_range check (warn_days between 1 and 400),
  error_days integer not null default 90 constraint log_retention_settings_error_days_range check (error_days between 1 and 400),
  fatal_days integer not null default 90 constraint log_retention_settings_fatal_days_range check (fatal_days between 1 and 400),
  span_days integer not null default 30 constraint log_retention_settings_span_days_range check (span_days between 1 and 400),
  updated_at timestamptz not null default now(),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.log_retention_settings enable row level security;
create index log_retention_settings_organization_id_idx on public.log_retention_settings (organization_id);
comment on table public.log_retention_settings is 'Days logs are kept per level, and spans, per project; projects without a row keep the defaults.';

-- Trimming logs per (project, level) needs the level in the index: with only (project_id, time desc,
-- id desc), deleting debug lines older than 7 days would read every info/warn/error line kept between
-- 7 and 90 days (a heap fetch each, to check the level) on every run, and the dry-run counts would do
-- the same. With this index each batch reads exactly the rows it deletes. It also serves log searches
-- filtered by one level, newest first. Spans need no new index: they are trimmed per (project, service)
-- through spans_project_id_service_start_idx.
create index if not exists logs_project_id_level_time_idx on public.logs (project_id, level, time desc, id desc);

-- ============================================================================ triggers
create trigger log_retention_settings_touch_updated_at before update on public.log_retention_settings
  for each row execute function private.touch_updated_at();

create function private.log_retention_settings_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  days jsonb := jsonb_build_object('trace_days', new.trace_days, 'debug_days', new.debug_days, 'info_days', new.info_days,
    'warn_days', new.warn_days, 'error_days', new.error_days, 'fatal_days', new.fatal_days, 'span_days', new.span_days);
begin
  if tg_op = 'UPDATE' then
    days := days || jsonb_build_object('previous', jsonb_build_object('trace_days', old.trace_days, 'debug_days', old.debug_days,
      'info_days', old.info_days, 'warn_days', old.warn_days, 'error_days', old.error_days, 'fatal_days', old.fatal_days,
      'span_days', old.span_days));
  end if;
  perform private.audit(new.organization_id, 'project.log_retention_changed', 'project', new.project_id::text, days);
  return null;
end
$$;
comment on function private.log_retention_settings_audit() is 'Audits every change of a project''s log and span retention (shortening it deletes data).';
create trigger log_retention_settings_audit after insert or update on public.log_retention_settings
  for each row execute function private.log_retention_settings_audit();

-- ============================================================================ helper functions
create function private.telemetry_partitions_before(parent text, cutoff date) returns text[]
language sql stable security definer set search_path = ''
as $$
  -- The same selection as private.drop_telemetry_partitions_before, without dropping: for dry runs.
  select coalesce(array_agg(c.relname::text order by c.relname), '{}')
  from pg_inherits i
  join pg_class c on c.oid = i.inhrelid
  join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'partitions'
  where parent in ('metric_points', 'metric_histogram_points', 'logs', 'spans')
    and i.inhparent = ('public.' || parent)::regclass
    and c.relname ~ ('^' || parent || '_[0-9]{8}$')
    and to_date(right(c.relname, 8), 'YYYYMMDD') < cutoff
$$;
comment on function private.telemetry_partitions_before(text, date) is 'The daily partitions private.drop_telemetry_partitions_before would drop for this cutoff (the retention dry run).';
revoke all on function private.telemetry_partitions_before(text, date) from public;
grant execute on function private.telemetry_partitions_before(text, date) to service_role;

-- ============================================================================ grants
revoke all on public.log_retention_settings from anon, authenticated;
grant select on public.log_retention_settings to authenticated;
grant insert (project_id, organization_id, trace_days, debug_days, info_days, warn_days, error_days, fatal_days, span_days),
  update (trace_days, debug_days, info_days, warn_days, error_days, fatal_days, span_days)
  on public.log_retention_settings to authenticated;
grant select, insert, update, delete on public.log_retention_settings to service_role;

-- ============================================================================ policies
create policy "Members can read log retention of projects they may see" on public.log_retention_settings
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners and admins can set log retention" on public.log_retention_settings
  for insert to authenticated with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can change log retention" on public.log_retention_settings
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
