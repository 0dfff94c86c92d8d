/**
 * When to try a failed delivery again: pure, so a delivery engine stores the answer as the next
 * attempt's time and tests read it off a table. Two schedules:
 *
 * WEBHOOK_RETRY (webhook events, src/webhooks/): Standard Webhooks / Svix's, immediately, then 5 s,
 * 5 min, 30 min, 2 h, 5 h, 10 h, 10 h before attempts 2 to 8 (about 27.5 h in all), Retry-After
 * honoured up to 10 h.
 *
 * ALERT_RETRY (alert notifications, the default): the same shape, compressed, since an alert
 * delivered tomorrow is worth little, so the waits are
 *   attempt 1 immediately, then 5 s, 30 s, 2 min, 5 min, 15 min, 30 min, 1 h
 * before attempts 2 to 8: 6,755 s of waiting, the last attempt about 1 h 53 min after the first
 * (with jitter up to ±20 %, within about 1 h 30 min to 2 h 15 min). After the 8th attempt fails it
 * stops; the notification log keeps the failure for a manual replay.
 *
 * - Each wait is jittered by ±20 % (uniform), so a receiver that was down for everyone is not hit
 *   by every tenant's retries in the same second when it comes back.
 * - Retry-After (429, 503) wins when longer than the jittered wait: the next attempt is never
 *   earlier than the receiver asked. It is capped (alerts 1 h, webhooks 10 h): a receiver asking for
 *   a day would otherwise swallow the alert; one more early attempt costs at most one more 429.
 * - Permanent failures (4xx, redirects, invalid settings) are never retried.
 */
import type { DeliveryResult } from './delivery.ts';

/** Alerts: wait before attempt i+1 (index i), in ms; index 0 is the first attempt, sent at once. */
export const RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([0, 5_000, 30_000, 120_000, 300_000, 900_000, 1_800_000, 3_600_000]);

/** Attempts in all, the first included. */
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length;

/** ±20 %. */
export const RETRY_JITTER = 0.2;

/** The longest Retry-After honoured (alerts). */
export const RETRY_AFTER_CAP_MS = 3_600_000;

export interface RetrySchedule {
  /** Wait before attempt i+1 (index i), in ms; its length is the number of attempts. */
  waitsMs: readonly number[];
  retryAfterCapMs: number;
}

export const ALERT_RETRY: RetrySchedule = Object.freeze({ waitsMs: RETRY_SCHEDULE_MS, retryAfterCapMs: RETRY_AFTER_CAP_MS });

const H = 3_600_000;
export const WEBHOOK_RETRY: RetrySchedule = Object.freeze({
  waitsMs: Object.freeze([0, 5_000, 300_000, 1_800_000, 2 * H, 5 * H, 10 * H, 10 * H]),
  retryAfterCapMs: 10 * H,
});

/**
 * The time (ms since the epoch) of the attempt after `attempt` (1-based) ended with `result` at
 * `now`, or null when there is none: delivered, failed for good, or out of attempts.
 * `random` returns [0, 1) (Math.random in production, a constant in tests).
 */
export function nextAttemptAt(attempt: number, result: DeliveryResult, now: number, random: () => number, schedule: RetrySchedule = ALERT_RETRY): number | null {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be an integer from 1, not ${attempt}`);
  if (result.ok || !result.retryable) return null;
  if (attempt >= schedule.waitsMs.length) return null;
  const scheduled = schedule.waitsMs[attempt]!;
  const r = Math.min(Math.max(random(), 0), 1);
  const jittered = Math.round(scheduled * (1 - RETRY_JITTER + 2 * RETRY_JITTER * r));
  const asked = result.retryAfterMs === null ? 0 : Math.min(Math.max(result.retryAfterMs, 0), schedule.retryAfterCapMs);
  return now + Math.max(jittered, asked);
}
