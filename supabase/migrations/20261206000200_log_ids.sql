-- Log ids that reveal nothing about other tenants (docs/adr/0006-log-ids.md).
--
-- public.logs.id is the value of one sequence shared by every project, so the difference between two
-- of a tenant's log ids counted the lines every other tenant wrote in between. The column stays as it
-- is (the live tail reads by it, keyset pages break ties on it, logs_id_idx finds a line by it: no row
-- is rewritten and ingest writes exactly what it wrote before); what changes is who sees it:
--   - the API shows each line under a keyed permutation of its id (src/logs/log-ids.ts), keyed by the
--     installation's secret below, and translates ids it is given back;
--   - the Data API (role authenticated) may no longer read the column at all;
--   - exports page logs by (time, event_key), the project's own unique key, so the progress cursor
--     that export_runs shows its readers holds no internal id; runs under way are moved onto it.
--
-- Invariants:
--   - private.server_secrets holds one row 'instance' from the first time this migration runs and
--     never changes: public log ids and signed cursors derive from it, so replacing it renames every
--     log line (bookmarked ids, exported ids) and voids every cursor handed out;
--   - authenticated may select every column of public.logs but id.

-- ============================================================================ tables
create table private.server_secrets (
  name text primary key,
  secret bytea not null check (octet_length(secret) >= 32),
  created_at timestamptz not null default now()
);
alter table private.server_secrets enable row level security;
comment on table private.server_secrets is 'Secrets the server derives keys from (cursor signatures, public log ids); readable only by the database owner, the role the server connects as. Never replace a row: see 20261206000200_log_ids.sql.';
revoke all on private.server_secrets from public, anon, authenticated, service_role;

-- 32 bytes from the server's strong random source (gen_random_uuid: 122 random bits each, 244 in all).
insert into private.server_secrets (name, secret)
values ('instance', uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()))
on conflict (name) do nothing;

-- ============================================================================ grants
-- Column privileges: a select naming id (or *) as authenticated is refused; every other column reads
-- as before, under the same policy. Our own reads go through private.visible_logs (not exposed).
revoke select on public.logs from authenticated;
grant select (project_id, time, level, severity_number, service, message, attributes, resource, trace_id, span_id, event_key)
  on public.logs to authenticated;

-- ============================================================================ data
-- Export runs of logs under way resume after [time, event_key] instead of [time, id]: the line their
-- cursor named, looked up by id in its project. A line retention has removed since is replaced by
-- (its time, -1), which resumes before every line of that microsecond: at worst a few lines sharing
-- it are written twice, none is skipped.
update public.export_runs r
set progress = jsonb_set(r.progress, '{after,1}', to_jsonb(coalesce(
  (select l.event_key::text from public.logs l
   where l.project_id = r.project_id and l.id = (r.progress -> 'after' ->> 1)::bigint
     and l.time = (r.progress -> 'after' ->> 0)::timestamptz),
  '-1')))
where r.signal = 'logs' and jsonb_typeof(r.progress -> 'after') = 'array';
