-- The ingest-limit ceiling applies to end users only, as it says.
--
-- private.project_ingest_settings_within_ceiling (20261206000100_column_grants.sql) returned early
-- when `not private.is_end_user()`. On a connection without JWT claims (a migration, an operator in
-- psql, a benchmark's setup) auth.role() is null, so is_end_user() is null, `not null` is null, and the
-- trigger went on to refuse: the operator its message names could not raise a limit from psql.
-- Only a request for a user or an API key (is_end_user() true) is held to the ceiling now.

create or replace function private.project_ingest_settings_within_ceiling() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  raised text;
begin
  -- is_end_user() is null on a connection without JWT claims (a migration, an operator in psql, the
  -- benchmarks' setup), which is not an end user: only a true answer is held to the ceiling.
  if private.is_end_user() is not true then
    return new;
  end if;
  raised := case
    when new.max_series > greatest(10000, case when tg_op = 'UPDATE' then old.max_series else 0 end)
      then format('max_series %s is above the ceiling of 10000', new.max_series)
    when new.requests_per_minute > greatest(6000, case when tg_op = 'UPDATE' then old.requests_per_minute else 0 end)
      then format('requests_per_minute %s is above the ceiling of 6000', new.requests_per_minute)
    when new.events_per_minute > greatest(6000000, case when tg_op = 'UPDATE' then old.events_per_minute else 0 end)
      then format('events_per_minute %s is above the ceiling of 6000000', new.events_per_minute)
  end;
  if raised is not null then
    raise exception '%; only the operator can raise a limit above it', raised using errcode = 'OA403';
  end if;
  return new;
end
$$;
