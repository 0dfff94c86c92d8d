import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { asServiceRoleWithin, type Claims } from '../../db/scoped.ts';
import type { Queryable } from '../../db/types.ts';
import { type PlanView, subscriptionPrices } from '../plans.ts';
import { type StripeClient, StripeError } from './client.ts';

/** An organization's Stripe link as organization_billing holds it. */
export interface StripeState {
  customerId: string | null;
  subscriptionId: string | null;
  subscriptionStatus: string;
}

/** What Stripe must do for a plan change: create the customer, subscribe to these prices, cancel this subscription. */
export interface SubscriptionSteps {
  createCustomer: boolean;
  subscribe: string[] | null;
  cancel: string | null;
}

/** Statuses after which a subscription bills nothing more (Stripe's terminal ones, and ours for "none yet"). */
const ENDED = new Set(['none', 'canceled', 'incomplete_expired']);

/**
 * The Stripe steps of moving from `currentPlanId` to `target` (pure). A plan with prices gets a new
 * subscription to them and the live one (if any) is cancelled; a plan without prices only cancels.
 * Choosing the plan one is on again subscribes only when no subscription is live (a repair: the
 * subscription ended, or the plan was set without one), and otherwise does nothing.
 */
export function subscriptionSteps(state: StripeState, currentPlanId: string, target: PlanView): SubscriptionSteps {
  const prices = subscriptionPrices(target);
  const live = state.subscriptionId !== null && !ENDED.has(state.subscriptionStatus) ? state.subscriptionId : null;
  if (prices.length === 0) return { createCustomer: false, subscribe: null, cancel: target.id === currentPlanId ? null : live };
  if (target.id === currentPlanId && live) return { createCustomer: false, subscribe: null, cancel: null };
  return { createCustomer: state.customerId === null, subscribe: prices, cancel: live };
}

const Customer = z.object({ id: z.string().regex(/^cus_[A-Za-z0-9]+$/) });
const Subscription = z.object({
  id: z.string().regex(/^sub_[A-Za-z0-9]+$/),
  status: z.enum(['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused']),
});

/**
 * One Stripe call of a plan change. Stripe refusing (a 4xx such as 402, a declined card) is a 409 with
 * Stripe's message; Stripe failing or unreachable is a retryable 503. Either way the caller's
 * transaction rolls back: the plan does not change.
 */
async function step<T>(what: string, schema: z.ZodType<T>, call: () => Promise<unknown>): Promise<T> {
  let answer: unknown;
  try {
    answer = await call();
  } catch (err) {
    if (err instanceof StripeError && err.status >= 400 && err.status < 500 && err.status !== 429) {
      throw new AppError('CONFLICT', `Stripe refused to ${what} (${err.status}: ${err.message}); the plan was not changed`, { cause: err });
    }
    const why = err instanceof StripeError ? `answered ${err.status}` : 'could not be reached';
    throw new AppError('UNAVAILABLE', `Stripe ${why} when asked to ${what}; the plan was not changed, try again`, { cause: err });
  }
  const parsed = schema.safeParse(answer);
  if (!parsed.success) throw new AppError('UNAVAILABLE', `Stripe's answer to ${what} was not understood; the plan was not changed, try again`);
  return parsed.data;
}

/**
 * Makes Stripe match a plan change, inside the change's transaction (which holds the organization's
 * row lock, so two changes of one organization take turns) and before the plan itself is written:
 * the plan commits only after Stripe answered. Every call is idempotent on a retry: the customer by
 * one key per organization, a subscription by one key per (organization, plan, the subscription it
 * replaces). The ids are written to organization_billing (audited by trigger: which fields, never values).
 */
export async function syncSubscription(
  tx: Queryable,
  actor: Claims,
  stripe: StripeClient,
  org: { id: string; name: string; billingEmail: string | null },
  currentPlanId: string,
  target: PlanView,
): Promise<void> {
  const state = await asServiceRoleWithin(tx, actor, async () => {
    const [row] = await tx.query<{ customer: string | null; subscription: string | null; status: string }>(
      'select stripe_customer_id as customer, stripe_subscription_id as subscription, subscription_status as status from public.organization_billing where organization_id = $1',
      [org.id],
    );
    return { customerId: row?.customer ?? null, subscriptionId: row?.subscription ?? null, subscriptionStatus: row?.status ?? 'none' };
  });
  const steps = subscriptionSteps(state, currentPlanId, target);
  if (!steps.createCustomer && !steps.subscribe && !steps.cancel) return;
  let customerId = state.customerId;
  if (steps.createCustomer) {
    customerId = (await step('create the customer', Customer, () => stripe.createCustomer({ organizationId: org.id, name: org.name, email: org.billingEmail }))).id;
  }
  let subscription: { id: string; status: string } | null = null;
  if (steps.subscribe) {
    const prices = steps.subscribe;
    subscription = await step('create the subscription', Subscription, () =>
      stripe.createSubscription({
        customer: customerId!,
        prices,
        organizationId: org.id,
        planId: target.id,
        idempotencyKey: `observai-subscription-${org.id}-${target.id}-after-${state.subscriptionId ?? 'none'}`,
      }),
    );
  }
  if (steps.cancel) {
    const cancel = steps.cancel;
    await step('cancel the previous subscription', Subscription, () => stripe.cancelSubscription(cancel));
  }
  await asServiceRoleWithin(tx, actor, () =>
    tx.query(
      `insert into public.organization_billing (organization_id, stripe_customer_id, stripe_subscription_id, subscription_status) values ($1, $2, $3, $4)
       on conflict (organization_id) do update set stripe_customer_id = excluded.stripe_customer_id,
         stripe_subscription_id = excluded.stripe_subscription_id, subscription_status = excluded.subscription_status`,
      [org.id, customerId, subscription?.id ?? state.subscriptionId, subscription?.status ?? (steps.cancel ? 'canceled' : state.subscriptionStatus)],
    ),
  );
}
