/**
 * The rollup resolutions and the origin their buckets align to: shared by the rollup job
 * (aggregate-metrics.ts), the query planner and retention, so none of them imports another's file
 * for a constant.
 */
export const RESOLUTIONS = [
  { name: '1m', interval: '1 minute', ms: 60_000 },
  { name: '5m', interval: '5 minutes', ms: 300_000 },
  { name: '1h', interval: '1 hour', ms: 3_600_000 },
  { name: '1d', interval: '1 day', ms: 86_400_000 },
] as const;

/** Rollup buckets and query steps are aligned to this origin (date_bin's); ORIGIN_MS is the same instant. */
export const ORIGIN = "timestamptz '2000-01-01 00:00:00+00'";
export const ORIGIN_MS = Date.UTC(2000, 0, 1);

/**
 * The resolutions metric totals are kept at. Not 1m: those would be read from the series' 1m rows,
 * which cost as much as the 5m rollup itself, while the panels totals are for (long ranges over many
 * series) use coarser steps; a 1m panel reads the series rows (figures: docs/perf.md, bench:query).
 */
export const TOTALS_RESOLUTIONS: readonly string[] = ['5m', '1h', '1d'];
