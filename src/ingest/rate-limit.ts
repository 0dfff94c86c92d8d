import type { Cache } from '../cache/types.ts';
import type { Logger } from '../core/logger.ts';
import type { IngestSettings } from './settings.ts';

export interface RateLimitResult {
  ok: boolean;
  /** Headers to send either way (IETF RateLimit fields, plus Retry-After when refused). */
  headers: Record<string, string>;
  /** True when the cache could not be reached and the request was let through. */
  degraded: boolean;
  /** The values of the `extra` counters after this request's increments (absent when degraded). */
  extra?: number[];
}

/**
 * Fixed one-minute windows on requests and events, per API key and per project (a key's limits are
 * its project's). One cache command per request: all four counters move in one call (a second, sent
 * alongside, when the organization's plan blocks at a monthly quota). When the cache
 * is down the request passes (limits degrade; accepted data is never refused for lack of Redis).
 */
export async function checkRateLimits(
  cache: Cache,
  logger: Logger,
  ids: { keyId: string; projectId: string },
  limits: IngestSettings,
  events: number,
  now: Date,
  /** More counters to move with these (the billing quotas), with their own TTL. */
  extra: ReadonlyArray<{ key: string; by: number }> = [],
  extraTtlMs = 120_000,
): Promise<RateLimitResult> {
  const window = Math.floor(now.getTime() / 60_000);
  const resetSeconds = 60 - Math.floor((now.getTime() % 60_000) / 1000);
  let counts: number[];
  try {
    // The quota counters live for their period, so they go in a second command, issued together with
    // the first (ioredis writes both before either answers: one round trip) and only when there are any.
    const [limits4, quota] = await Promise.all([
      cache.incrCounters(
        [
          { key: `oai:rl:p:${ids.projectId}:r:${window}`, by: 1 },
          { key: `oai:rl:p:${ids.projectId}:e:${window}`, by: events },
          { key: `oai:rl:k:${ids.keyId}:r:${window}`, by: 1 },
          { key: `oai:rl:k:${ids.keyId}:e:${window}`, by: events },
        ],
        120_000,
      ),
      extra.length > 0 ? cache.incrCounters(extra, extraTtlMs) : [],
    ]);
    counts = [...limits4, ...quota];
  } catch (err) {
    logger.warn({ err }, 'rate limiter unavailable: request let through');
    return { ok: true, headers: {}, degraded: true };
  }
  const [pr, pe, kr, ke] = counts as [number, number, number, number];
  const requestsLeft = limits.requestsPerMinute - Math.max(pr, kr);
  const eventsLeft = limits.eventsPerMinute - Math.max(pe, ke);
  const ok = requestsLeft >= 0 && eventsLeft >= 0;
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(limits.requestsPerMinute),
    'RateLimit-Remaining': String(Math.max(0, requestsLeft)),
    'RateLimit-Reset': String(resetSeconds),
  };
  if (!ok) headers['Retry-After'] = String(resetSeconds);
  return { ok, headers, degraded: false, extra: counts.slice(4) };
}
