/** Quotas and warnings, pure: table-driven, each case at a fixed time (the fake clock's role). */
import { describe, expect, it } from 'vitest';
import { billingPeriod, decideQuota, type PlanQuota, quotaCorrections, quotaCounters } from '../../../src/billing/quota.ts';
import { decideWarnings } from '../../../src/billing/warnings.ts';
import { planShortfalls } from '../../../src/billing/plan-limits.ts';
import type { PlanView } from '../../../src/billing/plans.ts';

const ORG = '00000000-0000-4000-8000-000000000001';
const NOW = new Date('2026-12-31T23:59:30Z');
const plan = (limit: number | null, policy: 'block' | 'overage' = 'block'): PlanQuota => ({
  planId: 'free',
  planName: 'Free',
  signals: { metrics: { limit, policy }, logs: { limit: null, policy: 'overage' }, traces: { limit: 5, policy: 'overage' } },
});

describe('quota counters and decision', () => {
  it('moves only block signals with a limit, keyed by organization, period and signal', () => {
    expect(quotaCounters(ORG, plan(10), { metrics: 3, logs: 2, traces: 1 }, NOW)).toEqual([{ signal: 'metrics', key: `oai:q:${ORG}:2026-12:metrics`, by: 3 }]);
    expect(quotaCounters(ORG, plan(10, 'overage'), { metrics: 3, logs: 0, traces: 0 }, NOW)).toEqual([]);
    expect(quotaCounters(ORG, null, { metrics: 3, logs: 0, traces: 0 }, NOW)).toEqual([]);
    expect(quotaCounters(ORG, plan(10), { metrics: 0, logs: 4, traces: 0 }, NOW)).toEqual([]);
  });

  it.each([
    // [case, limit, counter after the request, request's events, ok]
    ['well below', 10, 5, 3, true],
    ['the last request may cross the limit', 10, 14, 5, true],
    ['exactly at the limit before: refused', 10, 11, 1, false],
    ['past it: refused', 10, 30, 5, false],
    ['a limit of 0 refuses the first event', 0, 1, 1, false],
  ])('%s', (_, limit, after, by, ok) => {
    const counters = [{ signal: 'metrics' as const, key: 'k', by }];
    const d = decideQuota(plan(limit), counters, [after], NOW);
    expect(d.ok).toBe(ok);
    if (!d.ok) {
      expect(d.retryAfterSeconds).toBe(30); // the period resets at 2027-01-01T00:00:00Z
      expect(d.message).toContain(`allows ${limit.toLocaleString('en-US')} metric points a month`);
    }
  });

  it('corrects the counters to what was stored', () => {
    const counters = [{ signal: 'metrics' as const, key: 'k', by: 5 }];
    expect(quotaCorrections(counters, { metrics: 5, logs: 0, traces: 0 })).toEqual([]);
    expect(quotaCorrections(counters, { metrics: 2, logs: 0, traces: 0 })).toEqual([{ key: 'k', by: -3 }]);
    expect(quotaCorrections(counters, null)).toEqual([{ key: 'k', by: -5 }]);
  });

  it('periods are UTC calendar months', () => {
    expect(billingPeriod(new Date('2026-02-28T23:00:00-05:00')).key).toBe('2026-03');
    expect(billingPeriod(NOW).end.toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
});

describe('decideWarnings', () => {
  const limits = { metrics: 100, logs: null, traces: 0 };
  it.each([
    // [case, sent, used metrics, now, thresholds warned]
    ['below 80 %: nothing', [], 79, NOW, []],
    ['80 %: the first warning', [], 80, NOW, [80]],
    ['80 % already sent: nothing more', [{ period: '2026-12', signal: 'metrics', threshold: 80 }], 99, NOW, []],
    ['then 100 %', [{ period: '2026-12', signal: 'metrics', threshold: 80 }], 100, NOW, [100]],
    ['a jump past both sends both, once each', [], 250, NOW, [80, 100]],
    ["last month's warnings do not count this month", [{ period: '2026-11', signal: 'metrics', threshold: 80 }], 90, NOW, [80]],
    ['usage of another period warns about nothing', [], 90, new Date('2027-01-01T00:00:10Z'), []],
  ] as const)('%s', (_, sent, used, now, want) => {
    const out = decideWarnings(sent, { period: '2026-12', used: { metrics: used, logs: 1e9, traces: 0 } }, limits, now);
    expect(out.filter((w) => w.signal === 'metrics').map((w) => w.threshold)).toEqual(want);
    // No limit (logs) and a limit of 0 with nothing sent (traces) never warn.
    expect(out.filter((w) => w.signal !== 'metrics')).toEqual([]);
  });
});

describe('planShortfalls', () => {
  const target = { name: 'Free', limits: { members: 3, alertRules: 10, webhookEndpoints: null, retentionDays: 30 } } as unknown as PlanView;
  it('says what must change first, per limit', () => {
    expect(planShortfalls(target, { members: 12, alertRules: 10, webhookEndpoints: 99, retentionDays: 90 })).toEqual([
      { field: 'limits.members', message: 'the organization has 12 members; the Free plan allows 3: remove 9 first' },
      { field: 'limits.retentionDays', message: expect.stringContaining('keeps logs or spans 90 days; the Free plan allows 30') },
    ]);
    expect(planShortfalls(target, { members: 3, alertRules: 0, webhookEndpoints: 0, retentionDays: 30 })).toEqual([]);
  });
});
