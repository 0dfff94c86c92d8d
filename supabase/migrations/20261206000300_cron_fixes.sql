-- What running the schedules under a real pg_cron showed (tests/e2e/pg-cron.test.ts):
-- 1. Without its two Vault secrets private.invoke_job only raised a warning and returned null, so
--    pg_cron recorded every call as 'succeeded' ('1 row') while no job ran: the one place an operator
--    looks (cron.job_run_details, the dashboard's cron history) said all was well. It now fails, and
--    the run's return_message names the missing secrets.
-- 2. A functions URL stored with a trailing slash ('.../functions/v1/', as copied from a browser) made
--    '.../functions/v1//cron-<job>': the slash is now trimmed.
-- 3. pg_cron keeps a row per run in cron.job_run_details for ever: our jobs add about 3,200 a day
--    (two every minute). A daily job deletes our jobs' rows after 30 days, the retention of
--    public.job_runs (JOB_RUN_RETENTION_DAYS in src/retention/cleanup-retention.ts); other jobs'
--    history is left alone.

-- ============================================================================ helper functions
create or replace function private.invoke_job(job text) returns bigint
language plpgsql security definer set search_path = ''
as $$
declare
  base_url text;
  service_key text;
  missing text[];
  request_id bigint;
begin
  -- Dynamic SQL: vault and net exist only on Supabase (or where the bootstrap's Vault stand-in and
  -- pg_net are), and this function must also compile elsewhere.
  execute 'select decrypted_secret from vault.decrypted_secrets where name = $1' into base_url using 'observai_functions_url';
  execute 'select decrypted_secret from vault.decrypted_secrets where name = $1' into service_key using 'observai_service_role_key';
  missing := array_remove(array[case when base_url is null then 'observai_functions_url' end,
                                case when service_key is null then 'observai_service_role_key' end], null);
  if cardinality(missing) > 0 then
    -- An error, not a warning: pg_cron then records the run as failed, with this message.
    raise exception 'observai: Vault secrets % are not set; job % not invoked', array_to_string(missing, ', '), job
      using hint = 'select vault.create_secret(...) for each, as docs/DEPLOYMENT.md (Supabase, Jobs) shows';
  end if;
  execute 'select net.http_post(url := $1, headers := $2, body := $3, timeout_milliseconds := 60000)'
    into request_id
    using rtrim(base_url, '/') || '/cron-' || job,
          jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key),
          '{}'::jsonb;
  return request_id;
end
$$;
comment on function private.invoke_job(text) is 'Called by pg_cron: POSTs to the cron-<job> edge function with the service role key from Vault; fails (and pg_cron records why) while either secret is missing.';
revoke all on function private.invoke_job(text) from public;

-- ============================================================================ schedule
do $outer$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is not enabled here; there is no cron history to purge';
    return;
  end if;
  perform cron.schedule('observai-purge-cron-history', '27 3 * * *', $job$
    delete from cron.job_run_details
    where end_time < now() - interval '30 days'
      and jobid in (select jobid from cron.job where jobname like 'observai-%')
  $job$);
end
$outer$;
