import type { Deps } from '../core/deps.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Job, JobSummary } from '../core/job.ts';

export interface JobRun {
  id: number | null;
  job: string;
  outcome: 'ok' | 'error' | 'skipped';
  startedAt: string;
  finishedAt: string;
  summary: JobSummary;
  error: string | null;
}

/**
 * Runs a job under its advisory lock and records the run in job_runs. When another runner holds the
 * lock the run is recorded as skipped. A failing job is recorded with its error and reported, never
 * thrown, so a scheduler loop keeps going.
 */
export async function runJob(deps: Pick<Deps, 'db' | 'logger' | 'clock'>, job: Job, opts: { budgetMs?: number } = {}): Promise<JobRun> {
  const startedAt = deps.clock.now();
  const budgetMs = opts.budgetMs ?? job.defaultBudgetMs ?? Math.min(job.intervalSeconds * 1000 * 0.8, 50_000);
  const log = deps.logger.child({ job: job.name });
  const lock = await deps.db.withAdvisoryLock(job.lockKey, async () => {
    const [run] = await asServiceRole(deps.db, (tx) =>
      tx.query<{ id: string | number }>(`insert into private.job_runs (job, started_at) values ($1, $2) returning id`, [job.name, startedAt]),
    );
    const id = Number(run!.id);
    let outcome: 'ok' | 'error' = 'ok';
    let summary: JobSummary = {};
    let error: string | null = null;
    try {
      summary = await job.run(deps, { now: startedAt, budgetMs });
    } catch (err) {
      outcome = 'error';
      error = err instanceof Error ? err.message : String(err);
      log.error({ err }, 'job failed');
    }
    const finishedAt = deps.clock.now();
    await asServiceRole(deps.db, (tx) =>
      tx.query(`update private.job_runs set finished_at = $2, outcome = $3, summary = $4::text::jsonb, error = $5 where id = $1`, [
        id,
        finishedAt,
        outcome,
        JSON.stringify(summary),
        error,
      ]),
    );
    return { id, outcome, summary, error, finishedAt };
  });
  if (!lock.acquired) {
    const finishedAt = deps.clock.now();
    await asServiceRole(deps.db, (tx) =>
      tx.query(`insert into private.job_runs (job, started_at, finished_at, outcome, summary) values ($1, $2, $3, 'skipped', $4::text::jsonb)`, [
        job.name,
        startedAt,
        finishedAt,
        JSON.stringify({ reason: 'another runner holds the lock' }),
      ]),
    );
    log.info('job skipped: another runner holds the lock');
    return { id: null, job: job.name, outcome: 'skipped', startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), summary: {}, error: null };
  }
  const r = lock.value;
  log.info({ outcome: r.outcome, summary: r.summary, ms: r.finishedAt.getTime() - startedAt.getTime() }, 'job finished');
  return { id: r.id, job: job.name, outcome: r.outcome, startedAt: startedAt.toISOString(), finishedAt: r.finishedAt.toISOString(), summary: r.summary, error: r.error };
}
