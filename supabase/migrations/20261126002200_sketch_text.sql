-- Rollup sketches also as text, written once when the row is, for the percentile queries to read.
--
-- A percentile panel returns thousands of sketches (p50 of 100 series over 7 days at 1h: 16,700).
-- Printing them from bigint[] (array_out, int8out per element) was most of the statement: 56 ms,
-- against 14 ms for the same rows without sketches and 20 ms reading the same sketches stored as
-- text (EXPLAIN ANALYZE on bench:query's data). The text form is also smaller than the array (59
-- against 109 MB for the 1h rows): small integers take a few characters, not 8 bytes each.
-- The rollup job keeps merging the bigint[] column; this one is generated from it, so the two never
-- disagree.

-- array_out is only stable because some element types print by session settings; bigint does not.
-- It runs for every rollup row written, so it is as cheap as a function gets (per call, 500,000
-- calls: 0.75 us, against 1.7 us with a `set search_path` clause and 2.1 us as an SQL function, which
-- is not inlined when declared more immutable than its body). It names no table or function, only
-- built-in types, and only the rollup job (service role) writes the rows that evaluate it.
create function private.sketch_text(sketch bigint[]) returns text
language plpgsql immutable strict parallel safe
as $$ begin return sketch::text; end $$;
comment on function private.sketch_text(bigint[]) is 'A stored sketch printed as {{ranks},{counts}} (for metric_rollups.sketch_text).';
revoke all on function private.sketch_text(bigint[]) from public;
grant execute on function private.sketch_text(bigint[]) to service_role;

alter table public.metric_rollups add column sketch_text text generated always as (private.sketch_text(sketch)) stored;
comment on column public.metric_rollups.sketch_text is 'The sketch as text, {{ranks},{counts}}, generated from sketch: what percentile queries read.';
