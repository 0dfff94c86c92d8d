import type { Deps } from '../core/deps.ts';
import { runJob } from '../jobs/run-job.ts';
import type { Job, JobContext } from '../core/job.ts';
import { claimNextRun, executeRun, type RunOutcome } from './run-export.ts';
import { scheduleDailyRuns } from './schedule-daily-runs.ts';
import { createSecretBox } from '../core/secret-box.ts';

/**
 * The export-telemetry job (every 5 minutes; cron-export-telemetry on Supabase):
 * 1. creates the daily runs that enabled schedules owe for completed UTC days (once per day);
 * 2. executes due runs one after another (queued ones, failed ones whose automatic retry is due,
 *    running ones whose lease lapsed) until the budget is spent, always finishing at least one part;
 *    a run cut short by the budget keeps its cursor and resumes on the next invocation.
 *
 * The job needs the export encryption key from config and the outbound guard, which the Job
 * interface does not pass (its deps are db, logger and clock). Every caller hands runJob the full
 * Deps (the Node scheduler, the cron function, the kick below), so both are read from there; without
 * the key the job does nothing, and without the guard it refuses to run rather than connect unguarded.
 */
export const exportTelemetry: Job = {
  name: 'export-telemetry',
  intervalSeconds: 300,
  lockKey: 7_100_012,
  run: (deps, ctx) => runExports(deps, ctx),
};

export async function runExports(
  deps: Pick<Deps, 'db' | 'logger' | 'clock'> & Partial<Pick<Deps, 'config' | 'outbound'>>,
  { now, budgetMs }: JobContext,
): Promise<Record<string, unknown>> {
  const deadline = performance.now() + budgetMs;
  const key = deps.config?.exports.encryptionKey;
  if (!key) return { skipped: 'SECRET_ENCRYPTION_KEY is not set' };
  const { outbound } = deps;
  if (!outbound) throw new Error('export-telemetry needs deps.outbound (the outbound guard); it was called with partial deps');
  const scheduled = await scheduleDailyRuns(deps, now);
  const box = await createSecretBox(key);
  const outcomes: Record<RunOutcome, number> = { succeeded: 0, failed: 0, yielded: 0, lost: 0 };
  for (let first = true; first || performance.now() < deadline; first = false) {
    const run = await claimNextRun(deps.db, deps.clock.now());
    if (!run) break;
    const outcome = await executeRun({ ...deps, outbound }, box, run, deadline);
    outcomes[outcome] += 1;
    if (outcome === 'yielded') break;
  }
  return { scheduledRuns: scheduled.runs, ...outcomes };
}

/**
 * Starts the job now in the background (after a run was requested or retried) instead of waiting
 * for the next interval. The advisory lock keeps it from overlapping a scheduled invocation; if one
 * is running, it picks the run up.
 */
export function kickExports(deps: Deps): void {
  deps.defer(runJob(deps, exportTelemetry));
}
