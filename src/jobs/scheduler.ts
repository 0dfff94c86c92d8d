import type { Deps } from '../core/deps.ts';
import { runJob } from './run-job.ts';
import type { Job } from '../core/job.ts';

/**
 * The Node modes' stand-in for pg_cron: runs each job every intervalSeconds, aligned to the
 * interval (as cron is), never two runs of one job at once in this process (the advisory lock
 * covers other processes).
 */
export function startScheduler(deps: Pick<Deps, 'db' | 'logger' | 'clock'>, jobs: Job[]): { stop(): Promise<void> } {
  let stopped = false;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const running = new Set<Promise<unknown>>();
  const schedule = (job: Job) => {
    if (stopped) return;
    const period = job.intervalSeconds * 1000;
    const now = deps.clock.now().getTime();
    const delay = period - (now % period);
    const timer = setTimeout(() => {
      timers.delete(timer);
      const p = runJob(deps, job)
        .catch((err) => deps.logger.error({ err, job: job.name }, 'scheduler could not run job'))
        .finally(() => {
          running.delete(p);
          schedule(job);
        });
      running.add(p);
    }, delay);
    timers.add(timer);
  };
  for (const job of jobs) schedule(job);
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([...running]);
    },
  };
}
