-- Metric totals per tag value ("group totals"), beside the totals of the whole metric.
--
-- A panel grouped by one tag ("p95 of http.server.duration by service") or filtered on one tag
-- ("queue.depth where host != h0") merges the series of each value of that tag. Read from
-- metric_rollups it costs one row per series and bucket (28,500 rows for 100 series over a day at
-- 5m); from totals kept per tag value, one row per value and bucket (2,880 for 10 services). This is
-- what Prometheus recording rules (`sum by (service)`) keep, chosen here without configuration.
--
-- Invariants (private.rollup_metric_totals below; src/metrics/aggregate-metrics.ts,
-- src/metrics/query-metrics.ts):
-- - A metric_group_totals row is (name, tag_key, tag_value, resolution, bucket): the series of the
--   metric whose tag tag_key has the value tag_value, or, with tag_value null, the series without
--   the tag. So the rows of one key partition the metric's series, as metric_totals holds all of them.
-- - A key is kept for a metric when its series have at most 64 values of it and at least 4 series per
--   value (a key with a value per series or two would add rows and save no reading). Decided from all
--   the metric's series (metric_series) each time a 5m bucket is rolled up, so a key may gain or lose
--   its groups from one bucket to the next.
-- - 5m rows come from the series' 5m rollups, 1h/1d rows from the finer group rows, in the same
--   statement and transaction as the whole metric's totals (metric_totals, unchanged).
-- - Because the rows of a key partition the series, the counts of key K's rows in a bucket add up to
--   the metric_totals count exactly when they are complete and current. A query reads K's rows only
--   when that holds for every bucket of its range (else it reads the series rollups): a bucket rolled
--   up before K was kept, after K stopped being kept, or before this migration, is still answered right.
-- - Retention trims them like metric_totals (per resolution and metric definition).

create table public.metric_group_totals (
  project_id uuid not null references public.projects (id) on delete cascade,
  name text not null,
  tag_key text not null,
  tag_value text,
  resolution text not null check (resolution in ('5m', '1h', '1d')),
  bucket timestamptz not null,
  count bigint not null,
  sum double precision not null,
  min double precision not null,
  max double precision not null,
  increase double precision,
  sketch bigint[] not null check (cardinality(sketch) = 0 or (array_ndims(sketch) = 2 and array_length(sketch, 1) = 2)),
  sketch_text text generated always as (private.sketch_text(sketch)) stored,
  -- One row per group: the null tag_value (series without the key) is a group like any value.
  constraint metric_group_totals_key unique nulls not distinct (project_id, resolution, name, tag_key, bucket, tag_value)
);
alter table public.metric_group_totals enable row level security;
-- Retention trims each resolution by age.
create index metric_group_totals_bucket_idx on public.metric_group_totals (resolution, bucket);
comment on table public.metric_group_totals is 'The series of a metric with each value of a kept tag merged per resolution and bucket (count, sum, min, max, increase, quantile sketch): panels filtered or grouped by that one tag read these.';
comment on column public.metric_group_totals.tag_value is 'The tag''s value; null for the metric''s series without the tag.';
comment on column public.metric_group_totals.sketch_text is 'The sketch as text, generated from sketch (as metric_rollups.sketch_text).';

revoke all on public.metric_group_totals from anon, authenticated;
grant select on public.metric_group_totals to authenticated;
grant select, insert, update, delete on public.metric_group_totals to service_role;

create policy "Members can read metric group totals of projects they may see" on public.metric_group_totals
  for select to authenticated using (project_id in (select private.readable_project_ids()));
create policy "Service role manages metric group totals" on public.metric_group_totals
  for all to service_role using (true) with check (true);

-- ============================================================================ the rollup
-- Recomputes the totals of p_target in [p_from, p_to) (aligned to p_width), whole and per kept tag
-- value, in one pass: from the series' rows of p_target when p_source is null, else from the totals of
-- the finer p_source. Every source row is expanded into its sketch entries and grouped by (group,
-- bucket, rank), the row's own aggregates riding on its first entry only; groups (the whole metric,
-- or a key and value) are numbered first so the big groupings hash integers, not text. Returns the
-- rows written (a row whose recomputed values are equal is not rewritten). The job (aggregate-metrics)
-- and private.backfill_metric_totals both run this, so they cannot disagree.
create or replace function private.rollup_metric_totals(p_project uuid, p_source text, p_target text, p_width interval, p_from timestamptz, p_to timestamptz)
returns integer
language plpgsql set search_path = ''
as $$
declare
  written integer;
