import type { Job } from '../jobs/types.ts';
import { asServiceRole } from '../db/scoped.ts';
import { applyMetricRetention } from '../metrics/metric-retention.ts';

/** How long finished invitations and job history are kept. */
export const INVITATION_RETENTION_DAYS = 30;
export const JOB_RUN_RETENTION_DAYS = 30;
const BATCH = 5_000;

/**
 * Retention: metric raw partitions and rollups per resolution (src/metrics/metric-retention.ts),
 * invitations that ended (accepted, revoked or expired) and job run history older than their
 * retention. Deletes in bounded batches until done or out of budget. Logs and spans retention (per
 * level) joins this job with the logs issue.
 */
export const cleanupRetention: Job = {
  name: 'cleanup-retention',
  intervalSeconds: 3600,
  lockKey: 7_100_003,
  async run(deps, { now, budgetMs }) {
    const deadline = performance.now() + budgetMs;
    const invitationCutoff = new Date(now.getTime() - INVITATION_RETENTION_DAYS * 86_400_000);
    const jobRunCutoff = new Date(now.getTime() - JOB_RUN_RETENTION_DAYS * 86_400_000);
    const batches: Array<[string, string, Date]> = [
      [
        'invitations',
        `delete from public.invitations where id in (
           select id from public.invitations
           where coalesce(accepted_at, revoked_at, expires_at) < $1 limit ${BATCH})`,
        invitationCutoff,
      ],
      [
        'jobRuns',
        `delete from public.job_runs where id in (
           select id from public.job_runs where started_at < $1 and outcome <> 'running' limit ${BATCH})`,
        jobRunCutoff,
      ],
    ];
    const deleted: Record<string, number> = {};
    let complete = true;
    for (const [name, sql, cutoff] of batches) {
      deleted[name] = 0;
      for (;;) {
        if (performance.now() > deadline) {
          complete = false;
          break;
        }
        const rows = await asServiceRole(deps.db, (tx) => tx.query(`${sql} returning 1`, [cutoff]));
        deleted[name] += rows.length;
        if (rows.length < BATCH) break;
      }
    }
    const metrics = await applyMetricRetention(deps.db, now, deadline);
    return { deleted, metrics, complete: complete && metrics.complete };
  },
};
