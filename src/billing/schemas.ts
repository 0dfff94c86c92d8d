import { z } from 'zod';
import { SIGNALS, type Signal, USAGE_SIGNALS } from './quota.ts';

export const PlanId = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2-63 characters of a-z, 0-9 and "-", starting with a letter or digit');

const Count = (max: number) => z.number().int('must be a whole number').min(0, 'must not be negative').max(max);
const BIG = 1e15;
const StripePriceId = z.string().regex(/^price_[A-Za-z0-9]+$/, 'must be a Stripe price id (price_...)').nullable().default(null);

const SignalTerms = z.strictObject({
  /** Monthly events allowed; null: no limit. */
  monthlyLimit: Count(BIG).nullable(),
  included: Count(BIG).default(0),
  pricePerMillionCents: Count(1e9).default(0),
  policy: z.enum(['overage', 'block']).default('overage'),
});

/**
 * A plan as the service role writes it (custom plans per organization, or the shared ones). A plan
 * that contradicts itself is refused naming the field: an included amount above its limit, a
 * 'block' policy with no limit to block at.
 */
export const PutPlan = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    /** For a custom plan: the one organization that may be on it. */
    organizationId: z.uuid().nullable().default(null),
    basePriceCents: Count(1e12).default(0),
    signals: z.strictObject({ metrics: SignalTerms, logs: SignalTerms, traces: SignalTerms }),
    limits: z.strictObject({
      activeSeries: Count(1e9).nullable(),
      members: z.number().int('must be a whole number').min(1, 'must allow at least the owner').max(1e6).nullable(),
      alertRules: Count(1e6).nullable(),
      webhookEndpoints: Count(1e6).nullable(),
      apiRequestsPerMinute: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1e9).nullable(),
      retentionDays: z.number().int('must be a whole number').min(1, 'must be at least 1').max(3650),
    }),
    /**
     * The Stripe prices of the plan's subscription: the monthly base (quantity 1) and a metered price
     * per signal (fed by the meter's events). Left out or all null: not billed through Stripe.
     */
    stripePrices: z
      .strictObject({ base: StripePriceId, metrics: StripePriceId, logs: StripePriceId, traces: StripePriceId })
      .default({ base: null, metrics: null, logs: null, traces: null }),
  })
  .superRefine((plan, ctx) => {
    for (const s of SIGNALS) {
      const t = plan.signals[s];
      if (t.monthlyLimit !== null && t.included > t.monthlyLimit) {
        ctx.addIssue({ code: 'custom', path: ['signals', s, 'included'], message: `is ${t.included}, above the monthly limit of ${t.monthlyLimit}` });
      }
      if (t.policy === 'block' && t.monthlyLimit === null) {
        ctx.addIssue({ code: 'custom', path: ['signals', s, 'policy'], message: "is 'block' but monthlyLimit is null: there is no limit to block at" });
      }
    }
  });
export type PutPlan = z.infer<typeof PutPlan>;

export const PlanParams = z.object({ planId: PlanId });
export const OrgParams = z.object({ orgId: z.uuid() });
export const StatementParams = z.object({
  orgId: z.uuid(),
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month, YYYY-MM'),
});

export const ChangePlan = z.strictObject({ planId: PlanId });
export type ChangePlan = z.infer<typeof ChangePlan>;

const Line = (max: number) => z.string().trim().min(1).max(max).nullable().optional();
export const PutBillingDetails = z
  .strictObject({
    companyName: Line(200),
    address: Line(1000),
    taxId: Line(64),
    billingEmail: z.email().max(320).nullable().optional(),
    /** Contact points of the organization's projects that get quota warnings (at most 10; [] for none). */
    warningContactPoints: z.array(z.uuid()).max(10, 'at most 10 contact points').optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'send at least one of companyName, address, taxId, billingEmail, warningContactPoints');
export type PutBillingDetails = z.infer<typeof PutBillingDetails>;

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD');
export const UsageQuery = z
  .object({
    from: Day.optional(),
    to: Day.optional(),
    groupBy: z.enum(['project', 'apiKey', 'day', 'signal']).default('signal'),
    signal: z.enum(USAGE_SIGNALS).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.from && q.to && q.from > q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to' });
    if (q.from && q.to && Date.parse(q.to) - Date.parse(q.from) > 400 * 86_400_000) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'the range may span at most 400 days' });
    }
  });
export type UsageQuery = z.infer<typeof UsageQuery>;

export const StatementQuery = z.object({ format: z.enum(['json', 'csv']).optional() });

export type { Signal };
