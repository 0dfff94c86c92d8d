import type { Deps } from '../core/deps.ts';
import type { Job, JobContext } from '../core/job.ts';
import { asServiceRole } from '../db/scoped.ts';
import { applyMetricRetention } from '../metrics/metric-retention.ts';
import { applyLogRetention, summarizeLogRetention } from './log-retention.ts';

/** How long finished invitations and job history are kept. */
export const INVITATION_RETENTION_DAYS = 30;
export const JOB_RUN_RETENTION_DAYS = 30;
/** How long closed anomaly episodes and incidents are kept after they ended (feedback lives in the detector state, not here). */
export const ANOMALY_RETENTION_DAYS = 90;
/** How long webhook events are kept, with their messages and attempts (a message still due is kept). */
export const WEBHOOK_RETENTION_DAYS = 30;
/** Alerting: the notification log (finished notifications, with their attempts) and the alert history. */
export const ALERT_NOTIFICATION_RETENTION_DAYS = 30;
export const ALERT_HISTORY_RETENTION_DAYS = 90;
/** Incident response: resolved incidents (a year of MTTA/MTTR stays answerable) and ended maintenance windows. */
export const INCIDENT_RETENTION_DAYS = 400;
export const MAINTENANCE_RETENTION_DAYS = 90;
const BATCH = 5_000;

/**
 * Retention: metric raw partitions and rollups per resolution (src/metrics/metric-retention.ts),
 * logs per project and level and spans per project (src/retention/log-retention.ts), invitations
 * that ended (accepted, revoked or expired), job run history, closed anomaly episodes and
 * incidents older than their retention (open ones are never touched), webhook events with their
 * messages and attempts (none still due), finished alert notifications with their attempts, alert
 * history (transitions), resolved incidents (with their timeline and pages) and ended maintenance
 * windows. Deletes
 * in bounded batches until done or out of budget.
 *
 * With `dryRun` in the context (an operator's preview: GET /logs/retention/preview as the service
 * role, not the schedulers) it changes nothing and reports what a run at `now` would remove from
 * logs, spans, invitations, job history and anomaly history; metric retention is not previewed.
 */
export const cleanupRetention = {
  name: 'cleanup-retention',
  intervalSeconds: 3600,
  lockKey: 7_100_003,
  // The jobs framework passes { now, budgetMs }; dryRun is only ever set by a direct caller.
  async run(deps: Pick<Deps, 'db' | 'logger' | 'clock'>, { now, budgetMs, dryRun = false }: JobContext & { dryRun?: boolean }) {
    const deadline = performance.now() + budgetMs;
    const invitationCutoff = new Date(now.getTime() - INVITATION_RETENTION_DAYS * 86_400_000);
    const jobRunCutoff = new Date(now.getTime() - JOB_RUN_RETENTION_DAYS * 86_400_000);
    const anomalyCutoff = new Date(now.getTime() - ANOMALY_RETENTION_DAYS * 86_400_000);
    const webhookCutoff = new Date(now.getTime() - WEBHOOK_RETENTION_DAYS * 86_400_000);
    const notificationCutoff = new Date(now.getTime() - ALERT_NOTIFICATION_RETENTION_DAYS * 86_400_000);
    const alertHistoryCutoff = new Date(now.getTime() - ALERT_HISTORY_RETENTION_DAYS * 86_400_000);
    const incidentCutoff = new Date(now.getTime() - INCIDENT_RETENTION_DAYS * 86_400_000);
    const maintenanceCutoff = new Date(now.getTime() - MAINTENANCE_RETENTION_DAYS * 86_400_000);
    // [name, table, the rows past retention given the cutoff $1, cutoff]
    const targets: Array<[string, string, string, Date]> = [
      ['invitations', 'public.invitations', 'coalesce(accepted_at, revoked_at, expires_at) < $1', invitationCutoff],
      ['jobRuns', 'private.job_runs', `started_at < $1 and outcome <> 'running'`, jobRunCutoff],
      // Episodes before incidents: an incident's members go first (their link is set null anyway).
      ['anomalyEpisodes', 'public.anomaly_episodes', `status = 'closed' and ended_at < $1`, anomalyCutoff],
      ['anomalyIncidents', 'public.anomaly_incidents', `status = 'closed' and ended_at < $1`, anomalyCutoff],
      // Messages and attempts go with their event (on delete cascade).
      [
        'webhookEvents',
        'public.webhook_events',
        `created_at < $1 and not exists (select 1 from public.webhook_messages m where m.event_id = webhook_events.id and m.status in ('pending', 'sending'))`,
        webhookCutoff,
      ],
      // Attempts go with their notification (on delete cascade); one still to be sent is kept.
      ['alertNotifications', 'public.alert_notifications', `status in ('sent', 'failed', 'dropped') and created_at < $1`, notificationCutoff],
      ['alertHistory', 'public.alert_transitions', 'at < $1', alertHistoryCutoff],
      // Timeline rows, pages and page notifications go with their incident (on delete cascade).
      ['incidents', 'public.incidents', `state = 'resolved' and resolved_at < $1`, incidentCutoff],
      ['maintenanceWindows', 'public.maintenance_windows', 'ends_at < $1', maintenanceCutoff],
    ];
    if (dryRun) {
      const wouldDelete: Record<string, number> = {};
      for (const [name, table, where, cutoff] of targets) {
        const [row] = await asServiceRole(deps.db, (tx) => tx.query<{ n: unknown }>(`select count(*) as n from ${table} where ${where}`, [cutoff]));
        wouldDelete[name] = Number(row?.n ?? 0);
      }
      const logs = await applyLogRetention(deps.db, now, deadline, { dryRun: true });
      return { dryRun: true, now: now.toISOString(), wouldDelete, logs, complete: logs.complete };
    }
    const deleted: Record<string, number> = {};
    let complete = true;
    for (const [name, table, where, cutoff] of targets) {
      deleted[name] = 0;
      for (;;) {
        if (performance.now() > deadline) {
          complete = false;
          break;
        }
        const rows = await asServiceRole(deps.db, (tx) =>
          tx.query(`delete from ${table} where id in (select id from ${table} where ${where} limit ${BATCH}) returning 1`, [cutoff]),
        );
        deleted[name] += rows.length;
        if (rows.length < BATCH) break;
      }
    }
    const metrics = await applyMetricRetention(deps.db, now, deadline);
    const logs = await applyLogRetention(deps.db, now, deadline);
    return { deleted, metrics, logs: summarizeLogRetention(logs), complete: complete && metrics.complete && logs.complete };
  },
} satisfies Job;
