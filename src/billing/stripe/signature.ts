/**
 * Stripe's webhook signature scheme: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, each
 * v1 an HMAC-SHA256 of `<t>.<raw body>` keyed with the endpoint secret (the whole `whsec_...`
 * string). Verified in constant time, within a tolerance of the timestamp (replays of an old
 * delivery fail; a replay inside it is caught by the event id, see apply-stripe-event.ts).
 */
import { timingSafeEqual } from '../../core/ids.ts';

export const STRIPE_TOLERANCE_S = 300;
const enc = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The header Stripe would send for `payload` at `timestamp` (seconds): for tests and tools. */
export async function stripeSignatureHeader(secret: string, payload: string, timestamp: number): Promise<string> {
  return `t=${timestamp},v1=${await hmacHex(secret, `${timestamp}.${payload}`)}`;
}

export async function verifyStripeSignature(secret: string, header: string | null, payload: string, nowMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!header) return { ok: false, reason: 'the Stripe-Signature header is missing' };
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.split('=', 2).map((x) => x.trim());
    if (k === 't' && v && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  if (t === undefined || v1.length === 0) return { ok: false, reason: 'the Stripe-Signature header has no timestamp or no v1 signature' };
  if (Math.abs(nowMs / 1000 - t) > STRIPE_TOLERANCE_S) return { ok: false, reason: `the signature's timestamp is more than ${STRIPE_TOLERANCE_S} s from now` };
  const expected = await hmacHex(secret, `${t}.${payload}`);
  let match = false;
  for (const sig of v1) match = timingSafeEqual(sig, expected) || match;
  return match ? { ok: true } : { ok: false, reason: 'no v1 signature matches' };
}
