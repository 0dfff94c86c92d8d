import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from '../orgs/lookup.ts';
import { organizationPlan } from './plans.ts';
import { billingPeriod, SIGNALS, type UsageSignal } from './quota.ts';
import type { UsageQuery } from './schemas.ts';
import { usageRows } from './usage-store.ts';

/**
 * Metered usage (usage_daily, up to the meter's last run, about a minute behind ingest) of an
 * organization, ingest signals and queries, grouped by signal, project, API key or day. Every member may ask: owners and admins
 * see the whole organization, members and viewers the projects they may read (RLS), so a member
 * learns nothing of projects hidden from them. The default range is the current billing period; the
 * current period's totals against the plan's limits come with it for owners and admins.
 */
export async function getUsage(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, orgId: string, q: UsageQuery) {
  const now = deps.clock.now();
  const period = billingPeriod(now);
  const from = q.from ?? period.start.toISOString().slice(0, 10);
  const to = q.to ?? new Date(period.end.getTime() - 86_400_000).toISOString().slice(0, 10);
  return withClaims(deps.db, actor, async (tx) => {
    const org = await findMyOrganization(tx, orgId);
    const rows = await usageRows(tx, orgId, from, to, q.groupBy, q.signal ?? null);
    const totals: Record<UsageSignal, number> = { metrics: 0, logs: 0, traces: 0, queries: 0 };
    for (const r of rows) totals[r.signal] += r.events;
    const manager = org.role === 'owner' || org.role === 'admin';
    const plan = manager ? await organizationPlan(tx, orgId) : null;
    return {
      organizationId: orgId,
      from,
      to,
      groupBy: q.groupBy,
      usage: rows.map((r) => ({ ...(q.groupBy === 'signal' ? {} : { [q.groupBy === 'apiKey' ? 'apiKeyId' : q.groupBy === 'project' ? 'projectId' : 'day']: r.key }), signal: r.signal, events: r.events, bytes: r.bytes, requests: r.requests })),
      totals,
      ...(plan
        ? {
            plan: {
              id: plan.id,
              name: plan.name,
              period: period.key,
              limits: Object.fromEntries(SIGNALS.map((s) => [s, { monthlyLimit: plan.signals[s].monthlyLimit, policy: plan.signals[s].policy }])),
            },
          }
        : {}),
    };
  });
}
