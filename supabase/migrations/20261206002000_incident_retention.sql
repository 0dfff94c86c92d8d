-- Retention of incident response (cleanup-retention, src/retention/cleanup-retention.ts): resolved
-- incidents 400 days after their resolution (with their timeline and pages, on delete cascade: a
-- year of MTTA/MTTR stays answerable), maintenance windows 90 days after they ended. Open incidents
-- and windows still to come are never removed.
create index incidents_resolved_at_idx on public.incidents (resolved_at) where state = 'resolved';
create index maintenance_windows_ends_at_idx on public.maintenance_windows (ends_at);
