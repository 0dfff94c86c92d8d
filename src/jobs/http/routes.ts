import { Hono } from 'hono';
import { z } from 'zod';
import { authorize } from '../../auth/authenticate.ts';
import type { Deps } from '../../core/deps.ts';
import type { AppEnv } from '../../http/context.ts';
import { parseBody } from '../../http/validate.ts';
import { runJob } from '../run-job.ts';
import type { Job } from '../../core/job.ts';

/**
 * What pg_cron (or an operator) may say about one run: `budgetMs` bounds it below the job's own
 * budget, e.g. a dispatcher run that ticks for five seconds instead of most of a minute.
 */
const CronRun = z.strictObject({ budgetMs: z.number().int().min(0).max(300_000).optional() });

/** A cron-<job> function: POST runs the job once (service role only) and returns the run record. */
export function cronRoutes(job: Job) {
  return (deps: Deps): Hono<AppEnv> => {
    const app = new Hono<AppEnv>();
    app.post('/', async (c) => {
      authorize(c.get('identity'), ['service']);
      const { budgetMs } = await parseBody(c, CronRun);
      const run = await runJob(deps, job, budgetMs === undefined ? {} : { budgetMs });
      return c.json({ run }, run.outcome === 'error' ? 500 : 200);
    });
    return app;
  };
}
