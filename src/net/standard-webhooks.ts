/**
 * Standard Webhooks v1 signing, shared by the alert webhook notifier and the webhooks service:
 *
 * - `webhook-id`: the message id, the same on every retry (the receiver's idempotency key);
 * - `webhook-timestamp`: the attempt's time in Unix seconds (receivers reject stale ones, 5 min);
 * - `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`,
 *   one per secret in use (two while a rotated secret's grace period lasts), the key being the
 *   base64 part of the `whsec_` secret.
 *
 * Receivers verify with any of the spec's libraries (`new Webhook(secret).verify(body, headers)`).
 * Runtime-neutral: Web Crypto only.
 */
import { z } from 'zod';

const SECRET_PREFIX = 'whsec_';

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The HMAC key of a `whsec_<base64>` secret, or null when it is not one. */
export function secretKey(secret: string): Uint8Array<ArrayBuffer> | null {
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

/** One `v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}`. */
export async function signStandardWebhook(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const raw = secretKey(secret);
  if (!raw) throw new Error('the webhook secret is not whsec_<base64>');
  const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The three headers of one attempt, signed with every given secret (the current one first). */
export async function standardWebhookHeaders(secrets: readonly string[], id: string, timestamp: number, body: string): Promise<Record<string, string>> {
  const signatures = await Promise.all(secrets.map((s) => signStandardWebhook(s, id, timestamp, body)));
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatures.join(' ') };
}
