-- Query metering (issue 24): one row per read of telemetry through the API, rolled up by the
-- meter-usage job into usage_daily as the signal 'queries' (docs/BILLING.md "Metering").
--
-- Invariants:
-- - One query_usage row per answered read (the list of reads is in docs/BILLING.md), naming the
--   organization and project read, the API key or the user who read, and the rows or points returned.
-- - Users can neither write nor read these rows: no grant, RLS with the service role's policy only.
--   The API writes them as the service role after the read succeeded; members read query usage
--   through usage_daily (the usage and statement routes), as they read ingest usage.
-- - usage_daily's 'queries' rows are a pure function of the query_usage rows below the meter's own
--   watermark (private.rollup_state key 'meter-queries'): transaction-id order below the oldest
--   transaction still running, as for ingest_usage, so each row is counted exactly once.
-- - Kept like ingest_usage (no retention job deletes either): the raw record behind the statements.

-- ============================================================================ tables
create table public.query_usage (
  id bigint generated always as identity primary key,
  organization_id uuid not null,
  project_id uuid not null references public.projects (id) on delete cascade,
  -- Who read: an API key, or a signed-in user (the key's creator is not the reader).
  api_key_id uuid,
  user_id uuid,
  at timestamptz not null default now(),
  kind text not null check (kind in ('metrics', 'logs', 'traces', 'anomalies')),
  -- Rows or points the read returned (log lines, spans, traces, series points, episodes).
  rows integer not null default 0 check (rows >= 0),
  tx_id xid8 not null default pg_current_xact_id()
);
alter table public.query_usage enable row level security;
create index query_usage_tx_id_idx on public.query_usage (tx_id);
create index query_usage_project_id_at_idx on public.query_usage (project_id, at);
comment on table public.query_usage is 'One row per read of telemetry through the API (metrics, logs, traces, anomalies): the billing record of queries.';

alter table public.usage_daily drop constraint usage_daily_signal_check;
alter table public.usage_daily add constraint usage_daily_signal_check check (signal in ('metrics', 'logs', 'traces', 'queries'));
comment on column public.usage_daily.signal is 'metrics, logs, traces (ingest: events and bytes) or queries (events: reads; bytes 0; requests: reads).';

-- ============================================================================ grants
revoke all on public.query_usage from anon, authenticated;
grant select, insert, update, delete on public.query_usage to service_role;

-- ============================================================================ policies
create policy "Service role manages query usage" on public.query_usage
  for all to service_role using (true) with check (true);
