import type { Deps } from './deps.ts';

export interface JobContext {
  /** The time the run is for; jobs never read the clock themselves. */
  now: Date;
  /** Stop taking on new work after this many milliseconds; the next run resumes. */
  budgetMs: number;
}

export type JobSummary = Record<string, unknown>;

/**
 * A job is a plain function: idempotent, resumable from its own watermark, bounded by budgetMs.
 * The runner adds the advisory lock and the job_runs record.
 */
export interface Job {
  name: string;
  /** How often the schedulers run it (the Node scheduler here, pg_cron on Supabase). */
  intervalSeconds: number;
  /** Advisory lock key, unique per job. */
  lockKey: number;
  /**
   * A run's budget when the scheduler names none; default 80 % of the interval (at most 50 s). A job
   * that should work all minute (webhook delivery polls every 250 ms) asks for more.
   */
  defaultBudgetMs?: number;
  run(deps: Pick<Deps, 'db' | 'logger' | 'clock'>, ctx: JobContext): Promise<JobSummary>;
}
