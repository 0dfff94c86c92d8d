-- Metric rollups at 1 minute, 5 minutes, 1 hour and 1 day: count, sum, min, max, last, counter
-- increase, and a mergeable quantile sketch. Written only by the aggregate-metrics job; read under RLS.
--
-- Invariants (see src/metrics/aggregate-metrics.ts):
-- - A rollup row is a pure function of the raw points in its bucket (1m) or of the finer rollup rows
--   in it (5m from 1m, 1h from 5m, 1d from 1h): recomputing it gives the same row, so the job is
--   idempotent and late points are handled by recomputing the buckets they fall in.
-- - Which buckets to recompute comes from ingest_usage rows (one per ingest transaction, carrying the
--   event-time range of its metric points and its transaction id). The job consumes them in
--   transaction-id order below the oldest transaction still running in this database, so no commit
--   is ever skipped.

-- ============================================================================ tables
alter table public.ingest_usage
  add column metric_min_time timestamptz,
  add column metric_max_time timestamptz,
  add column tx_id xid8 not null default pg_current_xact_id();
create index ingest_usage_tx_id_idx on public.ingest_usage (tx_id) where metric_min_time is not null;

create table public.metric_rollups (
  project_id uuid not null,
  series_id bigint not null,
  -- '1m' | '5m' | '1h' | '1d'
  resolution text not null check (resolution in ('1m', '5m', '1h', '1d')),
  bucket timestamptz not null,
  count bigint not null,
  sum double precision not null,
  min double precision not null,
  max double precision not null,
  last double precision not null,
  last_time timestamptz not null,
  -- Counters: increase within the bucket, with resets handled (cumulative) or summed (delta).
  increase double precision,
  -- DDSketch-style buckets: {"p<i>": n} for v > 0 at index ceil(log_g v), {"n<i>": n} for v < 0, {"z": n} for 0.
  sketch jsonb not null,
  primary key (resolution, series_id, bucket)
) partition by list (resolution);
create table partitions.metric_rollups_1m partition of public.metric_rollups for values in ('1m');
create table partitions.metric_rollups_5m partition of public.metric_rollups for values in ('5m');
create table partitions.metric_rollups_1h partition of public.metric_rollups for values in ('1h');
create table partitions.metric_rollups_1d partition of public.metric_rollups for values in ('1d');
alter table public.metric_rollups enable row level security;
alter table partitions.metric_rollups_1m enable row level security;
alter table partitions.metric_rollups_5m enable row level security;
alter table partitions.metric_rollups_1h enable row level security;
alter table partitions.metric_rollups_1d enable row level security;
create index metric_rollups_project_id_idx on public.metric_rollups (project_id, resolution, bucket);
-- Retention trims each resolution by age.
create index metric_rollups_bucket_idx on public.metric_rollups (resolution, bucket);
comment on table public.metric_rollups is 'Pre-aggregated metric series per resolution (1m/5m/1h/1d) with a mergeable quantile sketch.';

create table public.rollup_state (
  key text primary key,
  -- Ingest transactions below this id have been rolled up.
  watermark xid8 not null,
  updated_at timestamptz not null default now()
);
alter table public.rollup_state enable row level security;
comment on table public.rollup_state is 'The aggregate-metrics job''s watermark over ingest_usage.tx_id.';

-- ============================================================================ helper functions
create function private.drop_telemetry_partitions_before(parent text, cutoff date) returns text[]
language plpgsql security definer set search_path = ''
as $$
declare
  part record;
  dropped text[] := '{}';
begin
  if parent not in ('metric_points', 'metric_histogram_points', 'logs', 'spans') then
    raise exception 'not a telemetry table: %', parent using errcode = 'OA400';
  end if;
  for part in
    select c.relname from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'partitions'
    where i.inhparent = ('public.' || parent)::regclass
      and c.relname ~ ('^' || parent || '_[0-9]{8}$')
      -- A day's partition holds [day, day + 1): it can go when the whole day is before the cutoff.
      and to_date(right(c.relname, 8), 'YYYYMMDD') < cutoff
  loop
    execute format('drop table partitions.%I', part.relname);
    dropped := dropped || part.relname;
  end loop;
  return dropped;
end
$$;
comment on function private.drop_telemetry_partitions_before(text, date) is 'Drops the daily partitions of a raw telemetry table whose whole day is before the cutoff (retention without scanning).';
revoke all on function private.drop_telemetry_partitions_before(text, date) from public;
grant execute on function private.drop_telemetry_partitions_before(text, date) to service_role;

-- ============================================================================ grants
revoke all on public.metric_rollups, public.rollup_state from anon, authenticated;
revoke all on partitions.metric_rollups_1m, partitions.metric_rollups_5m, partitions.metric_rollups_1h, partitions.metric_rollups_1d from anon, authenticated;
grant select on public.metric_rollups to authenticated;
grant select, insert, update, delete on public.metric_rollups, public.rollup_state to service_role;

-- ============================================================================ policies
create policy "Members can read rollups of projects they may see" on public.metric_rollups
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages the rollup watermark" on public.rollup_state
  for all to service_role using (true) with check (true);

-- ============================================================================ schedule
do $outer$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not enabled here; the Node scheduler runs aggregate-metrics';
    return;
  end if;
  perform cron.schedule('observai-aggregate-metrics', '* * * * *', $job$select private.invoke_job('aggregate-metrics')$job$);
end
$outer$;
