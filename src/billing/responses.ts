import { z } from 'zod';
import { SIGNALS, USAGE_SIGNALS } from './quota.ts';

/** What the billing function answers (src/billing/http/routes.ts); the OpenAPI document is built from these. */

const Count = z.number().int().min(0);
const Cents = z.number().int().min(0);
const Signal = z.enum(SIGNALS);
/** An ingest signal, or queries (reads of telemetry: events are reads, bytes 0). */
const UsageSignal = z.enum(USAGE_SIGNALS);
const Policy = z.enum(['overage', 'block']);
const StripePrice = z.string().nullable();
const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);

const SignalTerms = z.object({
  /** Monthly events allowed; null: no limit. */
  monthlyLimit: Count.nullable(),
  /** Events included in the base price. */
  included: Count,
  /** Price of each million events beyond the included amount, in cents. */
  pricePerMillionCents: Cents,
  /** What happens past the monthly limit: keep accepting and bill the overage, or refuse with 429. */
  policy: Policy,
});

export const BillingPlan = z
  .object({
    id: z.string(),
    name: z.string(),
    /** True for a plan custom to one organization. */
    custom: z.boolean(),
    organizationId: z.uuid().nullable(),
    /** Per month, in cents. */
    basePriceCents: Cents,
    signals: z.object({ metrics: SignalTerms, logs: SignalTerms, traces: SignalTerms }),
    /** Organization-wide limits; null: no limit of the plan's own. */
    limits: z.object({
      activeSeries: Count.nullable(),
      members: Count.nullable(),
      alertRules: Count.nullable(),
      webhookEndpoints: Count.nullable(),
      apiRequestsPerMinute: Count.nullable(),
      retentionDays: Count,
    }),
    /** The Stripe prices of the plan's subscription (base, and metered per signal); all null: not billed through Stripe. */
    stripePrices: z.object({ base: StripePrice, metrics: StripePrice, logs: StripePrice, traces: StripePrice }),
  })
  .meta({ id: 'BillingPlan' });

export const PlansResponse = z.object({ plans: z.array(BillingPlan) });
export const PlanResponse = z.object({ plan: BillingPlan });

export const SubscriptionStatus = z.enum(['none', 'incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused']);

export const BillingResponse = z
  .object({
    organizationId: z.uuid(),
    plan: BillingPlan,
    details: z.object({
      billingEmail: z.string().nullable(),
      companyName: z.string().nullable(),
      address: z.string().nullable(),
      taxId: z.string().nullable(),
      /** Contact points that get quota warnings as notifications. */
      warningContactPoints: z.array(z.uuid()),
      /** Stripe's ids and state as its webhooks last reported them (no secret: ids only). */
      stripe: z.object({
        customerId: z.string().nullable(),
        subscriptionId: z.string().nullable(),
        subscriptionStatus: SubscriptionStatus,
        lastInvoice: z.object({ id: z.string(), status: z.enum(['paid', 'payment_failed']).nullable() }).nullable(),
      }),
    }),
  })
  .meta({ id: 'OrganizationBilling' });

const SignalLimit = z.object({ monthlyLimit: Count.nullable(), policy: Policy });

export const UsageResponse = z.object({
  organizationId: z.uuid(),
  /** The range, UTC days inclusive. */
  from: z.iso.date(),
  to: z.iso.date(),
  groupBy: z.enum(['project', 'apiKey', 'day', 'signal']),
  /** One row per group and signal; the group's key field is the one groupBy names (none for signal). */
  usage: z.array(
    z.object({
      projectId: z.uuid().optional(),
      /** null: usage written before API keys were recorded. */
      apiKeyId: z.uuid().nullable().optional(),
      day: z.iso.date().optional(),
      signal: UsageSignal,
      /** Events ingested; for queries, reads. */
      events: Count,
      /** 0 for queries. */
      bytes: Count,
      /** Ingest requests that carried the signal; for queries, reads. */
      requests: Count,
    }),
  ),
  /** Events per signal; queries: reads. */
  totals: z.object({ metrics: Count, logs: Count, traces: Count, queries: Count }),
  /** The plan's monthly limits for the current period: owners and admins only. */
  plan: z
    .object({
      id: z.string(),
      name: z.string(),
      period: Month,
      limits: z.object({ metrics: SignalLimit, logs: SignalLimit, traces: SignalLimit }),
    })
    .optional(),
});

export const BillingStatement = z
  .object({
    organizationId: z.uuid(),
    month: Month,
    plan: z.object({ id: z.string(), name: z.string() }),
    basePriceCents: Cents,
    lines: z.array(
      z.object({
        signal: Signal,
        events: Count,
        bytes: Count,
        included: Count,
        billable: Count,
        pricePerMillionCents: Cents,
        amountCents: Cents,
      }),
    ),
    projects: z.array(z.object({ projectId: z.uuid(), signal: UsageSignal, events: Count, bytes: Count })),
    /** Reads of telemetry in the month (counted, not priced). */
    queries: Count,
    peakActiveSeries: Count,
    totalCents: Cents,
    currency: z.literal('usd'),
    /** True while the month is not over: the figures still grow. */
    provisional: z.boolean(),
  })
  .meta({ id: 'BillingStatement' });

/** JSON by default; CSV with ?format=csv or Accept: text/csv (one row per signal, queries, then base and total). */
export const STATEMENT = {
  description:
    'The statement as JSON (`{ statement }`), or as CSV with `?format=csv` or `Accept: text/csv`: a header row `month,plan,item,events,bytes,included,billable,price_per_million_cents,amount_cents`, one row per signal, a `queries` row (the reads counted; not priced), then `base` and `total`.',
  content: { 'application/json': z.object({ statement: BillingStatement }), 'text/csv': undefined },
  headers: { 'content-disposition': 'CSV only: `attachment; filename="statement-YYYY-MM.csv"`' },
};

export const StripeWebhookResponse = z.object({
  received: z.literal(true),
  /** True when this event id was applied before (a retry or a replay): acknowledged, not applied again. */
  duplicate: z.boolean(),
  /** What the event changed, in words (e.g. "subscription active; plan pro", "nothing (unknown customer)"). */
  applied: z.string(),
});
