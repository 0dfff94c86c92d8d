-- Rollup sketches as a two-row bigint array instead of jsonb (src/metrics/sketch.ts).
--
-- A percentile panel reads thousands of sketches (p99 of 100 series over 30 days: 3,000 daily
-- sketches, 530,000 buckets). Printing them from jsonb cost Postgres about 100 ms (every count is a
-- jsonb numeric, every key an escaped string); the same buckets as integers print in about half that,
-- and the rollup job merges them with unnest instead of jsonb_each_text.
--
-- Encoding: sketch = {{rank, ...}, {count, ...}}, ranks ascending, each count (positive) under its
-- rank; '{}' for an empty sketch. A rank is the bucket in value order:
--   1000000 + i  for v > 0 in bucket i = ceil(log_gamma(v))  (was key "p<i>")
--   0            for |v| <= 1e-9                              (was key "z")
--   -1000000 - i for v < 0, bucket i of |v|                  (was key "n<i>")
--
-- The column changes type in place (one rewrite of each partition, no dead rows left behind, same
-- column name); the conversion function exists only for the rewrite.

-- ============================================================================ conversion
create function private.sketch_from_jsonb(s jsonb) returns bigint[]
language sql immutable set search_path = ''
as $$
  select case when count(*) = 0 then '{}'::bigint[]
              else array[array_agg(k.rank order by k.rank), array_agg(k.n order by k.rank)] end
  from (
    select case when j.key = 'z' then 0
                when left(j.key, 1) = 'p' then 1000000 + substr(j.key, 2)::bigint
                else -1000000 - substr(j.key, 2)::bigint end as rank,
           j.value::bigint as n
    from jsonb_each_text(s) j
    where j.value::bigint > 0
  ) k
$$;

alter table public.metric_rollups alter column sketch type bigint[] using private.sketch_from_jsonb(sketch);

drop function private.sketch_from_jsonb(jsonb);

-- ============================================================================ constraints
alter table public.metric_rollups add constraint metric_rollups_sketch_shape
  check (cardinality(sketch) = 0 or (array_ndims(sketch) = 2 and array_length(sketch, 1) = 2));

comment on column public.metric_rollups.sketch is
  'Quantile sketch {{ranks}, {counts}}: ranks ascending, 1000000 + i for v > 0 (i = ceil(log_gamma v)), 0 for zero, -1000000 - i for v < 0; counts positive.';
