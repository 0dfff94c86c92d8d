import type { Deps } from '../core/deps.ts';
import type { Job, JobContext, JobSummary } from '../core/job.ts';
import { asServiceRole } from '../db/scoped.ts';
import { ingestHorizon } from '../db/ingest-horizon.ts';
import { meterNextQueries, meterNextTransactions, periodUsage, recordActiveSeries, recordWarnings } from './meter-store.ts';
import { billingPeriod, QUOTA_COUNTER_TTL_MS, quotaCounterKey, SIGNALS } from './quota.ts';
import { reportUsageToStripe } from './stripe/report-usage.ts';
import { decideWarnings } from './warnings.ts';

/** Ingest transactions metered per statement: a statement stays well under a second. */
const TX_PER_BATCH = 5_000;

export type MeterDeps = Pick<Deps, 'db' | 'logger' | 'clock'> & Partial<Pick<Deps, 'cache' | 'config' | 'outbound'>>;

/**
 * The meter-usage job, every minute:
 * 1. rolls ingest_usage and query_usage up into usage_daily, exactly (meter-store.ts), until caught up
 *    or out of budget;
 * 2. records each project's active series for today;
 * 3. sends the quota warnings due (80 % and 100 % of a monthly limit, once per threshold and period);
 * 4. raises each 'block' quota counter in the cache that fell below the metered truth (a flushed or
 *    restarted cache), never lowers one (it also counts what committed after the watermark);
 * 5. with Stripe configured, reports the period's new usage as meter events.
 * The Job interface passes db, logger and clock; every caller (scheduler, cron function) hands the
 * full Deps, so the cache, config and guard are read from there when present (as export-telemetry does).
 */
export const meterUsage: Job = {
  name: 'meter-usage',
  intervalSeconds: 60,
  lockKey: 7_100_051,
  run: (deps, ctx) => runMeterUsage(deps, ctx),
};

export async function runMeterUsage(deps: MeterDeps, { now, budgetMs }: JobContext): Promise<JobSummary> {
  const deadline = performance.now() + budgetMs;
  const horizon = await ingestHorizon(deps.db);
  let metered = 0;
  let queries = 0;
  let ingestDone = false;
  let queriesDone = false;
  while (performance.now() < deadline && !(ingestDone && queriesDone)) {
    if (!ingestDone) {
      const batch = await asServiceRole(deps.db, (tx) => meterNextTransactions(tx, horizon, TX_PER_BATCH));
      metered += batch.rows;
      ingestDone = batch.watermark === null;
    }
    if (!queriesDone) {
      const batch = await asServiceRole(deps.db, (tx) => meterNextQueries(tx, horizon, TX_PER_BATCH));
      queries += batch.rows;
      queriesDone = batch.watermark === null;
    }
  }
  const caughtUp = ingestDone && queriesDone;
  const period = billingPeriod(now);
  const periodStart = period.start.toISOString().slice(0, 10);
  const series = await asServiceRole(deps.db, (tx) => recordActiveSeries(tx, now.toISOString().slice(0, 10), period.start));
  const usage = await asServiceRole(deps.db, (tx) => periodUsage(tx, periodStart, period.end.toISOString().slice(0, 10)));
  let warnings = 0;
  let raised = 0;
  for (const org of usage) {
    const due = decideWarnings(org.sent.map((s) => ({ ...s, period: period.key })), { period: period.key, used: org.used }, org.limits, now);
    if (due.length > 0) warnings += await asServiceRole(deps.db, (tx) => recordWarnings(tx, org.organizationId, periodStart, due, { now, dashboardUrl: deps.config?.dashboardUrl ?? null }));
    if (deps.cache) raised += await reconcileCounters(deps, org, period.key);
  }
  const stripe = deps.config?.billing.stripe && deps.outbound ? await reportUsageToStripe({ ...deps, outbound: deps.outbound, stripe: deps.config.billing.stripe }, now) : undefined;
  return { metered, queries, caughtUp, seriesRows: series, organizations: usage.length, warnings, countersRaised: raised, ...(stripe ? { stripe } : {}) };
}

/** Raises the organization's 'block' counters to the metered usage where they fell behind; how many it raised. */
async function reconcileCounters(deps: MeterDeps, org: Awaited<ReturnType<typeof periodUsage>>[number], period: string): Promise<number> {
  const cache = deps.cache!;
  const blocked = SIGNALS.filter((s) => org.policies[s] === 'block' && org.limits[s] !== null);
  if (blocked.length === 0) return 0;
  try {
    const keys = blocked.map((s) => quotaCounterKey(org.organizationId, period, s));
    const current = await cache.incrCounters(keys.map((key) => ({ key, by: 0 })), QUOTA_COUNTER_TTL_MS);
    const raise = blocked.map((s, i) => ({ key: keys[i]!, by: org.used[s] - current[i]! })).filter((r) => r.by > 0);
    if (raise.length > 0) await cache.incrCounters(raise, QUOTA_COUNTER_TTL_MS);
    return raise.length;
  } catch (err) {
    deps.logger.warn({ err, organizationId: org.organizationId }, 'quota counters not reconciled: cache unavailable');
    return 0;
  }
}
