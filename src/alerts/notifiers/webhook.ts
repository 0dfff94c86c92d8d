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
import { generateWebhookSecret, secretKey, signStandardWebhook, WebhookSecret } from '../../net/standard-webhooks.ts';
import { capAlerts, HttpUrl, MaxAlerts, misconfigured } from './common.ts';
import { postJson } from '../../net/http-delivery.ts';
import type { Notifier } from './types.ts';

export const WebhookSettings = z.strictObject({
  url: HttpUrl,
  /** Alerts per request; 0 or absent = all. Left-out alerts are counted in data.truncatedAlerts. */
  maxAlerts: MaxAlerts.optional(),
});
export type WebhookSettings = z.output<typeof WebhookSettings>;

export { generateWebhookSecret, signStandardWebhook, WebhookSecret };

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
