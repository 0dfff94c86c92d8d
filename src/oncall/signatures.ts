/**
 * Signatures for acting on incidents from outside: our signed one-click links (email, Slack), Slack's
 * request signatures (interactive buttons) and PagerDuty's webhook v3 signatures. Runtime-neutral (Web
 * Crypto only) and clock-free (now is passed in).
 *
 * Invariants:
 * - every MAC is HMAC-SHA256 and every comparison is constant-time over bytes (a loop that always
 *   runs to the end), never `===` on secrets or MACs;
 * - action links bind (incidentId, action, expiresAt, userId) under a tag ('oncall-link/1') that no
 *   other use of the server secret signs: a link does one thing (an ack link never resolves), for one
 *   user, until it expires; the MAC is checked before the payload is even parsed. Links are not
 *   single-use: acknowledging or resolving twice is a no-op in the incident core;
 * - Slack: `X-Slack-Signature: v0=<hex HMAC(signing secret, "v0:" + X-Slack-Request-Timestamp + ":" +
 *   raw body)>`; a timestamp more than 5 minutes from now (either way) is rejected before the MAC, so
 *   a captured request cannot be replayed later;
 * - PagerDuty: `X-PagerDuty-Signature: v1=<hex HMAC(secret, raw body)>`, several comma-separated while
 *   secrets rotate: any v1 entry that matches passes, other versions are ignored;
 * - the raw body is what is signed: callers verify the bytes they received before parsing them.
 */

const enc = new TextEncoder();

export type Verified = { ok: true } | { ok: false; reason: string };

async function hmacSha256(secret: string, message: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(message)));
}

/** Equal bytes, in time that depends only on the lengths (a MAC's length is no secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

// --- Signed one-click action links ----------------------------------------------------------------

export type LinkAction = 'ack' | 'resolve';

export interface ActionClaims {
  incidentId: string;
  action: LinkAction;
  userId: string;
  /** Epoch milliseconds after which the link no longer works. */
  expiresAt: number;
}

const LINK_TAG = 'oncall-link/1';
/** A server secret shorter than this is a configuration error (32 bytes of randomness). */
export const MIN_LINK_SECRET_LENGTH = 32;

function checkSecret(secret: string): void {
  if (enc.encode(secret).length < MIN_LINK_SECRET_LENGTH) throw new RangeError(`the action link secret must be at least ${MIN_LINK_SECRET_LENGTH} bytes`);
}

/** `<base64url payload>.<base64url HMAC of the payload text>`: URL-safe, self-contained. */
export async function signActionLink(secret: string, c: ActionClaims): Promise<string> {
  checkSecret(secret);
  const payload = toBase64Url(enc.encode(JSON.stringify([LINK_TAG, c.incidentId, c.action, c.expiresAt, c.userId])));
  return `${payload}.${toBase64Url(await hmacSha256(secret, payload))}`;
}

/** The link's claims, if it is ours, untampered, for `action`, and not expired at `now`. */
export async function verifyActionLink(secret: string, token: string, action: LinkAction, now: number): Promise<{ ok: true; claims: ActionClaims } | { ok: false; reason: string }> {
  checkSecret(secret);
  const [payload, mac, extra] = token.split('.');
  const given = mac === undefined || extra !== undefined ? null : fromBase64Url(mac);
  if (!payload || !given) return { ok: false, reason: 'malformed link' };
  if (!constantTimeEqual(await hmacSha256(secret, payload), given)) return { ok: false, reason: 'bad signature' };
  let fields: unknown;
  try {
    fields = JSON.parse(new TextDecoder().decode(fromBase64Url(payload)!));
  } catch {
    return { ok: false, reason: 'malformed link' };
  }
  if (!Array.isArray(fields) || fields.length !== 5 || fields[0] !== LINK_TAG) return { ok: false, reason: 'malformed link' };
  const [, incidentId, linkAction, expiresAt, userId] = fields as [string, unknown, unknown, unknown, unknown];
  if (typeof incidentId !== 'string' || typeof userId !== 'string' || typeof expiresAt !== 'number' || (linkAction !== 'ack' && linkAction !== 'resolve')) {
    return { ok: false, reason: 'malformed link' };
  }
  if (linkAction !== action) return { ok: false, reason: `this link is for ${linkAction}, not ${action}` };
  if (now >= expiresAt) return { ok: false, reason: 'the link has expired' };
  return { ok: true, claims: { incidentId, action: linkAction, userId, expiresAt } };
}

// --- Slack request signing -------------------------------------------------------------------------

/** Slack's replay window: requests signed more than 5 minutes from now are rejected. */
export const SLACK_MAX_SKEW_S = 300;

export async function slackSignature(signingSecret: string, timestamp: string, rawBody: string): Promise<string> {
  return `v0=${toHex(await hmacSha256(signingSecret, `v0:${timestamp}:${rawBody}`))}`;
}

/** Verifies X-Slack-Signature and X-Slack-Request-Timestamp (header values, or null when absent). */
export async function verifySlackRequest(
  signingSecret: string,
  headers: { timestamp: string | null; signature: string | null },
  rawBody: string,
  now: number,
): Promise<Verified> {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return { ok: false, reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Slack-Request-Timestamp is not Unix seconds' };
  if (Math.abs(now / 1000 - Number(timestamp)) > SLACK_MAX_SKEW_S) return { ok: false, reason: 'X-Slack-Request-Timestamp is more than 5 minutes from now' };
  const expected = await slackSignature(signingSecret, timestamp, rawBody);
  return constantTimeEqual(enc.encode(expected), enc.encode(signature)) ? { ok: true } : { ok: false, reason: 'X-Slack-Signature does not match' };
}

// --- PagerDuty webhooks v3 ---------------------------------------------------------------------------

export async function pagerDutySignature(secret: string, rawBody: string): Promise<string> {
  return `v1=${toHex(await hmacSha256(secret, rawBody))}`;
}

/** Verifies X-PagerDuty-Signature (the header value, or null): any v1 entry matching passes. */
export async function verifyPagerDutyWebhook(secret: string, header: string | null, rawBody: string): Promise<Verified> {
  const entries = (header ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('v1='));
  if (entries.length === 0) return { ok: false, reason: 'missing X-PagerDuty-Signature (v1)' };
  const expected = enc.encode(await pagerDutySignature(secret, rawBody));
  // Every entry is compared (no early exit), so the time does not say which one matched.
  let matched = false;
  for (const e of entries) matched = constantTimeEqual(expected, enc.encode(e)) || matched;
  return matched ? { ok: true } : { ok: false, reason: 'X-PagerDuty-Signature does not match' };
}
