import { Hono } from 'hono';
import { z } from 'zod';
import { authorize } from '../../auth/authenticate.ts';
import type { Deps } from '../../core/deps.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe, ErrorEnvelope } from '../../http/openapi.ts';
import { parseBody } from '../../http/validate.ts';
import { runJob } from '../run-job.ts';
import type { Job } from '../../core/job.ts';

/**
 * What pg_cron (or an operator) may say about one run: `budgetMs` bounds it below the job's own
 * budget, e.g. a dispatcher run that ticks for five seconds instead of most of a minute.
 */
const CronRun = z.strictObject({ budgetMs: z.number().int().min(0).max(300_000).optional() });

/** One run as recorded in job_runs; the summary is the job's own (what it did, its watermark). */
const JobRunResponse = z.object({
  run: z
    .object({
      id: z.number().int().nullable(),
      job: z.string(),
      outcome: z.enum(['ok', 'error', 'skipped']),
      startedAt: z.iso.datetime(),
      finishedAt: z.iso.datetime(),
      summary: z.record(z.string(), z.unknown()),
      error: z.string().nullable(),
    })
    .meta({ id: 'JobRun' }),
});

/** A cron-<job> function: POST runs the job once (service role only) and returns the run record. */
export function cronRoutes(job: Job) {
  return (deps: Deps): Hono<AppEnv> => {
    const app = new Hono<AppEnv>();
    const doc = describe({
      summary: `Run the ${job.name} job once`,
      description: 'pg_cron (or an operator) calls this on the job\'s schedule. A run that fails is recorded and answered with 500 and the run record; one that finds the job running elsewhere is recorded as skipped.',
      tags: ['cron'],
      auth: ['service'],
      body: { required: false, content: { 'application/json': CronRun } },
      // A run the job reported as failed answers its record; anything else failing, the error envelope.
      responses: { 200: JobRunResponse, 500: z.union([JobRunResponse, ErrorEnvelope]) },
    });
    app.post('/', doc, async (c) => {
      authorize(c.get('identity'), ['service']);
      const { budgetMs } = await parseBody(c, CronRun);
      const run = await runJob(deps, job, budgetMs === undefined ? {} : { budgetMs });
      return c.json({ run }, run.outcome === 'error' ? 500 : 200);
    });
    return app;
  };
}
