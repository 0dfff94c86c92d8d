-- Schedules the JS jobs with pg_cron where the database has it (Supabase), calling the cron-* edge
-- functions through pg_net with the service role key kept in Vault. Where pg_cron is absent (plain
-- Postgres without it preloaded, PGlite) this does nothing: the Node scheduler runs the same jobs.
--
-- On Supabase, store two secrets once (see docs/DEPLOYMENT.md):
--   select vault.create_secret('https://<ref>.supabase.co/functions/v1', 'observai_functions_url');
--   select vault.create_secret('<service role key>', 'observai_service_role_key');

create function private.invoke_job(job text) returns bigint
language plpgsql security definer set search_path = ''
as $$
declare
  base_url text;
  service_key text;
  request_id bigint;
begin
  -- Dynamic SQL: vault and net exist only on Supabase, and this function must also compile elsewhere.
  execute 'select decrypted_secret from vault.decrypted_secrets where name = $1' into base_url using 'observai_functions_url';
  execute 'select decrypted_secret from vault.decrypted_secrets where name = $1' into service_key using 'observai_service_role_key';
  if base_url is null or service_key is null then
    raise warning 'observai: vault secrets observai_functions_url / observai_service_role_key are not set; job % not invoked', job;
    return null;
  end if;
  execute 'select net.http_post(url := $1, headers := $2, body := $3, timeout_milliseconds := 60000)'
    into request_id
    using base_url || '/cron-' || job,
          jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key),
          '{}'::jsonb;
  return request_id;
end
$$;
comment on function private.invoke_job(text) is 'Called by pg_cron: POSTs to the cron-<job> edge function with the service role key from Vault.';
revoke all on function private.invoke_job(text) from public;

do $outer$
begin
  if not exists (select 1 from pg_available_extensions where name = 'pg_cron') then
    raise notice 'pg_cron is not installed here; the Node scheduler runs the jobs instead';
    return;
  end if;
  begin
    create extension if not exists pg_cron;
    create extension if not exists pg_net;
  exception when others then
    raise notice 'pg_cron or pg_net cannot be enabled here (%); the Node scheduler runs the jobs instead', sqlerrm;
    return;
  end;
  -- Keep in step with src/jobs/registry.ts (intervals) as jobs land.
  perform cron.schedule('observai-cleanup-retention', '7 * * * *', $job$select private.invoke_job('cleanup-retention')$job$);
end
$outer$;
