import type { Deps } from '../../core/deps.ts';
import { asServiceRole } from '../../db/scoped.ts';
import { billingPeriod, type Signal } from '../quota.ts';
import { type StripeConfig, stripeClient } from './client.ts';

/**
 * Reports each subscribed organization's new usage of the period to Stripe as meter events. A report
 * is first written down (usage_reported: the new total and a pending identifier and value), then
 * sent; a send that fails is sent again by the next run as the same event (same identifier, which
 * Stripe deduplicates, and the timestamp decided with it): no usage is lost or billed twice.
 */
export async function reportUsageToStripe(deps: Pick<Deps, 'db' | 'logger' | 'outbound'> & { stripe: StripeConfig }, now: Date): Promise<{ reported: number; failed: number }> {
  const stripe = stripeClient(deps.stripe, deps.outbound);
  const period = billingPeriod(now);
  const start = period.start.toISOString().slice(0, 10);
  const due = await asServiceRole(deps.db, async (tx) => {
    // Decide: the new total of each subscribed organization's signal, unless a report is still pending.
    // Queries are metered but priced by no plan: they are not reported.
    await tx.query(
      `with totals as (
         select u.organization_id, u.signal, sum(u.events)::bigint as events
         from public.usage_daily u join public.organization_billing b on b.organization_id = u.organization_id
         where b.stripe_customer_id is not null and b.subscription_status in ('active', 'trialing', 'past_due')
           and u.day >= $1::date and u.day < $2::date and u.signal <> 'queries'
         group by u.organization_id, u.signal
       )
       insert into public.usage_reported as r (organization_id, period, signal, events, pending_identifier, pending_value, pending_at)
       select t.organization_id, $1::date, t.signal, t.events, t.organization_id || ':' || $3 || ':' || t.signal || ':' || t.events, t.events, $4
       from totals t where t.events > 0
       on conflict (organization_id, period, signal) do update set
         events = excluded.events,
         pending_identifier = r.organization_id || ':' || $3 || ':' || r.signal || ':' || excluded.events,
         pending_value = excluded.events - r.events,
         pending_at = excluded.pending_at,
         updated_at = now()
       where r.pending_identifier is null and excluded.events > r.events`,
      [start, period.end.toISOString().slice(0, 10), period.key, now],
    );
    return tx.query<{ organization_id: string; customer: string; signal: Signal; identifier: string; value: number; at: number }>(
      `select r.organization_id, b.stripe_customer_id as customer, r.signal, r.pending_identifier as identifier, r.pending_value::float8 as value,
              floor(extract(epoch from r.pending_at))::float8 as at
       from public.usage_reported r join public.organization_billing b on b.organization_id = r.organization_id
       where r.pending_identifier is not null and b.stripe_customer_id is not null`,
    );
  });
  let reported = 0;
  let failed = 0;
  for (const d of due) {
    try {
      await stripe.meterEvent({ eventName: deps.stripe.meterEvents[d.signal], customer: d.customer, value: d.value, identifier: d.identifier, timestamp: d.at });
      await asServiceRole(deps.db, (tx) =>
        tx.query('update public.usage_reported set pending_identifier = null, pending_value = null, pending_at = null where organization_id = $1 and signal = $2 and pending_identifier = $3', [d.organization_id, d.signal, d.identifier]),
      );
      reported += 1;
    } catch (err) {
      failed += 1;
      deps.logger.warn({ err, organizationId: d.organization_id, signal: d.signal }, 'usage not reported to Stripe; the next run sends it again');
    }
  }
  return { reported, failed };
}
