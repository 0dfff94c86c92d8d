import { Hono } from 'hono';
import { authorize } from '../../auth/authenticate.ts';
import type { Deps } from '../../core/deps.ts';
import { actorClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { parseBody, parseParams, parseQuery } from '../../http/validate.ts';
import { getBilling, putBillingDetails } from '../billing-details.ts';
import { changePlan } from '../change-plan.ts';
import { getStatement } from '../get-statement.ts';
import { getUsage } from '../get-usage.ts';
import { listPlans } from '../list-plans.ts';
import { putPlan } from '../put-plan.ts';
import { BillingResponse, PlanResponse, PlansResponse, STATEMENT, StripeWebhookResponse, UsageResponse } from '../responses.ts';
import { ChangePlan, OrgParams, PlanParams, PutBillingDetails, PutPlan, StatementParams, StatementQuery, UsageQuery } from '../schemas.ts';
import { statementCsv } from '../statement.ts';
import { receiveStripeWebhook } from '../stripe/apply-stripe-event.ts';

/**
 * The billing function: plans, an organization's plan and billing details (owners), usage (every
 * member, as RLS allows), monthly statements (owners), and Stripe's webhooks (Stripe's signature).
 */
export function billingRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/plans', describe({ summary: "The plans the caller may choose: the shared ones and their organizations' custom plans", auth: ['user'], responses: { 200: PlansResponse } }), async (c) => c.json({ plans: await listPlans(deps, actorClaims(c)) }));
  // Plans are contract terms: the operator's (service role), never an organization's own.
  app.put(
    '/plans/:planId',
    describe({
      summary: 'Create or replace a plan (the service role)',
      description: 'Refused with 409 when an organization on the plan would no longer fit it, naming what must change first.',
      auth: ['service'],
      params: PlanParams,
      body: PutPlan,
      responses: { 200: PlanResponse, 201: PlanResponse },
    }),
    async (c) => {
      authorize(c.get('identity'), ['service']);
      const { planId } = parseParams(c, PlanParams);
      const { plan, created } = await putPlan(deps, planId, await parseBody(c, PutPlan));
      return c.json({ plan }, created ? 201 : 200);
    },
  );
  // Stripe calls this with its signature over the raw body as the only credential.
  app.post(
    '/stripe/webhook',
    describe({
      summary: "Stripe's webhook endpoint",
      description:
        "Authenticated by the `Stripe-Signature` header alone (HMAC-SHA256 of the raw body, 5 minutes' tolerance): 400 when it fails, 501 when STRIPE_WEBHOOK_SECRET is not set. Each event id is applied once; a replay is acknowledged with `duplicate: true`.",
      auth: [],
      body: { description: 'A Stripe event, exactly as Stripe sends it.', content: { 'application/json': undefined } },
      responses: { 200: StripeWebhookResponse },
    }),
    async (c) => c.json(await receiveStripeWebhook(deps, await c.req.text(), c.req.header('stripe-signature') ?? null)),
  );

  app.get('/:orgId', describe({ summary: "An organization's plan, billing details and Stripe state (owners)", auth: ['user'], params: OrgParams, responses: { 200: BillingResponse } }), async (c) => c.json(await getBilling(deps, actorClaims(c), parseParams(c, OrgParams).orgId)));
  app.put(
    '/:orgId/plan',
    describe({
      summary: "Change an organization's plan (owners)",
      description: 'Refused with 409 when the organization does not fit the plan (members, alert rules, webhook endpoints, retention), naming what must change first.',
      auth: ['user'],
      params: OrgParams,
      body: ChangePlan,
      responses: { 200: PlanResponse },
    }),
    async (c) => {
      const actor = actorClaims(c);
      const { orgId } = parseParams(c, OrgParams);
      return c.json({ plan: await changePlan(deps, actor, orgId, (await parseBody(c, ChangePlan)).planId) });
    },
  );
  app.put(
    '/:orgId/details',
    describe({ summary: "Set an organization's billing details (owners; what is left out is kept, null clears)", auth: ['user'], params: OrgParams, body: PutBillingDetails, responses: { 200: BillingResponse } }),
    async (c) => {
      const actor = actorClaims(c);
      const { orgId } = parseParams(c, OrgParams);
      return c.json(await putBillingDetails(deps, actor, orgId, await parseBody(c, PutBillingDetails)));
    },
  );
  app.get(
    '/:orgId/usage',
    describe({
      summary: "An organization's metered usage (every member; RLS limits members and viewers to their projects)",
      description: "Defaults to the current billing period (a UTC calendar month). Owners and admins also get the plan's monthly limits.",
      auth: ['user'],
      params: OrgParams,
      query: UsageQuery,
      responses: { 200: UsageResponse },
    }),
    async (c) => {
      const actor = actorClaims(c);
      const { orgId } = parseParams(c, OrgParams);
      return c.json(await getUsage(deps, actor, orgId, parseQuery(c, UsageQuery)));
    },
  );
  app.get(
    '/:orgId/statements/:month',
    describe({ summary: "A month's statement, priced under the current plan (owners)", auth: ['user'], params: StatementParams, query: StatementQuery, responses: { 200: STATEMENT } }),
    async (c) => {
      const actor = actorClaims(c);
      const { orgId, month } = parseParams(c, StatementParams);
      const { format } = parseQuery(c, StatementQuery);
      const statement = await getStatement(deps, actor, orgId, month);
      const csv = format === 'csv' || (format === undefined && /\btext\/csv\b/.test(c.req.header('accept') ?? ''));
      if (!csv) return c.json({ statement });
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', `attachment; filename="statement-${month}.csv"`);
      return c.body(statementCsv(statement));
    },
  );

  return app;
}