begin
  with per_metric as (
    select m.name, count(*) as n from public.metric_series m where p_source is null and m.project_id = p_project group by m.name
  ), kept as (
    -- The tag keys kept per metric: at most 64 values, at least 4 series per value.
    select m.name, kv.key
    from public.metric_series m cross join lateral jsonb_each_text(m.tags) kv join per_metric pm on pm.name = m.name
    where p_source is null and m.project_id = p_project
    group by m.name, kv.key, pm.n
    having count(distinct kv.value) <= 64 and count(distinct kv.value) * 4 <= pm.n
  ), member as (
    -- Each series in the groups it belongs to: the whole metric (tag_key null), and one value (or
    -- null) per kept key.
    select u.*, dense_rank() over (order by u.name, u.tag_key, u.tag_value) as gid from (
      select m.id as series_id, m.name, null::text as tag_key, null::text as tag_value
      from public.metric_series m where p_source is null and m.project_id = p_project
      union all
      select m.id, m.name, k.key, m.tags ->> k.key
      from public.metric_series m join kept k on k.name = m.name where m.project_id = p_project
    ) u
  ), finer as (
    select f.*, dense_rank() over (order by f.name, f.tag_key, f.tag_value) as gid from (
      select t.name, null::text as tag_key, null::text as tag_value, t.bucket, t.count, t.sum, t.min, t.max, t.increase, t.sketch
      from public.metric_totals t
      where p_source is not null and t.resolution = p_source and t.project_id = p_project and t.bucket >= p_from and t.bucket < p_to
      union all
      select t.name, t.tag_key, t.tag_value, t.bucket, t.count, t.sum, t.min, t.max, t.increase, t.sketch
      from public.metric_group_totals t
      where p_source is not null and t.resolution = p_source and t.project_id = p_project and t.bucket >= p_from and t.bucket < p_to
    ) f
  ), groups as (
    select distinct gid, name, tag_key, tag_value from member
    union all
    select distinct gid, name, tag_key, tag_value from finer
  ), src as (
    select b.gid, r.bucket, r.count, r.sum, r.min, r.max, r.increase, r.sketch
    from public.metric_rollups r join member b on b.series_id = r.series_id
    where p_source is null and r.resolution = p_target and r.project_id = p_project and r.bucket >= p_from and r.bucket < p_to
    union all
    select f.gid, f.bucket, f.count, f.sum, f.min, f.max, f.increase, f.sketch from finer f
  ), parts as (
    select x.gid, date_bin(p_width, x.bucket, timestamptz '2000-01-01 00:00:00+00') as b, e.k, sum(e.n)::bigint as n,
           sum(x.count) filter (where e.ord = 1) as c, sum(x.sum) filter (where e.ord = 1) as s,
           min(x.min) as mn, max(x.max) as mx, sum(x.increase) filter (where e.ord = 1) as inc
    from src x, unnest(x.sketch[1:1], x.sketch[2:2]) with ordinality as e(k, n, ord)
    group by 1, 2, 3
  ), merged as (
    select p.gid, p.b, sum(p.c)::bigint as count, sum(p.s) as sum, min(p.mn) as min, max(p.mx) as max, sum(p.inc) as increase,
           array[array_agg(p.k::bigint order by p.k), array_agg(p.n::bigint order by p.k)] as sketch
    from parts p
    group by p.gid, p.b
  ), whole as (
    insert into public.metric_totals (project_id, name, resolution, bucket, count, sum, min, max, increase, sketch)
    select p_project, g.name, p_target, x.b, x.count, x.sum, x.min, x.max, x.increase, x.sketch
    from merged x join groups g on g.gid = x.gid where g.tag_key is null
    order by g.name, x.b
    on conflict (project_id, resolution, name, bucket) do update set
      count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, increase = excluded.increase, sketch = excluded.sketch
      where (metric_totals.count, metric_totals.sum, metric_totals.min, metric_totals.max, metric_totals.increase, metric_totals.sketch)
            is distinct from (excluded.count, excluded.sum, excluded.min, excluded.max, excluded.increase, excluded.sketch)
    returning 1
  ), grouped as (
    insert into public.metric_group_totals (project_id, name, tag_key, tag_value, resolution, bucket, count, sum, min, max, increase, sketch)
    select p_project, g.name, g.tag_key, g.tag_value, p_target, x.b, x.count, x.sum, x.min, x.max, x.increase, x.sketch
    from merged x join groups g on g.gid = x.gid where g.tag_key is not null
    order by g.name, g.tag_key, x.b, g.tag_value
    on conflict (project_id, resolution, name, tag_key, bucket, tag_value) do update set
      count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, increase = excluded.increase, sketch = excluded.sketch
      where (metric_group_totals.count, metric_group_totals.sum, metric_group_totals.min, metric_group_totals.max, metric_group_totals.increase, metric_group_totals.sketch)
            is distinct from (excluded.count, excluded.sum, excluded.min, excluded.max, excluded.increase, excluded.sketch)
    returning 1
  )
  select (select count(*) from whole) + (select count(*) from grouped) into written;
  return written;
end
$$;
comment on function private.rollup_metric_totals(uuid, text, text, interval, timestamptz, timestamptz) is
  'Recomputes a project''s metric totals, whole (metric_totals) and per kept tag value (metric_group_totals), of one resolution over whole buckets, from the series rollups (source null) or the finer totals (aggregate-metrics).';

-- No backfill: buckets without group rows fail the query's completeness check and are read from the
-- series rollups, as before. `select private.backfill_metric_totals(<since>)` (migration ..2300, which
-- runs this function) fills them, for faster panels over older data.
