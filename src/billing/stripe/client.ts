import type { OutboundGuard } from '../../net/outbound.ts';

export interface StripeConfig {
  apiKey: string;
  /** https://api.stripe.com, or a local stand-in in tests (allowed through OUTBOUND_ALLOW_PRIVATE). */
  apiBase: string;
  webhookSecret: string | null;
  meterEvents: Record<'metrics' | 'logs' | 'traces', string>;
}

export class StripeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'StripeError';
  }
}

/** Stripe's form encoding: nested keys as a[b][c], arrays as a[0]. */
export function formEncode(params: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    const key = prefix ? `${prefix}[${k}]` : k;
    if (typeof v === 'object') out.push(...formEncode(v as Record<string, unknown>, key));
    else out.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`);
  }
  return out;
}

/**
 * The few Stripe API calls we make, through the outbound guard (the base URL is configuration).
 * `idempotencyKey` makes a retried POST one operation at Stripe.
 */
export function stripeClient(config: StripeConfig, outbound: OutboundGuard) {
  async function call<T>(method: 'POST' | 'DELETE', path: string, params: Record<string, unknown>, idempotencyKey?: string): Promise<T> {
    const res = await outbound.fetch(`${config.apiBase}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${config.apiKey}`,
        'content-type': 'application/x-www-form-urlencoded',
        'stripe-version': '2024-06-20',
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      body: formEncode(params).join('&'),
      timeoutMs: 10_000,
    });
    const text = await res.text();
    if (!res.ok) {
      let message = `Stripe answered ${res.status}`;
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // not JSON
      }
      throw new StripeError(res.status, message);
    }
    return JSON.parse(text) as T;
  }
  const post = <T>(path: string, params: Record<string, unknown>, idempotencyKey?: string) => call<T>('POST', path, params, idempotencyKey);
  return {
    createCustomer: (p: { organizationId: string; name: string; email: string | null }) =>
      post<{ id: string }>('/v1/customers', { name: p.name, email: p.email ?? undefined, metadata: { organization_id: p.organizationId } }, `observai-customer-${p.organizationId}`),
    /** A subscription to `prices` (the base, quantity 1, and metered prices, which take no quantity). */
    createSubscription: (p: { customer: string; prices: string[]; organizationId: string; planId: string; idempotencyKey: string }) =>
      post<{ id: string; status: string }>(
        '/v1/subscriptions',
        { customer: p.customer, items: Object.fromEntries(p.prices.map((price, i) => [i, { price }])), metadata: { organization_id: p.organizationId, plan_id: p.planId } },
        p.idempotencyKey,
      ),
    /** Cancels at once (DELETE /v1/subscriptions/:id). */
    cancelSubscription: (id: string) => call<{ id: string; status: string }>('DELETE', `/v1/subscriptions/${encodeURIComponent(id)}`, {}),
    /** A Billing meter event; Stripe deduplicates by `identifier`. */
    meterEvent: (p: { eventName: string; customer: string; value: number; identifier: string; timestamp: number }) =>
      post<{ identifier: string }>('/v1/billing/meter_events', {
        event_name: p.eventName,
        payload: { stripe_customer_id: p.customer, value: p.value },
        identifier: p.identifier,
        timestamp: p.timestamp,
      }),
  };
}

export type StripeClient = ReturnType<typeof stripeClient>;
