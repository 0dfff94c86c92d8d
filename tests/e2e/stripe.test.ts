/**
 * Stripe, against a local server that records the API calls as Stripe would receive them: the meter
 * reports a subscribed organization's usage as Billing meter events (form-encoded, authenticated by
 * the secret key, through the SSRF guard), reports only what is new, and sends a failed report again
 * with the same identifier (Stripe deduplicates by it) rather than losing or doubling it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMeterUsage } from '../../src/billing/meter-usage.ts';
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

const meter = () => runMeterUsage(env.deps, { now: env.clock.now(), budgetMs: 30_000 });
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
    expect((await meter()).stripe).toEqual({ reported: 1, failed: 0 });
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
