import { dispatchNotifications } from '../alerts/dispatch-notifications.ts';
import { evaluateAlerts } from '../alerts/evaluate-alerts.ts';
import { detectAnomalies } from '../anomalies/detect-anomalies.ts';
import type { Job } from '../core/job.ts';
import { exportTelemetry } from '../exports/export-telemetry.ts';
import { ensurePartitionsJob } from '../ingest/ensure-partitions-job.ts';
import { aggregateMetrics } from '../metrics/aggregate-metrics.ts';
import { cleanupRetention } from '../retention/cleanup-retention.ts';

/**
 * Jobs that run in JavaScript: the Node scheduler runs them on their interval, and on Supabase
 * pg_cron calls each one's cron-<name> edge function (private.invoke_job). Their functions are in the
 * function table (src/app/functions.ts), derived from this list.
 */
export const EDGE_JOBS: readonly Job[] = [aggregateMetrics, detectAnomalies, cleanupRetention, exportTelemetry, evaluateAlerts, dispatchNotifications];

/**
 * Every background job, by name. The Node scheduler runs them all; on Supabase pg_cron runs the
 * SQL-only ones (ensure-partitions) as SQL and the others through their edge function
 * (tests/e2e/pg-cron.test.ts checks the schedules the migrations register against this table).
 */
export const JOBS: Record<string, Job> = Object.fromEntries([...EDGE_JOBS, ensurePartitionsJob].map((job) => [job.name, job]));
