import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { ownedOrganization } from './lookup.ts';
import { organizationPlan } from './plans.ts';
import { billingPeriod } from './quota.ts';
import { buildStatement } from './statement.ts';
import { peakSeries, usageRows } from './usage-store.ts';

/** A month's statement (owners only): its metered usage priced under the organization's current plan. */
export async function getStatement(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, orgId: string, month: string) {
  const start = new Date(`${month}-01T00:00:00Z`);
  const end = billingPeriod(start).end;
  const from = month + '-01';
  const to = new Date(end.getTime() - 86_400_000).toISOString().slice(0, 10);
  return withClaims(deps.db, actor, async (tx) => {
    await ownedOrganization(tx, orgId);
    const plan = await organizationPlan(tx, orgId);
    const bySignal = await usageRows(tx, orgId, from, to, 'signal', null);
    const byProject = await usageRows(tx, orgId, from, to, 'project', null);
    const series = await peakSeries(tx, orgId, from, to);
    return buildStatement(
      { organizationId: orgId, month, plan, provisional: deps.clock.now() < end },
      bySignal,
      byProject.map((r) => ({ projectId: r.key!, signal: r.signal, events: r.events, bytes: r.bytes })),
      series.reduce((n, s) => n + s.activeSeries, 0),
    );
  });
}
