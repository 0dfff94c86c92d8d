/**
 * What every HTTP delivery shares (alert notifiers and webhook messages): one POST through the SSRF
 * guard and one reading of the answer. The mapping from a receiver's answer to a DeliveryResult
 * lives here once, so Slack, PagerDuty, Alertmanager, webhooks and the email API retry (or give up)
 * by the same rules:
 *
 * - 2xx: delivered.
 * - 3xx: permanent. The guard never follows redirects (a redirect names a new host the address
 *   policy would have to judge again, and a tenant could aim it anywhere); the URL must be the final one.
 * - 410 Gone: permanent, and the endpoint should be disabled (Standard Webhooks; Slack's channel_is_archived).
 * - 408, 409, 425, 429 and 5xx (except 501 and 505): retryable, honouring Retry-After.
 *   409 is retried: receivers answer it for a lock or a concurrent write, and dropping an alert costs
 *   more than a few extra attempts.
 * - Every other 4xx (400, 401, 403, 404, 413, 422, ...): permanent; repeating the request cannot help.
 * - No answer (refused by the address policy, unreachable, timed out, not HTTP): retryable, with the
 *   guard's one generic message. Refused and unreachable are deliberately alike (also in whether they
 *   are retried): telling them apart would make contact points a scanner of private networks.
 */
import type { DeliveryResult } from './delivery.ts';
import type { OutboundGuard } from './outbound.ts';

/** What one HTTP attempt needs: the guard, the attempt's time (for Retry-After dates) and its bound. */
export interface HttpAttemptContext {
  outbound: OutboundGuard;
  now: Date;
  timeoutMs: number;
}

/** The guard's message for every destination that gave no answer (src/net/outbound.ts UNREACHABLE_MESSAGE). */
export const NO_ANSWER = 'The destination could not be reached: no answer came from an allowed address';

/** How much of an answer is read: enough for an error text, never a tenant-chosen flood. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** Retry-After values beyond this are treated as this (the retry policy caps far lower anyway). */
const MAX_RETRY_AFTER_MS = 7 * 24 * 3600_000;

const RETRYABLE = new Set([408, 409, 425, 429]);
const PERMANENT_5XX = new Set([501, 505]);

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 10.2.3), in ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // An HTTP-date always names its weekday or month in letters; a bare number in another form is not one.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - now.getTime()), MAX_RETRY_AFTER_MS);
}

/**
 * What of an answer's body a tenant may read: an error word like Slack's `invalid_token` or
 * `no_service`, nothing else. A body can be anything a private service answers (a destination an
 * operator allowed for exports, say), and relaying it would make notifiers a way to read those
 * services (ADR 0005 keeps their answers generic); an error word tells nothing of the sort.
 */
export function excerpt(body: string | null | undefined): string {
  const word = (body ?? '').trim();
  return /^[a-z][a-z0-9_]{0,63}$/.test(word) ? word : '';
}

/**
 * The DeliveryResult for a receiver's answer. `body` is the (capped) text of the answer when it
 * was read; it only adds an excerpt to the message.
 */
export function classifyResponse(res: Response, now: Date, body?: string | null): DeliveryResult {
  const status = res.status;
  const said = excerpt(body);
  if (status >= 200 && status < 300) return { ok: true, status, ...(said ? { detail: said } : {}) };
  const fail = (retryable: boolean, error: string, extra: { disable?: boolean } = {}): DeliveryResult => ({
    ok: false,
    retryable,
    status,
    retryAfterMs: retryable ? parseRetryAfter(res.headers.get('retry-after'), now) : null,
    error,
    ...extra,
  });
  const answered = `The receiver answered ${status}${said ? `: ${said}` : ''}`;
  if (status >= 300 && status < 400) {
    // The Location is not repeated: it may name an internal host of whoever runs the receiver.
    return fail(false, `The receiver answered ${status}, a redirect, which is not followed: set the URL to the final address`);
  }
  if (status === 410) return fail(false, `${answered} (the endpoint is gone and is disabled)`, { disable: true });
  if (status === 429) return fail(true, `The receiver answered 429 (rate limiting)${said ? `: ${said}` : ''}`);
  if (RETRYABLE.has(status)) return fail(true, answered);
  if (status >= 500 && status < 600) return fail(!PERMANENT_5XX.has(status), answered);
  return fail(false, answered);
}

/** A thrown fetch failure as a DeliveryResult: an invalid URL is permanent, anything else retryable and generic. */
export function networkFailure(err: unknown): DeliveryResult {
  // Duck-typed, not `instanceof OutboundError`: importing the class would pull node:http into the edge bundle.
  const e = err as { name?: unknown; kind?: unknown; message?: unknown } | null;
  const outbound = e?.name === 'OutboundError' && typeof e.message === 'string';
  if (outbound && e.kind === 'invalid-url') return { ok: false, retryable: false, status: null, retryAfterMs: null, error: e.message as string };
  return { ok: false, retryable: true, status: null, retryAfterMs: null, error: outbound ? (e.message as string) : NO_ANSWER };
}

/**
 * Reads at most `maxBytes` of the body as text, giving up at `deadline` (ms from now) so a receiver
 * that sends headers and then stalls cannot hold a delivery worker. Null when nothing could be read.
 */
export async function readCapped(res: Response, maxBytes: number, timeoutMs: number): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<'stalled'>((resolve) => {
    timer = setTimeout(() => resolve('stalled'), timeoutMs);
  });
  try {
    while (size < maxBytes) {
      const next = await Promise.race([reader.read(), stalled]);
      if (next === 'stalled' || next.done) break;
      chunks.push(next.value);
      size += next.value.byteLength;
    }
  } catch {
    // A broken body after the status line: the status still stands.
  } finally {
    clearTimeout(timer);
    // Whatever is left (or still coming) is dropped and the socket closed.
    reader.cancel().catch(() => {});
  }
  if (chunks.length === 0) return null;
  const all = new Uint8Array(Math.min(size, maxBytes));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, all.length - at);
    all.set(part, at);
    at += part.length;
    if (at >= all.length) break;
  }
  return new TextDecoder().decode(all);
}

/** POSTs a JSON body through the guard and classifies the answer. `body` is sent byte for byte (signatures cover it). */
export async function postJson(ctx: HttpAttemptContext, url: string, body: string, headers: Record<string, string> = {}): Promise<DeliveryResult> {
  return (await postForAnswer(ctx, url, body, { 'user-agent': 'ObservAI-Hub-Alerts/1', ...headers })).result;
}

/** postJson, also returning the answer's text (capped at MAX_RESPONSE_BYTES; null when none was read). */
export async function postForAnswer(
  ctx: HttpAttemptContext,
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ result: DeliveryResult; text: string | null }> {
  let res: Response;
  try {
    res = await ctx.outbound.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: new TextEncoder().encode(body),
      timeoutMs: ctx.timeoutMs,
    });
  } catch (err) {
    return { result: networkFailure(err), text: null };
  }
  const text = await readCapped(res, MAX_RESPONSE_BYTES, ctx.timeoutMs);
  return { result: classifyResponse(res, ctx.now, text), text };
}
