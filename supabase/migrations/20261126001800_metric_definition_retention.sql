-- Per-metric retention of rollups: a metric definition may keep any rollup resolution longer or
-- shorter than the defaults (1m 30 d, 5m 90 d, 1h 1 y, 1d 3 y). {"1m": 7, "1h": 730}: days per
-- resolution, absent keys use the defaults. Raw points keep the project-wide 7 days (they go by
-- whole daily partitions). Applied by cleanup-retention (src/metrics/metric-retention.ts).
alter table public.metric_definitions
  add column retention_days jsonb not null default '{}'::jsonb
    check (jsonb_typeof(retention_days) = 'object');
comment on column public.metric_definitions.retention_days is 'Days to keep each rollup resolution of this metric, e.g. {"1m": 7, "1h": 730}; absent resolutions keep the defaults.';
grant insert (retention_days), update (retention_days) on public.metric_definitions to authenticated;
