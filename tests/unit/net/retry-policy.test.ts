import { describe, expect, it } from 'vitest';
import type { DeliveryResult } from '../../../src/alerts/notifiers/types.ts';
import { MAX_ATTEMPTS, nextAttemptAt, RETRY_AFTER_CAP_MS, RETRY_SCHEDULE_MS } from '../../../src/net/retry-policy.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

const ok: DeliveryResult = { ok: true, status: 200 };
const retry = (retryAfterMs: number | null = null): DeliveryResult => ({ ok: false, retryable: true, status: 503, retryAfterMs, error: 'x' });
const permanent: DeliveryResult = { ok: false, retryable: false, status: 400, retryAfterMs: null, error: 'x' };
const gone: DeliveryResult = { ok: false, retryable: false, status: 410, retryAfterMs: null, error: 'x', disable: true };

/** random() = 0.5 is the middle of the jitter band: exactly the scheduled wait. */
const mid = () => 0.5;

describe('nextAttemptAt', () => {
  it.each<[string, number, DeliveryResult, () => number, number | null]>([
    // Nothing to retry.
    ['delivered', 1, ok, mid, null],
    ['permanent failure (400)', 1, permanent, mid, null],
    ['410 Gone: permanent, whatever the attempt', 3, gone, mid, null],
    // The schedule, without jitter: 5 s, 30 s, 2 m, 5 m, 15 m, 30 m, 1 h before attempts 2..8.
    ['after attempt 1: 5 s', 1, retry(), mid, 5 * S],
    ['after attempt 2: 30 s', 2, retry(), mid, 30 * S],
    ['after attempt 3: 2 min', 3, retry(), mid, 2 * MIN],
    ['after attempt 4: 5 min', 4, retry(), mid, 5 * MIN],
    ['after attempt 5: 15 min', 5, retry(), mid, 15 * MIN],
    ['after attempt 6: 30 min', 6, retry(), mid, 30 * MIN],
    ['after attempt 7: 1 h', 7, retry(), mid, H],
    ['after attempt 8: out of attempts', 8, retry(), mid, null],
    ['far beyond the schedule: out of attempts', 50, retry(), mid, null],
    // Jitter: ±20 % around the scheduled wait.
    ['jitter low end (random 0): -20 %', 1, retry(), () => 0, 4 * S],
    ['jitter high end (random -> 1): +20 %', 2, retry(), () => 0.999999, 36 * S],
    ['jitter 0.75: +10 %', 7, retry(), () => 0.75, 66 * MIN],
    // Retry-After.
    ['Retry-After 7 s beats the 5 s wait', 1, retry(7 * S), mid, 7 * S],
    ['Retry-After 1 s is shorter than the 30 s wait: the schedule wins', 2, retry(1 * S), mid, 30 * S],
    ['never earlier than Retry-After, even when jitter lowers the wait under it', 3, retry(100 * S), () => 0, 100 * S],
    ['Retry-After 0 (retry now): the schedule still spaces attempts', 1, retry(0), mid, 5 * S],
    ['Retry-After of a day is capped at 1 h', 1, retry(24 * H), mid, RETRY_AFTER_CAP_MS],
    ['Retry-After cannot extend the attempts', 8, retry(5 * S), mid, null],
  ])('%s', (_name, attempt, result, random, delay) => {
    const at = nextAttemptAt(attempt, result, NOW, random);
    expect(at === null ? null : at - NOW).toBe(delay);
  });

  it('refuses an attempt number that is not a positive integer', () => {
    expect(() => nextAttemptAt(0, retry(), NOW, mid)).toThrow(RangeError);
    expect(() => nextAttemptAt(1.5, retry(), NOW, mid)).toThrow(RangeError);
  });

  it('keeps every jittered wait within ±20 % of the schedule', () => {
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      for (let i = 0; i <= 20; i++) {
        const r = i / 20;
        const wait = nextAttemptAt(attempt, retry(), NOW, () => r)! - NOW;
        const scheduled = RETRY_SCHEDULE_MS[attempt]!;
        expect(wait).toBeGreaterThanOrEqual(Math.floor(scheduled * 0.8));
        expect(wait).toBeLessThanOrEqual(Math.ceil(scheduled * 1.2));
      }
    }
  });

  it('gives up about 2 h after the first attempt: 8 attempts, 6,755 s of waiting', () => {
    expect(MAX_ATTEMPTS).toBe(8);
    expect(RETRY_SCHEDULE_MS[0]).toBe(0);
    let now = NOW;
    let attempts = 1;
    for (let next = nextAttemptAt(attempts, retry(), now, mid); next !== null; next = nextAttemptAt(attempts, retry(), now, mid)) {
      now = next;
      attempts++;
    }
    expect(attempts).toBe(8);
    expect((now - NOW) / S).toBe(6755);
  });
});
