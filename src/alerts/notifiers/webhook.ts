/**
 * Generic webhook, signed per Standard Webhooks v1 so receivers can verify it with any of that
 * spec's libraries (`new Webhook(secret).verify(body, headers)`):
 *
 * - `webhook-id`: the notification id, the same on every retry (the receiver's idempotency key);
 * - `webhook-timestamp`: this attempt's time in Unix seconds (receivers reject stale ones, 5 min);
 * - `webhook-signature`: `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, the key being
 *   the base64 part of the `whsec_` secret.
 *
 * The body is the same bytes on every retry: `timestamp` is when the notification was created, not
 * when this attempt was made (that is the header's job).
 */
import { z } from 'zod';
import type { Notification } from '../model.ts';
import { capAlerts, fromBase64, HttpUrl, MaxAlerts, misconfigured, toBase64 } from './common.ts';
import { postJson } from './http.ts';
import type { Notifier } from './types.ts';

export const WebhookSettings = z.strictObject({
  url: HttpUrl,
  /** Alerts per request; 0 or absent = all. Left-out alerts are counted in data.truncatedAlerts. */
  maxAlerts: MaxAlerts.optional(),
});
export type WebhookSettings = z.output<typeof WebhookSettings>;

const SECRET_PREFIX = 'whsec_';

function secretKey(secret: string): Uint8Array<ArrayBuffer> | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  try {
    const key = fromBase64(secret.slice(SECRET_PREFIX.length));
    return key.length > 0 ? key : null;
  } catch {
    return null;
  }
}

/** `whsec_<base64>` of 24 to 64 random bytes (the spec asks for at least 24). */
export const WebhookSecret = z
  .string()
  .trim()
  .refine((s) => {
    const key = secretKey(s);
    return key !== null && key.length >= 24 && key.length <= 64;
  }, 'must be whsec_ followed by 24 to 64 bytes in base64');

/** A new signing secret: `whsec_` + 32 random bytes in base64. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/** The `webhook-signature` value for one attempt: `v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}`. */
export async function signStandardWebhook(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const raw = secretKey(secret);
  if (!raw) throw new Error('the webhook secret is not whsec_<base64>');
  const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

export interface WebhookPayload {
  type: 'alert.firing' | 'alert.resolved';
  timestamp: string;
  data: Notification;
}

export function webhookPayload(n: Notification, settings: WebhookSettings): WebhookPayload {
  return { type: n.status === 'firing' ? 'alert.firing' : 'alert.resolved', timestamp: n.createdAt, data: capAlerts(n, settings.maxAlerts) };
}

export const webhookNotifier: Notifier<WebhookSettings> = {
  kind: 'webhook',
  settings: WebhookSettings,
  secret: { required: true, describe: 'Signing secret (whsec_...), shared with the receiver to verify webhook-signature', schema: WebhookSecret },
  async send(n, target, ctx) {
    if (!target.secret || !secretKey(target.secret)) return misconfigured('The webhook has no valid signing secret (whsec_...)');
    const body = JSON.stringify(webhookPayload(n, target.settings));
    const timestamp = Math.floor(ctx.now.getTime() / 1000);
    const signature = await signStandardWebhook(target.secret, n.id, timestamp, body);
    return postJson(ctx, target.settings.url, body, {
      'webhook-id': n.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    });
  },
};
