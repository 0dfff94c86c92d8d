-- Keeps telemetry partitions created ahead on Supabase: pg_cron runs the SQL directly (no edge
-- function needed). Elsewhere the Node scheduler's ensure-partitions job does the same.
do $outer$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not enabled here; the Node scheduler keeps partitions ahead';
    return;
  end if;
  perform cron.schedule('observai-ensure-partitions', '17 * * * *',
    $job$select private.ensure_telemetry_partitions(current_date - 8, current_date + 3)$job$);
end
$outer$;
