-- Metric totals: every series of a metric name merged, per resolution and bucket.
--
-- A panel with no tag filter and no group-by ("p99 of http.server.duration over 30 days") is the
-- merge of every series of the metric. Read from metric_rollups it costs one row per series and
-- bucket (3,100 daily sketches for 100 series over 31 days, about 6 MB of array text); from this
-- table it costs one row per bucket. Datadog keeps percentiles "across all tag combinations" the same
-- way.
--
-- Invariants (see src/metrics/aggregate-metrics.ts):
-- - Totals are kept at 5m, 1h and 1d (not 1m: computing them would cost as much as the 5m rollup
--   itself, and 1m panels are short). A 5m totals row is a pure function of the 5m rollup rows of the
--   metric's series in its bucket; a 1h/1d totals row of the finer totals rows inside it. The job recomputes totals over the same
--   buckets, in the same transaction, as the series rollups they come from, so the two never
--   disagree and a rerun changes nothing.
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

-- ============================================================================ backfill
-- Existing rollups get their totals here, with the job's arithmetic (5m from the series' 5m rows,
-- 1h and 1d from the finer totals), so the job's next pass over these buckets rewrites
-- nothing.
create function private.metric_totals_backfill(source text, target text, width interval) returns void
language plpgsql set search_path = ''
as $$
begin
  if source is null then
    insert into public.metric_totals (project_id, name, resolution, bucket, count, sum, min, max, increase, sketch)
    select p.project_id, p.name, target, p.bucket, sum(p.c)::bigint, sum(p.s), min(p.mn), max(p.mx), sum(p.inc),
           array[array_agg(p.k::bigint order by p.k), array_agg(p.n::bigint order by p.k)]
    from (
      select r.project_id, s.name, r.bucket, e.k, sum(e.n)::bigint as n,
             sum(r.count) filter (where e.ord = 1) as c, sum(r.sum) filter (where e.ord = 1) as s,
             min(r.min) as mn, max(r.max) as mx, sum(r.increase) filter (where e.ord = 1) as inc
      from public.metric_rollups r
      join public.metric_series s on s.id = r.series_id,
      unnest(r.sketch[1:1], r.sketch[2:2]) with ordinality as e(k, n, ord)
      where r.resolution = target
      group by 1, 2, 3, 4
    ) p
    group by p.project_id, p.name, p.bucket;
  else
    insert into public.metric_totals (project_id, name, resolution, bucket, count, sum, min, max, increase, sketch)
    select p.project_id, p.name, target, p.b, sum(p.c)::bigint, sum(p.s), min(p.mn), max(p.mx), sum(p.inc),
           array[array_agg(p.k::bigint order by p.k), array_agg(p.n::bigint order by p.k)]
    from (
      select t.project_id, t.name, date_bin(width, t.bucket, timestamptz '2000-01-01 00:00:00+00') as b, e.k, sum(e.n)::bigint as n,
             sum(t.count) filter (where e.ord = 1) as c, sum(t.sum) filter (where e.ord = 1) as s,
             min(t.min) as mn, max(t.max) as mx, sum(t.increase) filter (where e.ord = 1) as inc
      from public.metric_totals t,
      unnest(t.sketch[1:1], t.sketch[2:2]) with ordinality as e(k, n, ord)
      where t.resolution = source
      group by 1, 2, 3, 4
    ) p
    group by p.project_id, p.name, p.b;
  end if;
end
$$;

set local work_mem = '256MB';
select private.metric_totals_backfill(null, '5m', interval '5 minutes');
select private.metric_totals_backfill('5m', '1h', interval '1 hour');
select private.metric_totals_backfill('1h', '1d', interval '1 day');
drop function private.metric_totals_backfill(text, text, interval);
