import { z } from 'zod';
import type { Deps } from '../../core/deps.ts';
import { AppError } from '../../core/errors.ts';
import { asServiceRole } from '../../db/scoped.ts';
import type { Queryable } from '../../db/types.ts';
import { organizationFootprint, planShortfalls } from '../plan-limits.ts';
import { findPlan } from '../plans.ts';
import { verifyStripeSignature } from './signature.ts';

const SubscriptionStatus = z.enum(['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused']);
const Subscription = z.object({
  id: z.string().regex(/^sub_[A-Za-z0-9]+$/),
  customer: z.string().regex(/^cus_[A-Za-z0-9]+$/),
  status: SubscriptionStatus,
  metadata: z.record(z.string(), z.string()).default({}),
});
const Invoice = z.object({ id: z.string().regex(/^in_[A-Za-z0-9]+$/), customer: z.string().regex(/^cus_[A-Za-z0-9]+$/) });
const StripeEvent = z.object({ id: z.string().regex(/^evt_[A-Za-z0-9]+$/), type: z.string().min(1).max(100), data: z.object({ object: z.record(z.string(), z.unknown()) }) });

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const field = [where, ...i.path.map(String)].join('.');
    throw new AppError('VALIDATION_FAILED', `${field}: ${i.message}`, { details: [{ field, message: i.message }] });
  }
  return r.data;
}

export interface StripeWebhookResult {
  received: true;
  /** True when this event id was applied before (a retry or a replay): acknowledged, not applied again. */
  duplicate: boolean;
  applied: string;
}

/**
 * POST /billing/stripe/webhook: verifies Stripe's signature over the raw body (400 when it fails;
 * 501 when no webhook secret is configured), then applies the event once, by its id, in one
 * transaction with the idempotency record: subscription created/updated/deleted set the
 * organization's subscription id and status (and its plan when the subscription's metadata names
 * one the organization fits), invoice paid/failed record the last invoice. Events for customers we
 * do not know, and other types, are recorded and acknowledged (Stripe would retry a 4xx for days).
 */
export async function receiveStripeWebhook(deps: Pick<Deps, 'db' | 'config' | 'clock' | 'logger'>, payload: string, header: string | null): Promise<StripeWebhookResult> {
  const secret = deps.config.billing.stripeWebhookSecret;
  if (!secret) throw new AppError('NOT_IMPLEMENTED', 'Stripe webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET)');
  const verified = await verifyStripeSignature(secret, header, payload, deps.clock.now().getTime());
  if (!verified.ok) throw new AppError('BAD_REQUEST', `Stripe signature verification failed: ${verified.reason}`);
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    throw new AppError('BAD_REQUEST', 'The body is not valid JSON');
  }
  const event = parse(StripeEvent, json, 'body');
  return asServiceRole(deps.db, async (tx) => {
    const fresh = await tx.query('insert into private.stripe_events (id, type) values ($1, $2) on conflict (id) do nothing returning id', [event.id, event.type]);
    if (fresh.length === 0) return { received: true, duplicate: true, applied: 'nothing (already applied)' };
    const applied = await applyEvent(tx, event.type, event.data.object);
    return { received: true, duplicate: false, applied };
  });
}

async function organizationOf(tx: Queryable, customer: string, metadata: Record<string, string> = {}): Promise<string | null> {
  const [row] = await tx.query<{ organization_id: string }>('select organization_id from public.organization_billing where stripe_customer_id = $1', [customer]);
  if (row) return row.organization_id;
  const claimed = metadata.organization_id;
  // A value that is no uuid names no organization (a bad cast would fail the event, and Stripe retries a 4xx for days).
  if (!claimed || !z.guid().safeParse(claimed).success) return null;
  // A customer made outside our API, naming the organization in its metadata: linked on first sight.
  const [linked] = await tx.query<{ organization_id: string }>(
    `insert into public.organization_billing (organization_id, stripe_customer_id)
     select id, $2 from public.organizations where id = $1::uuid
     on conflict (organization_id) do update set stripe_customer_id = excluded.stripe_customer_id
       where public.organization_billing.stripe_customer_id is null
     returning organization_id`,
    [claimed, customer],
  );
  return linked?.organization_id ?? null;
}

async function applyEvent(tx: Queryable, type: string, object: Record<string, unknown>): Promise<string> {
  switch (type) {
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted': {
      const sub = parse(Subscription, object, 'body.data.object');
      const org = await organizationOf(tx, sub.customer, sub.metadata);
      if (!org) return 'nothing (unknown customer)';
      const status = type === 'customer.subscription.deleted' ? 'canceled' : sub.status;
      // A subscription replaced by a plan change (cancelled after its successor was made) must not
      // overwrite its successor: an event applies to the current subscription, or when none is live.
      const current = await tx.query(
        `update public.organization_billing set stripe_subscription_id = $2, subscription_status = $3 where organization_id = $1
           and (stripe_subscription_id is null or stripe_subscription_id = $2 or subscription_status in ('none', 'canceled', 'incomplete_expired'))
         returning 1`,
        [org, sub.id, status],
      );
      if (current.length === 0) return `nothing (${sub.id} is not the organization's current subscription)`;
      const planId = sub.metadata.plan_id;
      if (type === 'customer.subscription.deleted' || !planId) return `subscription ${status}`;
      return `subscription ${status}; ${await applyPlan(tx, org, planId)}`;
    }
    case 'invoice.paid':
    case 'invoice.payment_failed': {
      const invoice = parse(Invoice, object, 'body.data.object');
      const org = await organizationOf(tx, invoice.customer);
      if (!org) return 'nothing (unknown customer)';
      const status = type === 'invoice.paid' ? 'paid' : 'payment_failed';
      await tx.query('update public.organization_billing set last_invoice_id = $2, last_invoice_status = $3 where organization_id = $1', [org, invoice.id, status]);
      return `invoice ${status}`;
    }
    default:
      return `nothing (${type} is not handled)`;
  }
}

/** The plan a subscription names, when it exists, may serve the organization and the organization fits it. */
async function applyPlan(tx: Queryable, orgId: string, planId: string): Promise<string> {
  let plan;
  try {
    plan = await findPlan(tx, planId);
  } catch {
    return `plan ${planId} unknown: kept the current plan`;
  }
  if (plan.organizationId !== null && plan.organizationId !== orgId) return `plan ${planId} belongs to another organization: kept the current plan`;
  const shortfalls = planShortfalls(plan, await organizationFootprint(tx, orgId));
  if (shortfalls.length > 0) return `plan ${planId} not applied: ${shortfalls[0]!.message}`;
  await tx.query('update public.organizations set plan = $2 where id = $1', [orgId, planId]);
  return `plan ${planId}`;
}
