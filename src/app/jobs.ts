import { dispatchNotifications } from '../alerts/dispatch-notifications.ts';
import { evaluateAlerts } from '../alerts/evaluate-alerts.ts';
import { detectAnomalies } from '../anomalies/detect-anomalies.ts';
import type { Job } from '../core/job.ts';
import { runJob } from '../jobs/run-job.ts';
import { exportTelemetry } from '../exports/export-telemetry.ts';
import { ensurePartitionsJob } from '../ingest/ensure-partitions-job.ts';
import { aggregateMetrics } from '../metrics/aggregate-metrics.ts';
import { meterUsage } from '../billing/meter-usage.ts';
import { cleanupRetention } from '../retention/cleanup-retention.ts';
import { escalateIncidents } from '../oncall/escalate-incidents.ts';
import { deliverWebhooks } from '../webhooks/deliver-webhooks.ts';

/**
 * Alert evaluation brings the rollups up to date first. Both jobs fire at the same minute boundary,
 * and a rule must see the minute that just ended whichever started first: evaluated before the
 * rollup, a threshold crossed in that minute waited a whole minute more (bench:alerts: p95 143 s
 * against 92 s). When the scheduled rollup holds its lock, the evaluation waits for it (a few
 * seconds at most) and runs the now cheap catch-up again.
 */
const ROLLUP_WAIT_TRIES = 10;
export const evaluateAlertsAfterRollups: Job = {
  ...evaluateAlerts,
  async run(deps, ctx) {
    let rollup = 'skipped';
    for (let i = 0; i < ROLLUP_WAIT_TRIES && rollup === 'skipped'; i++) {
      if (i > 0) await deps.clock.sleep(1000);
      rollup = (await runJob(deps, aggregateMetrics, { budgetMs: Math.min(ctx.budgetMs / 2, 20_000) })).outcome;
    }
    return { rollup, ...(await evaluateAlerts.run(deps, ctx)) };
  },
};

/**
 * Jobs that run in JavaScript: the Node scheduler runs them on their interval, and on Supabase
 * pg_cron calls each one's cron-<name> edge function (private.invoke_job). Their functions are in the
 * function table (src/app/functions.ts), derived from this list.
 */
export const EDGE_JOBS: readonly Job[] = [aggregateMetrics, detectAnomalies, cleanupRetention, exportTelemetry, evaluateAlertsAfterRollups, dispatchNotifications, deliverWebhooks, escalateIncidents, meterUsage];

/**
 * Every background job, by name. The Node scheduler runs them all; on Supabase pg_cron runs the
 * SQL-only ones (ensure-partitions) as SQL and the others through their edge function
 * (tests/e2e/pg-cron.test.ts checks the schedules the migrations register against this table).
 */
export const JOBS: Record<string, Job> = Object.fromEntries([...EDGE_JOBS, ensurePartitionsJob].map((job) => [job.name, job]));
