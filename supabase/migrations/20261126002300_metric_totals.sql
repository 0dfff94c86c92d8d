-- Metric totals: every series of a metric name merged, per resolution and bucket.
--
-- A panel with no tag filter and no group-by ("p99 of http.server.duration over 30 days") is the
-- merge of every series of the metric. Read from metric_rollups it costs one row per series and
-- bucket (3,100 daily sketches for 100 series over 31 days, about 6 MB of array text); from this
-- table it costs one row per bucket. Datadog keeps percentiles "across all tag combinations" the same
-- way.
--
-- Invariants (the job calls private.rollup_metric_totals, below; src/metrics/aggregate-metrics.ts):
-- - Totals are kept at 5m, 1h and 1d (not 1m: computing them would cost as much as the 5m rollup
--   itself, and 1m panels are short). A 5m totals row is a pure function of the 5m rollup rows of the
--   metric's series in its bucket; a 1h/1d totals row of the finer totals rows inside it. The job
--   recomputes totals over the same buckets, in the same transaction, as the series rollups they
--   come from, so the two never disagree and a rerun changes nothing.
-- - count, sum, min, max, increase (summed over series) and the sketch (bucket counts added) merge
--   exactly across series; `last` does not, and is not kept.
-- - Retention trims totals like the series rollups (per resolution, per metric definition).

create table public.metric_totals (
  project_id uuid not null references public.projects (id) on delete cascade,
  name text not null,
  resolution text not null check (resolution in ('5m', '1h', '1d')),
  bucket timestamptz not null,
  count bigint not null,
  sum double precision not null,
  min double precision not null,
  max double precision not null,
  increase double precision,
  sketch bigint[] not null check (cardinality(sketch) = 0 or (array_ndims(sketch) = 2 and array_length(sketch, 1) = 2)),
  sketch_text text generated always as (private.sketch_text(sketch)) stored,
  primary key (project_id, resolution, name, bucket)
);
alter table public.metric_totals enable row level security;
-- Retention trims each resolution by age.
create index metric_totals_bucket_idx on public.metric_totals (resolution, bucket);
comment on table public.metric_totals is 'Every series of a metric merged per resolution and bucket (count, sum, min, max, increase, quantile sketch): panels without tag filters or group-by read these.';
comment on column public.metric_totals.sketch is 'Same encoding as metric_rollups.sketch; the bucket counts of all the series added.';
comment on column public.metric_totals.sketch_text is 'The sketch as text, generated from sketch (as metric_rollups.sketch_text).';

revoke all on public.metric_totals from anon, authenticated;
grant select on public.metric_totals to authenticated;
grant select, insert, update, delete on public.metric_totals to service_role;

create policy "Members can read metric totals of projects they may see" on public.metric_totals
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages metric totals" on public.metric_totals
  for all to service_role using (true) with check (true);

-- ============================================================================ the rollup
-- Recomputes the totals of p_target in [p_from, p_to) (aligned to p_width): from the series' rows of
-- p_target when p_source is null, else from the totals of the finer p_source, in one pass like the
-- series rollups: every source row is expanded into its sketch entries and grouped by (metric, bucket,
-- rank), the row's own aggregates riding on its first entry only. Returns the rows written (a row
-- whose recomputed values are equal is not rewritten). The job (aggregate-metrics) and the backfill
-- below both run this, so they cannot disagree.
create function private.rollup_metric_totals(p_project uuid, p_source text, p_target text, p_width interval, p_from timestamptz, p_to timestamptz)
returns integer
language plpgsql set search_path = ''
as $$
declare
  written integer;
