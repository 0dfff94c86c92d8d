import { billingPeriod, SIGNALS, type Signal, type SignalCounts } from './quota.ts';

/** The thresholds warned at, in percent of a signal's monthly limit. */
export const THRESHOLDS = [80, 100] as const;
export type Threshold = (typeof THRESHOLDS)[number];

export interface Warning {
  signal: Signal;
  threshold: Threshold;
  used: number;
  limit: number;
}

/**
 * Which quota warnings to send now, once per threshold per period: a pure function of what was
 * already sent this period (the state, rows of billing_quota_warnings), the period's metered usage,
 * the plan's monthly limits and the time (which period it is). A run that finds usage past both
 * thresholds sends both, each once; a signal without a limit is never warned about.
 */
export function decideWarnings(
  sent: ReadonlyArray<{ period: string; signal: Signal; threshold: number }>,
  usage: { period: string; used: SignalCounts },
  limits: Record<Signal, number | null>,
  now: Date,
): Warning[] {
  const period = billingPeriod(now).key;
  // Usage of another period (a run that read last month's totals after midnight) warns about nothing.
  if (usage.period !== period) return [];
  const already = new Set(sent.filter((s) => s.period === period).map((s) => `${s.signal}:${s.threshold}`));
  const out: Warning[] = [];
  for (const signal of SIGNALS) {
    const limit = limits[signal];
    if (limit === null) continue;
    const used = usage.used[signal];
    for (const threshold of THRESHOLDS) {
      if (already.has(`${signal}:${threshold}`)) continue;
      // Integer arithmetic: used / limit >= threshold / 100 (a limit of 0 is reached by nothing sent).
      if (used * 100 >= limit * threshold && used > 0) out.push({ signal, threshold, used, limit });
    }
  }
  return out;
}
