-- Internal tables out of the API's schema.
--
-- rollup_state (the rollup job's watermark), job_runs (every job run) and anomaly_detector_states
-- (each series' detector state) are read and written only by the jobs, as the service role. In
-- `public` they sat in the schema the Data API exposes, kept from users only by having no grants and
-- a service-role policy; in `private`, which the Data API does not expose, nobody but the server
-- reaches them by construction. `set schema` keeps the rows, indexes, constraints, identity
-- sequences, grants and policies (an instant catalog change: no rewrite).

alter table public.rollup_state set schema private;
alter table public.job_runs set schema private;
alter table public.anomaly_detector_states set schema private;