begin
  with src as (
    select m.name, r.bucket, r.count, r.sum, r.min, r.max, r.increase, r.sketch
    from public.metric_rollups r join public.metric_series m on m.id = r.series_id
    where p_source is null and r.resolution = p_target and r.project_id = p_project and r.bucket >= p_from and r.bucket < p_to
    union all
    select t.name, t.bucket, t.count, t.sum, t.min, t.max, t.increase, t.sketch
    from public.metric_totals t
    where p_source is not null and t.resolution = p_source and t.project_id = p_project and t.bucket >= p_from and t.bucket < p_to
  ), parts as (
    select x.name, date_bin(p_width, x.bucket, timestamptz '2000-01-01 00:00:00+00') as b, e.k, sum(e.n)::bigint as n,
           sum(x.count) filter (where e.ord = 1) as c, sum(x.sum) filter (where e.ord = 1) as s,
           min(x.min) as mn, max(x.max) as mx, sum(x.increase) filter (where e.ord = 1) as inc
    from src x, unnest(x.sketch[1:1], x.sketch[2:2]) with ordinality as e(k, n, ord)
    group by 1, 2, 3
  )
  insert into public.metric_totals (project_id, name, resolution, bucket, count, sum, min, max, increase, sketch)
  select p_project, p.name, p_target, p.b, sum(p.c)::bigint, sum(p.s), min(p.mn), max(p.mx), sum(p.inc),
         array[array_agg(p.k::bigint order by p.k), array_agg(p.n::bigint order by p.k)]
  from parts p
  group by p.name, p.b
  order by p.name, p.b
  on conflict (project_id, resolution, name, bucket) do update set
    count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, increase = excluded.increase, sketch = excluded.sketch
    where (metric_totals.count, metric_totals.sum, metric_totals.min, metric_totals.max, metric_totals.increase, metric_totals.sketch)
          is distinct from (excluded.count, excluded.sum, excluded.min, excluded.max, excluded.increase, excluded.sketch);
  get diagnostics written = row_count;
  return written;
end
$$;
comment on function private.rollup_metric_totals(uuid, text, text, interval, timestamptz, timestamptz) is
  'Recomputes a project''s metric totals of one resolution over whole buckets, from the series rollups (source null) or the finer totals (aggregate-metrics).';
revoke all on function private.rollup_metric_totals(uuid, text, text, interval, timestamptz, timestamptz) from public;
grant execute on function private.rollup_metric_totals(uuid, text, text, interval, timestamptz, timestamptz) to service_role;

-- ============================================================================ backfill
-- Totals of the existing rollups, a project and a day at a time, with the job's function: every
-- resolution from the series rows of the same resolution (the same merge as from the finer totals),
-- so days whose 5m rows retention already removed still get their 1h and 1d totals. Kept as a
-- function: after an upgrade during which an older rollup job kept running (it writes no totals),
-- `select private.backfill_metric_totals(<since>)` fills what it wrote (docs/DEPLOYMENT.md).
-- Idempotent: rows already right are not rewritten.
create function private.backfill_metric_totals(p_since timestamptz) returns integer
language plpgsql set search_path = ''
as $$
declare
  day record;
  written integer := 0;
begin
  for day in
    select r.project_id, date_bin('1 day', r.bucket, timestamptz '2000-01-01 00:00:00+00') as d
    from public.metric_rollups r
    where r.resolution in ('5m', '1h', '1d') and (p_since is null or r.bucket >= date_bin('1 day', p_since, timestamptz '2000-01-01 00:00:00+00'))
    group by 1, 2 order by 1, 2
  loop
    written := written
      + private.rollup_metric_totals(day.project_id, null, '5m', interval '5 minutes', day.d, day.d + interval '1 day')
      + private.rollup_metric_totals(day.project_id, null, '1h', interval '1 hour', day.d, day.d + interval '1 day')
      + private.rollup_metric_totals(day.project_id, null, '1d', interval '1 day', day.d, day.d + interval '1 day');
  end loop;
  return written;
end
$$;
comment on function private.backfill_metric_totals(timestamptz) is
  'Recomputes the metric totals of every day with rollups since p_since (all days when null) from the series rollups; writes only rows that differ.';
revoke all on function private.backfill_metric_totals(timestamptz) from public;
grant execute on function private.backfill_metric_totals(timestamptz) to service_role;

set local work_mem = '64MB';
select private.backfill_metric_totals(null);
