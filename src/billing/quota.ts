/**
 * Quotas at ingest, pure: which cached counters a request moves and whether it may go on. The
 * counters live in the cache (one per organization, billing period and signal with a 'block'
 * policy); ingest adds a request's events to them in the same cache command as its rate limits
 * (src/ingest/rate-limit.ts), so a quota costs no extra round trip and no Postgres query. The
 * meter-usage job raises a counter that fell behind the metered truth (a flushed cache, a restart in
 * embedded mode). docs/BILLING.md derives the overshoot bound.
 */
export const SIGNALS = ['metrics', 'logs', 'traces'] as const;
export type Signal = (typeof SIGNALS)[number];
export type SignalCounts = Record<Signal, number>;
/** What usage_daily meters: the ingest signals, and queries (reads of telemetry; no bytes, no quota). */
export const USAGE_SIGNALS = [...SIGNALS, 'queries'] as const;
export type UsageSignal = (typeof USAGE_SIGNALS)[number];

export interface SignalQuota {
  /** Monthly events allowed; null: no limit. */
  limit: number | null;
  policy: 'overage' | 'block';
}

/** What ingest needs of an organization's plan. */
export interface PlanQuota {
  planId: string;
  planName: string;
  signals: Record<Signal, SignalQuota>;
}

/** A counter outlives its period by a few days, so the job can still reconcile the period's end. */
export const QUOTA_COUNTER_TTL_MS = 40 * 86_400_000;

/** The billing period holding `now`: the UTC calendar month. */
export function billingPeriod(now: Date): { start: Date; end: Date; key: string } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start, end, key: start.toISOString().slice(0, 7) };
}

export const quotaCounterKey = (organizationId: string, period: string, signal: Signal) => `oai:q:${organizationId}:${period}:${signal}`;

export interface QuotaCounter {
  signal: Signal;
  key: string;
  by: number;
}

/**
 * The counters a request moves: one per signal it carries whose policy is 'block' (an 'overage'
 * signal is never refused, so it costs ingest nothing; the meter counts it).
 */
export function quotaCounters(organizationId: string, quota: PlanQuota | null, counts: SignalCounts, now: Date): QuotaCounter[] {
  if (!quota) return [];
  const period = billingPeriod(now).key;
  const out: QuotaCounter[] = [];
  for (const signal of SIGNALS) {
    const q = quota.signals[signal];
    if (counts[signal] > 0 && q.policy === 'block' && q.limit !== null) out.push({ signal, key: quotaCounterKey(organizationId, period, signal), by: counts[signal] });
  }
  return out;
}

export type QuotaDecision =
  | { ok: true }
  | { ok: false; signal: Signal; limit: number; used: number; retryAfterSeconds: number; resetsAt: Date; message: string };

const SIGNAL_EVENTS: Record<Signal, string> = { metrics: 'metric points', logs: 'log records', traces: 'spans' };

/**
 * Given the counters' values after this request's increments: a request goes on when, before it,
 * every signal it carries was below its limit (so the last request of a period may cross the limit
 * by at most its own events); otherwise it is refused until the period resets.
 */
export function decideQuota(quota: PlanQuota, counters: readonly QuotaCounter[], after: readonly number[], now: Date): QuotaDecision {
  for (const [i, c] of counters.entries()) {
    const limit = quota.signals[c.signal].limit!;
    const used = after[i]! - c.by;
    if (used < limit) continue;
    const { end } = billingPeriod(now);
    const retryAfterSeconds = Math.max(1, Math.ceil((end.getTime() - now.getTime()) / 1000));
    return {
      ok: false,
      signal: c.signal,
      limit,
      used,
      retryAfterSeconds,
      resetsAt: end,
      message:
        `Quota exceeded: the organization's ${quota.planName} plan allows ${limit.toLocaleString('en-US')} ${SIGNAL_EVENTS[c.signal]} a month ` +
        `(${c.signal} events limit) and this month's are used; it resets at ${end.toISOString()}. Upgrade the plan to keep sending.`,
    };
  }
  return { ok: true };
}

/**
 * The corrections that bring the counters to what was stored: a request's events were added before
 * its write, and duplicates, refused items or a failed write did not store them all.
 */
export function quotaCorrections(counters: readonly QuotaCounter[], stored: SignalCounts | null): Array<{ key: string; by: number }> {
  return counters.map((c) => ({ key: c.key, by: (stored ? stored[c.signal] : 0) - c.by })).filter((c) => c.by !== 0);
}
