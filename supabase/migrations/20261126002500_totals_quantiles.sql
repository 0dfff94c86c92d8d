-- The p50, p90, p95 and p99 of every metric totals row, kept beside its sketch.
--
-- A percentile panel whose step is its resolution's and whose groups are totals rows (the whole
-- metric, or a kept tag's values) reads one sketch per output point and walks it for one quantile.
-- Sending the sketch and walking it in the gateway was most of such a panel's time (a week of hourly
-- sketches per service: 1.96 MB of text). Read from these columns, it is one float per point.
--
-- Invariants:
-- - quantiles = {p50, p90, p95, p99} of the row's sketch by the nearest-rank definition, each the
--   value of the bucket reached (src/metrics/sketch.ts: MergedSketch.quantile, bucketValue), nulls
--   for an empty sketch. A stored generated column: computed when the row is written, never stale.
-- - Only rows that are a whole output point are read this way (src/metrics/query-metrics.ts);
--   merging rows still merges their sketches.

-- Gamma as the gateway computes it, in double precision: (1 + 0.005) / (1 - 0.005).
create function private.sketch_quantiles(sketch bigint[]) returns double precision[]
language plpgsql immutable parallel safe strict
as $$
declare
  n integer := coalesce(array_length(sketch, 2), 0);
  g double precision := 1.005::double precision / 0.995::double precision;
  total double precision := 0;
  targets double precision[];
  out double precision[] := array[null, null, null, null]::double precision[];
  seen double precision := 0;
  j integer := 1;
  r bigint;
begin
  if n = 0 then
    return out;
  end if;
  for i in 1..n loop
    total := total + sketch[2][i];
  end loop;
  if total <= 0 then
    return out;
  end if;
  targets := array[greatest(1, ceil(0.5 * total)), greatest(1, ceil(0.9 * total)), greatest(1, ceil(0.95 * total)), greatest(1, ceil(0.99 * total))];
  for i in 1..n loop
    seen := seen + sketch[2][i];
    while j <= 4 and seen >= targets[j] loop
      r := sketch[1][i];
      out[j] := case when r = 0 then 0
                     when r > 0 then 2 * power(g, (r - 1000000)::double precision) / (g + 1)
                     else -2 * power(g, (-1000000 - r)::double precision) / (g + 1) end;
      j := j + 1;
    end loop;
    exit when j > 4;
  end loop;
  return out;
end
$$;
comment on function private.sketch_quantiles(bigint[]) is
  'The {p50, p90, p95, p99} of a stored sketch (nearest rank, each the value its bucket stands for), as the gateway reads them from merged sketches.';
revoke all on function private.sketch_quantiles(bigint[]) from public;
-- The generated columns are computed as the writing role: the rollup job's service_role.
grant execute on function private.sketch_quantiles(bigint[]) to service_role;

alter table public.metric_totals add column quantiles double precision[] generated always as (private.sketch_quantiles(sketch)) stored;
alter table public.metric_group_totals add column quantiles double precision[] generated always as (private.sketch_quantiles(sketch)) stored;
comment on column public.metric_totals.quantiles is '{p50, p90, p95, p99} of the sketch (generated).';
comment on column public.metric_group_totals.quantiles is '{p50, p90, p95, p99} of the sketch (generated).';
