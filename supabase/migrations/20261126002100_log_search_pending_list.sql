-- A 16 MB GIN pending list for the full-text index of logs, on every daily partition.
--
-- Inserts into a GIN index with fastupdate (the default) append their entries to the index's pending
-- list, and the insert that finds the list past gin_pending_list_limit (4 MB by default) moves the
-- whole list into the index itself. At 10,000 log lines a second that was one ingest request in about
-- thirteen waiting for a flush: the p95 latency at half the maximum rate (bench:ingest, logs) sat on
-- those flushes, 138-157 ms. With a 16 MB list the flush comes one request in about fifty and the p95
-- fell to 100-108 ms, throughput unchanged (20.6-22.6K -> 22.6-23.8K lines/s, one run each way
-- alternating); 64 MB measured the same. Autovacuum also empties the list. Searches read the pending
-- list sequentially, which is why it is not larger. Turning fastupdate off instead cost a third of
-- the throughput (15K lines/s).
--
-- A partitioned index's storage options cannot be changed (and its partitions' indexes can neither
-- be detached nor re-created without rebuilding every partition's index), so the option is set on
-- each partition's own index: the existing ones here, new ones when ensure_telemetry_partitions
-- creates them.

-- ============================================================================ existing partitions
do $$
declare
  idx regclass;
begin
  for idx in
    select i.inhrelid::regclass from pg_inherits i where i.inhparent = 'public.logs_message_search_idx'::regclass
  loop
    execute format('alter index %s set (gin_pending_list_limit = 16384)', idx);
  end loop;
end
$$;

-- ============================================================================ functions
create or replace function private.ensure_telemetry_partitions(from_day date, to_day date) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  d date;
  t text;
  made integer := 0;
  name text;
  idx regclass;
begin
  for d in select generate_series(from_day, to_day, interval '1 day')::date loop
    foreach t in array array['metric_points', 'metric_histogram_points', 'logs', 'spans'] loop
      name := t || '_' || to_char(d, 'YYYYMMDD');
      if to_regclass('partitions.' || name) is null then
        begin
          execute format('create table partitions.%I partition of public.%I for values from (%L) to (%L)',
                         name, t, (d::timestamp at time zone 'UTC'), ((d + 1)::timestamp at time zone 'UTC'));
          execute format('alter table partitions.%I enable row level security', name);
          execute format('revoke all on partitions.%I from anon, authenticated', name);
          if t = 'logs' then
            -- The partition's full-text index, created with the partition: a 16 MB pending list (migration ..2100).
            select i.inhrelid::regclass into idx
            from pg_inherits i join pg_index x on x.indexrelid = i.inhrelid
            where i.inhparent = 'public.logs_message_search_idx'::regclass and x.indrelid = ('partitions.' || quote_ident(name))::regclass;
            execute format('alter index %s set (gin_pending_list_limit = 16384)', idx);
          end if;
          made := made + 1;
        exception when duplicate_table then
          null; -- created concurrently
        end;
      end if;
    end loop;
  end loop;
  return made;
end
$$;
