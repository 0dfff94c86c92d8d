/**
 * When to send a failed batch again: exponential backoff with full jitter (a uniformly random wait
 * between 0 and min(maxMs, baseMs * 2^(attempt-1)), so clients that failed together do not come
 * back together), but never sooner than the server's Retry-After.
 */
export interface RetryOptions {
  /** First backoff ceiling (ms). Default 500. */
  baseMs?: number;
  /** Largest backoff ceiling (ms). Default 30,000. */
  maxMs?: number;
  /** A batch still failing this long after its first attempt is dropped (counted, reported). Default 10 minutes. */
  giveUpAfterMs?: number;
}

export const RETRY_DEFAULTS: Required<RetryOptions> = { baseMs: 500, maxMs: 30_000, giveUpAfterMs: 600_000 };

export function backoffMs(attempt: number, retryAfterMs: number | undefined, o: Required<RetryOptions>, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = random() * ceiling;
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Statuses worth sending again: the request may succeed later unchanged. */
export const isRetryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;
