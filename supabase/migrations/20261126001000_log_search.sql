-- Log search: the indexes the logs function reads through (src/logs/). Measured by `npm run bench:logs`.
--   logs_id_idx                     one log by id (GET /logs/:id) and the live tail's "ids after the cursor";
--   logs_project_id_service_time_idx  service filters (the most common narrowing) and a log's context
--                                   (the lines before and after it from the same service), newest or oldest first.
-- The full-text index (to_tsvector('simple', message)), (project_id, time desc, id desc) and trace_id come from
-- 20261125000500_telemetry.sql. Indexes on a partitioned table cascade to every partition, present and future.
create index if not exists logs_id_idx on public.logs (id);
create index if not exists logs_project_id_service_time_idx on public.logs (project_id, service, time desc, id desc);

-- Full text: every ASCII punctuation character becomes a space before indexing, so words inside
-- identifiers, paths, URLs and stack frames are findable on their own (src/logs/search-syntax.ts keeps
-- the same expression and splits queries the same way). Replaces the plain to_tsvector index.
drop index if exists public.logs_message_fts_idx;
create index logs_message_search_idx on public.logs using gin (to_tsvector('simple'::regconfig, translate(message, '.:/?=&_-@()[]{}<>,;"''|\+*#$%^~!`', '                                ')));

-- The path log reads take (docs/adr/0003-log-search-view.md). Under RLS every condition of the caller
-- that is not leakproof (the full-text match `@@`, jsonb operators) is evaluated after the policy and
-- never as an index condition, so a rare-word search scans every row of the range instead of using the
-- GIN index (measured: 447 ms instead of 8 ms over 200,000 lines). This view holds the very predicate
-- of the "Members can read logs of projects they may see" policy, evaluated for the caller (auth.uid()
-- and the API-key claims, through the same helper), as an ordinary condition the planner can combine
-- with indexes. It is not exposed by the Data API (schema private) and returns nothing a policy would hide.
create view private.visible_logs as
  select l.* from public.logs l where l.project_id in (select private.readable_project_ids());
comment on view private.visible_logs is 'Logs the caller may read (the logs select policy as a plain condition, so full-text search can use its index). See docs/adr/0003-log-search-view.md.';
revoke all on private.visible_logs from public, anon, authenticated;
grant select on private.visible_logs to authenticated, service_role;
