/**
 * Stripe, against a local server that records the API calls as Stripe would receive them: the meter
 * reports a subscribed organization's usage as Billing meter events (form-encoded, authenticated by
 * the secret key, through the SSRF guard), reports only what is new, and sends a failed report again
 * with the same identifier (Stripe deduplicates by it) rather than losing or doubling it. A plan
 * change makes the customer (once) and the subscription, or cancels it, before the plan commits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMeterUsage } from '../../src/billing/meter-usage.ts';
import type { PlanView } from '../../src/billing/plans.ts';
import { type StripeState, subscriptionSteps } from '../../src/billing/stripe/plan-subscription.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { createTenant, type Tenant } from '../helpers/tenant.ts';

let env: TestEnv;
let stripe: Receiver;
let t: Tenant;
const CUSTOMER = 'cus_E2eStripe0001';

beforeAll(async () => {
  stripe = await startReceiver({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"object":"billing.meter_event"}' });
  env = await createTestEnv({
    env: { STRIPE_API_KEY: 'sk_test_e2e0123456789', STRIPE_API_BASE: stripe.url, OUTBOUND_ALLOW_PRIVATE: `127.0.0.1:${stripe.port}` },
  });
  t = await createTenant(env);
  await env.db.query(`insert into public.organization_billing (organization_id, stripe_customer_id, subscription_status) values ($1, $2, 'active')`, [t.orgId, CUSTOMER]);
});
afterAll(async () => {
  await env?.close();
  await stripe?.close();
});

const meter = (laterMs = 0) => runMeterUsage(env.deps, { now: new Date(env.clock.now().getTime() + laterMs), budgetMs: 30_000 });
const ingestLogs = async (n: number) => {
  const logs = Array.from({ length: n }, (_, i) => ({ timestamp: Date.now() - 1000, message: `stripe ${Math.random()} ${i}` }));
  expect((await env.request('POST', '/functions/v1/ingest', { apiKey: t.keyA.secret, body: { logs } })).status).toBe(200);
};
const form = (body: string) => Object.fromEntries(new URLSearchParams(body));

describe('Stripe usage reporting', () => {
  it('reports new usage as meter events, once, and resends a failed report with the same identifier', async () => {
    await ingestLogs(7);
    expect((await meter()).stripe).toEqual({ reported: 1, failed: 0 });
    const [first] = stripe.received;
    expect(first).toMatchObject({ method: 'POST', path: '/v1/billing/meter_events' });
    expect(first!.headers.authorization).toBe('Bearer sk_test_e2e0123456789');
    expect(first!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const sent = form(first!.body);
    expect(sent).toMatchObject({ event_name: 'observai_logs_events', 'payload[stripe_customer_id]': CUSTOMER, 'payload[value]': '7' });
    expect(sent.identifier).toMatch(new RegExp(`^${t.orgId}:\\d{4}-\\d{2}:logs:7$`));

    // Nothing new: nothing sent.
    expect((await meter()).stripe).toEqual({ reported: 0, failed: 0 });
    expect(stripe.received).toHaveLength(1);

    // Stripe fails once: the report stays pending and goes again, identical, on the next run.
    await ingestLogs(3);
    stripe.queue = [{ status: 500, headers: { 'content-type': 'application/json' }, body: '{"error":{"message":"try later"}}' }];
    expect((await meter()).stripe).toEqual({ reported: 0, failed: 1 });
    await ingestLogs(2); // arrives meanwhile: reported after the pending one, not folded into it
    expect((await meter(90_000)).stripe).toEqual({ reported: 1, failed: 0 }); // a run later: the same event, timestamp included
    const [failed, resent] = stripe.received.slice(1).map((r) => form(r.body));
    expect(resent).toEqual(failed);
    expect(resent).toMatchObject({ 'payload[value]': '3' });
    expect((await meter()).stripe).toEqual({ reported: 1, failed: 0 });
    expect(form(stripe.received.at(-1)!.body)).toMatchObject({ 'payload[value]': '2' });
    // In all: 7 + 3 + 2, each event reported once.
    const values = stripe.received.filter((r, i, all) => all.findIndex((o) => form(o.body).identifier === form(r.body).identifier) === i).map((r) => Number(form(r.body)['payload[value]']));
    expect(values.reduce((a, b) => a + b, 0)).toBe(12);
  });
});

describe('Stripe customers and subscriptions on plan changes', () => {
  const ok = (body: unknown) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const fail = (status: number, message: string) => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { message } }) });
  const open = { monthlyLimit: null, included: 0, pricePerMillionCents: 0, policy: 'overage' };
  const putPlan = async (u: Tenant, id: string, stripePrices: Record<string, string | null>) => {
    const body = {
      name: `Paid ${id}`,
      organizationId: u.orgId,
      basePriceCents: 4900,
      signals: { metrics: open, logs: open, traces: open },
      limits: { activeSeries: null, members: null, alertRules: null, webhookEndpoints: null, apiRequestsPerMinute: null, retentionDays: 400 },
      stripePrices,
    };
    const res = await env.request('PUT', `/functions/v1/billing/plans/${id}`, { headers: { authorization: `Bearer ${await env.serviceJwt()}` }, body });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await res.json()).plan.stripePrices).toEqual({ base: null, metrics: null, logs: null, traces: null, ...stripePrices });
  };
  const change = async (u: Tenant, planId: string) => {
    const res = await env.request('PUT', `/functions/v1/billing/${u.orgId}/plan`, { token: u.people.owner.jwt, body: { planId } });
    return { status: res.status, body: await res.json() };
  };
  const state = async (u: Tenant) => {
    const [row] = await env.db.query<{ plan: string; customer: string | null; subscription: string | null; status: string | null }>(
      `select o.plan, b.stripe_customer_id as customer, b.stripe_subscription_id as subscription, b.subscription_status as status
       from public.organizations o left join public.organization_billing b on b.organization_id = o.id where o.id = $1`,
      [u.orgId],
    );
    return row!;
  };

  it('creates the customer once and the subscription before the plan commits, cancels on leaving, and changes nothing when Stripe refuses or fails', async () => {
    const u = await createTenant(env);
    await env.db.query(`update public.organizations set billing_email = 'billing@acme.example' where id = $1`, [u.orgId]);
    const tag = u.orgId.replace(/-/g, '').slice(0, 12);
    const [cus, sub1, sub2, sub3] = [`cus_${tag}`, `sub_${tag}a`, `sub_${tag}b`, `sub_${tag}c`];
    const pro = `sp-${tag}`;
    const team = `sq-${tag}`;
    await putPlan(u, pro, { base: 'price_Base1', metrics: 'price_Metrics1', traces: 'price_Traces1' });
    await putPlan(u, team, { base: 'price_Base2' });
    const [{ last }] = (await env.db.query<{ last: number }>('select coalesce(max(id), 0)::float8 as last from public.audit_log where organization_id = $1', [u.orgId])) as [{ last: number }];
    const mark = stripe.received.length;
    const calls = () => stripe.received.slice(mark);

    // Free -> paid: the customer, then the subscription to the base and metered prices.
    stripe.queue = [ok({ id: cus, object: 'customer' }), ok({ id: sub1, status: 'active' })];
    expect(await change(u, pro)).toMatchObject({ status: 200, body: { plan: { id: pro } } });
    const [customer, subscribe] = calls();
    expect(customer).toMatchObject({ method: 'POST', path: '/v1/customers' });
    expect(customer!.headers['idempotency-key']).toBe(`observai-customer-${u.orgId}`);
    expect(customer!.headers.authorization).toBe('Bearer sk_test_e2e0123456789');
    expect(customer!.body).toBe(`name=Acme&email=billing%40acme.example&metadata%5Borganization_id%5D=${u.orgId}`);
    expect(subscribe).toMatchObject({ method: 'POST', path: '/v1/subscriptions' });
    expect(subscribe!.headers['idempotency-key']).toBe(`observai-subscription-${u.orgId}-${pro}-after-none`);
    expect(form(subscribe!.body)).toEqual({
      customer: cus,
      'items[0][price]': 'price_Base1',
      'items[1][price]': 'price_Metrics1',
      'items[2][price]': 'price_Traces1',
      'metadata[organization_id]': u.orgId,
      'metadata[plan_id]': pro,
    });
    expect(await state(u)).toEqual({ plan: pro, customer: cus, subscription: sub1, status: 'active' });
    // Audited: which fields changed, never their values.
    const audit = await env.db.query<{ action: string; details: unknown }>(
      `select action, details from public.audit_log where organization_id = $1 and id > $2 order by id`,
      [u.orgId, last],
    );
    expect(audit.map((a) => a.action)).toEqual(['billing.details_changed', 'organization.billing_changed']);
    expect((audit[0]!.details as { fields: string[] }).fields.sort()).toEqual(['stripe_customer_id', 'stripe_subscription_id', 'subscription_status']);
    expect(JSON.stringify(audit)).not.toMatch(/cus_|sub_|sk_test/);

    // Stripe refuses the new subscription (402, a declined card): 409 with Stripe's words; nothing changes.
    stripe.queue = [fail(402, 'Your card was declined.')];
    const declined = await change(u, team);
    expect(declined.status).toBe(409);
    expect(declined.body.error.message).toMatch(/Stripe refused to create the subscription \(402: Your card was declined\.\); the plan was not changed/);
    expect(await state(u)).toEqual({ plan: pro, customer: cus, subscription: sub1, status: 'active' });

    // Stripe fails to cancel the old one (500): 503, nothing changes; the retry makes the same subscription (same key).
    stripe.queue = [ok({ id: sub2, status: 'active' }), fail(500, 'try later')];
    const failed = await change(u, team);
    expect(failed.status).toBe(503);
    expect(failed.body.error.message).toMatch(/Stripe answered 500 when asked to cancel the previous subscription; the plan was not changed, try again/);
    expect(await state(u)).toEqual({ plan: pro, customer: cus, subscription: sub1, status: 'active' });
    stripe.queue = [ok({ id: sub2, status: 'active' }), ok({ id: sub1, status: 'canceled' })];
    expect((await change(u, team)).status).toBe(200);
    const attempts = calls().slice(2);
    expect(attempts.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /v1/subscriptions', // declined
      'POST /v1/subscriptions',
      `DELETE /v1/subscriptions/${sub1}`, // failed
      'POST /v1/subscriptions',
      `DELETE /v1/subscriptions/${sub1}`,
    ]);
    expect(new Set(attempts.filter((c) => c.method === 'POST').map((c) => c.headers['idempotency-key']))).toEqual(new Set([`observai-subscription-${u.orgId}-${team}-after-${sub1}`]));
    expect(form(attempts[3]!.body)).toEqual({ customer: cus, 'items[0][price]': 'price_Base2', 'metadata[organization_id]': u.orgId, 'metadata[plan_id]': team });
    expect(await state(u)).toEqual({ plan: team, customer: cus, subscription: sub2, status: 'active' });

    // The orgs function's PATCH cannot reach Stripe: it points at the billing verb.
    const patched = await env.request('PATCH', `/functions/v1/orgs/${u.orgId}`, { token: u.people.owner.jwt, body: { plan: 'free' } });
    expect(patched.status).toBe(409);
    expect((await patched.json()).error.message).toMatch(/goes through PUT \/billing\//);

    // Paid -> free: the subscription is cancelled, the customer kept.
    const before = stripe.received.length;
    stripe.queue = [ok({ id: sub2, status: 'canceled' })];
    expect((await change(u, 'free')).status).toBe(200);
    expect(stripe.received.slice(before).map((c) => `${c.method} ${c.path}`)).toEqual([`DELETE /v1/subscriptions/${sub2}`]);
    expect(await state(u)).toEqual({ plan: 'free', customer: cus, subscription: sub2, status: 'canceled' });

    // Back to a paid plan: the same customer (no second one), a new subscription keyed after the last.
    stripe.queue = [ok({ id: sub3, status: 'incomplete' })];
    expect((await change(u, pro)).status).toBe(200);
    const [again] = stripe.received.slice(before + 1);
    expect(`${again!.method} ${again!.path}`).toBe('POST /v1/subscriptions');
    expect(again!.headers['idempotency-key']).toBe(`observai-subscription-${u.orgId}-${pro}-after-${sub2}`);
    expect(stripe.received.slice(before + 1)).toHaveLength(1);
    expect(await state(u)).toEqual({ plan: pro, customer: cus, subscription: sub3, status: 'incomplete' });
  });

  const plan = (id: string, prices: Partial<PlanView['stripePrices']>) => ({ id, stripePrices: { base: null, metrics: null, logs: null, traces: null, ...prices } }) as PlanView;
  const none: StripeState = { customerId: null, subscriptionId: null, subscriptionStatus: 'none' };
  const live: StripeState = { customerId: 'cus_1', subscriptionId: 'sub_1', subscriptionStatus: 'active' };
  const ended: StripeState = { customerId: 'cus_1', subscriptionId: 'sub_1', subscriptionStatus: 'canceled' };
  it.each([
    // free -> paid, first time: customer and subscription.
    ['free to paid, no customer', none, 'free', plan('pro', { base: 'price_B', logs: 'price_L' }), { createCustomer: true, subscribe: ['price_B', 'price_L'], cancel: null }],
    // paid -> paid: the new subscription, then the old one cancelled.
    ['paid to paid', live, 'pro', plan('team', { base: 'price_T' }), { createCustomer: false, subscribe: ['price_T'], cancel: 'sub_1' }],
    // paid -> free: cancel only.
    ['paid to free', live, 'pro', plan('free', {}), { createCustomer: false, subscribe: null, cancel: 'sub_1' }],
    // free -> free with an ended subscription: nothing to cancel.
    ['free to another free plan, subscription ended', ended, 'free', plan('hobby', {}), { createCustomer: false, subscribe: null, cancel: null }],
    // the same paid plan with a live subscription: nothing.
    ['same paid plan, live', live, 'pro', plan('pro', { base: 'price_B' }), { createCustomer: false, subscribe: null, cancel: null }],
    // the same paid plan whose subscription ended: subscribe again (a repair), customer reused.
    ['same paid plan, ended', ended, 'pro', plan('pro', { base: 'price_B' }), { createCustomer: false, subscribe: ['price_B'], cancel: null }],
  ] as Array<[string, StripeState, string, PlanView, unknown]>)('subscriptionSteps: %s', (_, st, current, target, expected) => {
    expect(subscriptionSteps(st, current, target)).toEqual(expected);
  });
});
