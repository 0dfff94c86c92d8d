-- Traces: an index for reading a project's spans by time. Trace search (newest first, any filter)
-- and per-service statistics read the spans of one project in a time range; without this index
-- Postgres can only narrow by time to whole daily partitions (or, with a service, use
-- spans_project_id_service_start_idx), so a one-hour search read a full day of spans.
-- Measured with bench/traces.ts (2.5M spans + 2.5M logs over 7 days; figures in docs/API.md, Traces):
-- search p50 by operation 94 -> 21 ms, by status 130 -> 19 ms, second page of an hour 241 -> 48 ms,
-- service statistics over an hour 144 -> 15 ms; the cost is about 7-13% of the span INSERT
-- statement's throughput (log ingest is untouched).

-- ============================================================================ tables
create index spans_project_id_start_idx on public.spans (project_id, start_time desc);
comment on index public.spans_project_id_start_idx is 'A project''s spans newest first: trace search without a service filter and span statistics over a time range.';
