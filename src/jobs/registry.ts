import { detectAnomalies } from '../anomalies/detect-anomalies.ts';
import { exportTelemetry } from '../exports/export-telemetry.ts';
import { ensurePartitionsJob } from '../ingest/ensure-partitions-job.ts';
import { aggregateMetrics } from '../metrics/aggregate-metrics.ts';
import { cleanupRetention } from '../retention/cleanup-retention.ts';
import type { Job } from './types.ts';

/**
 * Every background job, by name. The Node scheduler runs them on their interval; on Supabase pg_cron
 * calls the matching cron-<name> edge function (supabase/migrations/*_cron_schedule.sql).
 */
export const JOBS: Record<string, Job> = {
  [aggregateMetrics.name]: aggregateMetrics,
  [cleanupRetention.name]: cleanupRetention,
  [ensurePartitionsJob.name]: ensurePartitionsJob,
  [detectAnomalies.name]: detectAnomalies,
  [exportTelemetry.name]: exportTelemetry,
};
