-- Exports of logs and spans to S3-compatible storage (AWS S3, Supabase Storage's S3 endpoint, MinIO):
-- destinations per project (credentials with the secret encrypted), export runs with their progress,
-- and daily schedules. Runs are executed by the export-telemetry job (src/exports/export-telemetry.ts).
--
-- Invariants (see src/exports/run-export.ts):
-- - The secret access key is stored only as AES-256-GCM ciphertext made by the server with
--   EXPORT_ENCRYPTION_KEY (never in the database), bound to its destination id; no API role may read
--   the ciphertext column, and the API never returns it.
-- - A run writes parts `<prefix>/<project>/<signal>/dt=<day>/part-NNNNN-<run id>.ndjson.gz` in key
--   order (time, id for logs; start_time, trace_id, span_id for spans). Its progress cursor (the last
--   key written, the day and the day's next part number) advances in the same UPDATE as row_count,
--   byte_count and files, and only after the part's PutObject succeeded. A part is a pure function of
--   (run, cursor, data), so a run that failed or crashed resumes from its cursor and rewrites at most
--   the one part whose commit was lost, under the same key: every row lands exactly once.
-- - Only the holder of a run's current claim (claim_token, renewed with lease_expires_at) can move its
--   cursor; a runner that lost its lease stops at its next commit.
-- - A schedule creates at most one run per day: unique (schedule_id, from_time), and its watermark
--   last_scheduled_day moves in the same transaction.

-- ============================================================================ tables
create table public.export_destinations (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  name text not null check (char_length(name) between 1 and 200),
  -- Null for AWS S3; otherwise the S3 API base URL (Supabase Storage: https://<ref>.supabase.co/storage/v1/s3).
  endpoint text check (char_length(endpoint) <= 500 and endpoint ~ '^https?://[^\s/?#]+(/[^\s?#]*)?$'),
  region text not null default 'us-east-1' check (region ~ '^[a-z0-9-]{1,50}$'),
  bucket text not null check (bucket ~ '^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$'),
  -- Object key prefix without leading or trailing slash; '' puts the project folder at the bucket root.
  prefix text not null default '' check (
    prefix = '' or (char_length(prefix) <= 200 and prefix ~ '^[a-zA-Z0-9!_.*''()=-]+(/[a-zA-Z0-9!_.*''()=-]+)*$'
                    and prefix !~ '(^|/)\.\.?(/|$)')),
  force_path_style boolean not null default false,
  access_key_id text not null check (char_length(access_key_id) between 1 and 200),
  -- 'v1.<key id>.<iv>.<ciphertext+tag>' (src/exports/secret-box.ts); readable by the service role only.
  secret_ciphertext text not null check (secret_ciphertext ~ '^v1\.[0-9a-f]{16}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$'),
  -- When the connection check (a small PutObject) last succeeded.
  verified_at timestamptz,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, name),
  -- Lets runs and schedules reference a destination of their own project only.
  unique (id, project_id),
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.export_destinations enable row level security;
create index export_destinations_organization_id_idx on public.export_destinations (organization_id);
comment on table public.export_destinations is 'S3-compatible buckets a project exports logs and spans to; the secret key is encrypted by the server and never readable through the API.';

create table public.export_schedules (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  destination_id uuid not null,
  signal text not null check (signal in ('logs', 'spans')),
  -- {"level": [...], "service": [...]} (level for logs only), validated by the application.
  filter jsonb not null default '{}'::jsonb check (jsonb_typeof(filter) = 'object'),
  rows_per_file integer not null default 100000 check (rows_per_file between 100 and 1000000),
  enabled boolean not null default true,
  -- The first UTC day the schedule exports.
  start_day date not null,
  -- The job's watermark: every day up to this one has its run. Null until the first run is created.
  last_scheduled_day date,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, destination_id, signal),
  foreign key (destination_id, project_id) references public.export_destinations (id, project_id) on delete cascade,
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.export_schedules enable row level security;
create index export_schedules_organization_id_idx on public.export_schedules (organization_id);
create index export_schedules_destination_id_idx on public.export_schedules (destination_id);
create index export_schedules_due_idx on public.export_schedules (last_scheduled_day) where enabled;
comment on table public.export_schedules is 'Daily exports of one signal to one destination: the export-telemetry job creates a run per completed UTC day.';

create table public.export_runs (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  organization_id uuid not null,
  destination_id uuid not null,
  -- Set for runs a schedule created (one per day); null for requested runs.
  schedule_id uuid references public.export_schedules (id) on delete set null,
  signal text not null check (signal in ('logs', 'spans')),
  -- The half-open time range [from_time, to_time) of log time / span start time.
  from_time timestamptz not null,
  to_time timestamptz not null,
  filter jsonb not null default '{}'::jsonb check (jsonb_typeof(filter) = 'object'),
  -- Fixed per run so that the part layout a retry recomputes is the one already written.
  rows_per_file integer not null default 100000 check (rows_per_file between 100 and 1000000),
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
  row_count bigint not null default 0 check (row_count >= 0),
  byte_count bigint not null default 0 check (byte_count >= 0),
  -- Object keys of the committed parts, in the order written.
  files text[] not null default '{}',
  -- {"after": [key values of the last row written], "day": "YYYY-MM-DD", "nextPart": n}; null before the first part.
  progress jsonb check (progress is null or jsonb_typeof(progress) = 'object'),
  -- Executions started (the first one and each retry).
  attempts integer not null default 0 check (attempts >= 0),
  error text,
  -- The current executor's claim and how long it holds; a run whose lease lapsed can be claimed again.
  claim_token uuid,
  lease_expires_at timestamptz,
  -- When the job retries a failed run by itself; null when it will not (attempts used up).
  next_attempt_at timestamptz,
  requested_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now(),
  check (to_time > from_time),
  check (to_time - from_time <= interval '31 days'),
  check ((status = 'running') = (claim_token is not null)),
  unique (schedule_id, from_time),
  foreign key (destination_id, project_id) references public.export_destinations (id, project_id) on delete cascade,
  foreign key (project_id, organization_id) references public.projects (id, organization_id) on delete cascade
);
alter table public.export_runs enable row level security;
create index export_runs_project_id_created_at_idx on public.export_runs (project_id, created_at desc);
create index export_runs_destination_id_idx on public.export_runs (destination_id);
create index export_runs_pending_idx on public.export_runs (created_at) where status in ('queued', 'running', 'failed');
comment on table public.export_runs is 'One export of a signal over a time range to a destination: status, counts, object keys and the resumable progress cursor.';

-- ============================================================================ triggers
create trigger export_destinations_touch_updated_at before update on public.export_destinations
  for each row execute function private.touch_updated_at();
create trigger export_schedules_touch_updated_at before update on public.export_schedules
  for each row execute function private.touch_updated_at();
create trigger export_runs_touch_updated_at before update on public.export_runs
  for each row execute function private.touch_updated_at();

-- A user (or key) may change a run in one way only: a failed run back to queued (a retry). Grants limit
-- them to the status column; this keeps the state machine's other edges for the runner.
create function private.export_runs_guard_user_changes() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if private.is_end_user() then
    if not (old.status = 'failed' and new.status = 'queued') then
      raise exception 'Only a failed export can be retried' using errcode = 'OA409';
    end if;
    new.error := null;
    new.next_attempt_at := null;
    new.finished_at := null;
  end if;
  return new;
end
$$;
-- Of status only: a user can update no other column, and the schedule_id set null of a deleted schedule
-- (a foreign key action, still under the user's claims) must pass.
create trigger export_runs_guard_user_changes before update of status on public.export_runs
  for each row execute function private.export_runs_guard_user_changes();

create function private.export_destinations_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  d public.export_destinations := case when tg_op = 'DELETE' then old else new end;
begin
  perform private.audit(d.organization_id,
    case when tg_op = 'INSERT' then 'export_destination.created' else 'export_destination.deleted' end,
    'export_destination', d.id::text,
    jsonb_build_object('project_id', d.project_id, 'name', d.name, 'endpoint', d.endpoint, 'region', d.region,
                       'bucket', d.bucket, 'prefix', d.prefix, 'access_key_id', d.access_key_id));
  return null;
end
$$;
create trigger export_destinations_audit after insert or delete on public.export_destinations
  for each row execute function private.export_destinations_audit();

create function private.export_schedules_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  s public.export_schedules := case when tg_op = 'DELETE' then old else new end;
begin
  perform private.audit(s.organization_id,
    case tg_op when 'INSERT' then 'export_schedule.created' when 'UPDATE' then 'export_schedule.changed' else 'export_schedule.deleted' end,
    'export_schedule', s.id::text,
    jsonb_build_object('project_id', s.project_id, 'destination_id', s.destination_id, 'signal', s.signal,
                       'enabled', s.enabled, 'filter', s.filter, 'start_day', s.start_day));
  return null;
end
$$;
-- Settings changes only: not last_scheduled_day (the job moves it every day), not a PUT that changed nothing.
create trigger export_schedules_audit_insert_delete after insert or delete on public.export_schedules
  for each row execute function private.export_schedules_audit();
create trigger export_schedules_audit_update after update on public.export_schedules
  for each row when (old.enabled is distinct from new.enabled or old.filter is distinct from new.filter
                     or old.rows_per_file is distinct from new.rows_per_file)
  execute function private.export_schedules_audit();

-- Data leaving the system on someone's request is worth a line in the audit log.
create function private.export_runs_audit() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  perform private.audit(new.organization_id, 'export.requested', 'export_run', new.id::text,
    jsonb_build_object('project_id', new.project_id, 'destination_id', new.destination_id, 'signal', new.signal,
                       'from', new.from_time, 'to', new.to_time, 'filter', new.filter));
  return null;
end
$$;
create trigger export_runs_audit after insert on public.export_runs
  for each row when (new.schedule_id is null) execute function private.export_runs_audit();

revoke all on function private.export_runs_guard_user_changes(), private.export_destinations_audit(),
  private.export_schedules_audit(), private.export_runs_audit() from public;

-- ============================================================================ grants
revoke all on public.export_destinations, public.export_schedules, public.export_runs from anon, authenticated;
-- Every column but secret_ciphertext: the ciphertext is written once at creation and read only by the runner.
grant select (id, project_id, organization_id, name, endpoint, region, bucket, prefix, force_path_style, access_key_id,
  verified_at, created_by, created_at, updated_at) on public.export_destinations to authenticated;
grant insert (id, project_id, organization_id, name, endpoint, region, bucket, prefix, force_path_style, access_key_id,
  secret_ciphertext, verified_at) on public.export_destinations to authenticated;
grant delete on public.export_destinations to authenticated;
grant select on public.export_schedules to authenticated;
grant insert (project_id, organization_id, destination_id, signal, filter, rows_per_file, enabled, start_day),
  update (filter, rows_per_file, enabled) on public.export_schedules to authenticated;
grant delete on public.export_schedules to authenticated;
grant select (id, project_id, organization_id, destination_id, schedule_id, signal, from_time, to_time, filter, rows_per_file,
  status, row_count, byte_count, files, progress, attempts, error, next_attempt_at, requested_by, created_at, started_at,
  finished_at, updated_at) on public.export_runs to authenticated;
grant insert (project_id, organization_id, destination_id, signal, from_time, to_time, filter, rows_per_file)
  on public.export_runs to authenticated;
grant update (status) on public.export_runs to authenticated;
grant select, insert, update, delete on public.export_destinations, public.export_schedules, public.export_runs to service_role;

-- ============================================================================ policies
create policy "Members can read export destinations of projects they may see" on public.export_destinations
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners and admins can add export destinations" on public.export_destinations
  for insert to authenticated with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can remove export destinations" on public.export_destinations
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages export destinations" on public.export_destinations
  for all to service_role using (true) with check (true);

create policy "Members can read export schedules of projects they may see" on public.export_schedules
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Owners and admins can add export schedules" on public.export_schedules
  for insert to authenticated with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can change export schedules" on public.export_schedules
  for update to authenticated
  using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])))
  with check (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Owners and admins can remove export schedules" on public.export_schedules
  for delete to authenticated using (organization_id in (select private.org_ids_with_role(array['owner', 'admin'])));
create policy "Service role manages export schedules" on public.export_schedules
  for all to service_role using (true) with check (true);

create policy "Members can read export runs of projects they may see" on public.export_runs
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Members who may change a project can request its exports" on public.export_runs
  for insert to authenticated with check (project_id in (select private.writable_project_ids()));
create policy "Members who may change a project can retry its exports" on public.export_runs
  for update to authenticated
  using (project_id in (select private.writable_project_ids()))
  with check (project_id in (select private.writable_project_ids()));
create policy "Service role manages export runs" on public.export_runs
  for all to service_role using (true) with check (true);

-- ============================================================================ schedule
do $outer$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not enabled here; the Node scheduler runs export-telemetry';
    return;
  end if;
  perform cron.schedule('observai-export-telemetry', '*/5 * * * *', $job$select private.invoke_job('export-telemetry')$job$);
end
$outer$;
