import { Hono } from 'hono';
import { authorize } from '../../auth/authenticate.ts';
import type { Deps } from '../../core/deps.ts';
import type { AppEnv } from '../../http/context.ts';
import { runJob } from '../run-job.ts';
import type { Job } from '../../core/job.ts';

/** A cron-<job> function: POST runs the job once (service role only) and returns the run record. */
export function cronRoutes(job: Job) {
  return (deps: Deps): Hono<AppEnv> => {
    const app = new Hono<AppEnv>();
    app.post('/', async (c) => {
      authorize(c.get('identity'), ['service']);
      const run = await runJob(deps, job);
      return c.json({ run }, run.outcome === 'error' ? 500 : 200);
    });
    return app;
  };
}
