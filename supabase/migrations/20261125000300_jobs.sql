-- Background jobs: one row per run, so operators can see what ran, when, and what it did.

-- ============================================================================ tables
create table public.job_runs (
  id bigint generated always as identity primary key,
  job text not null,
  started_at timestamptz not null,
  finished_at timestamptz,
  outcome text not null default 'running' check (outcome in ('running', 'ok', 'error', 'skipped')),
  summary jsonb not null default '{}'::jsonb,
  error text,
  check ((outcome = 'running') = (finished_at is null))
);
alter table public.job_runs enable row level security;
create index job_runs_job_started_at_idx on public.job_runs (job, started_at desc);
comment on table public.job_runs is 'History of background job runs (rollups, anomaly scans, retention); written by the job runner.';

-- ============================================================================ grants
revoke all on public.job_runs from anon, authenticated;
grant select, insert, update, delete on public.job_runs to service_role;

-- ============================================================================ policies
-- Job runs are operational data that belong to no tenant: only the service role sees them.
create policy "Service role can read job runs" on public.job_runs
  for select to service_role using (true);
