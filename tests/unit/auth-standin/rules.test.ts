import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, verifyPassword } from '../../../src/auth-standin/password.ts';
import { attemptCounters, checkAttempts, decideRefresh, type RefreshDecision, type StoredRefreshToken } from '../../../src/auth-standin/rules.ts';

describe('decideRefresh (refresh token rotation)', () => {
  it.each<[string, StoredRefreshToken, RefreshDecision]>([
    // Never issued, or its session was signed out (the rows went with the session).
    ['an unknown token is rejected', null, { action: 'reject', code: 'refresh_token_not_found' }],
    // The first exchange of a live token rotates it.
    ['a live token rotates', { revoked: false }, { action: 'rotate' }],
    // A token exchanged before is a stolen copy or a replay: the whole family (session) ends.
    ['a revoked token ends the session', { revoked: true }, { action: 'revoke_session', code: 'refresh_token_already_used' }],
  ])('%s', (_, token, expected) => {
    expect(decideRefresh(token)).toEqual(expected);
  });
});

describe('checkAttempts (failed password attempts, sliding windows)', () => {
  const at = (iso: string) => new Date(iso);
  // failures: [email previous 15 min, email current 15 min, address previous minute, address current minute]
  it.each<[string, number[], string, ReturnType<typeof checkAttempts>]>([
    // No failures yet.
    ['none counted', [0, 0, 0, 0], '2026-12-06T10:00:00Z', { ok: true }],
    // Nine per email and per address: the tenth attempt is still allowed.
    ['just under both limits', [0, 9, 0, 9], '2026-12-06T10:00:30Z', { ok: true }],
    // Ten per email in the current window: they fade only once it has ended and they are the
    // previous window's (10 × (1 - ε) < 10): 10 minutes to 10:15.
    ['email limit, 5 minutes into its window', [0, 10, 0, 0], '2026-12-06T10:05:00Z', { ok: false, retryAfterS: 600 }],
    // Twenty this window: at 10:15 they are the previous window, weighted 1 - 7.5 min/15 min = 0.5.
    ['email limit twice over', [0, 20, 0, 0], '2026-12-06T10:05:00Z', { ok: false, retryAfterS: 600 + 450 }],
    // Ten from one address in the minute: wait until the minute ends.
    ['address limit, 45 s into the minute', [0, 3, 0, 10], '2026-12-06T10:05:45Z', { ok: false, retryAfterS: 15 }],
    // The boundary hands out no fresh allowance: ten failures in the previous minute and one in this
    // one still count as 10 × (1 - 1/60) + 1 ≥ 10 one second in, until the previous minute's weight
    // falls to (10 - 1) / 10: 6 s into the minute.
    ['a burst across the minute boundary', [0, 0, 10, 1], '2026-12-06T10:06:01Z', { ok: false, retryAfterS: 5 }],
    // Twelve then one: the weight must fall to 9/12, 15 s into the minute; 5 s in, 10 s more.
    ['the previous minute fading', [0, 0, 12, 1], '2026-12-06T10:06:05Z', { ok: false, retryAfterS: 10 }],
    ['the previous minute faded', [0, 0, 12, 1], '2026-12-06T10:06:16Z', { ok: true }],
    // Both full: the longer wait wins.
    ['both limits', [0, 12, 0, 11], '2026-12-06T10:14:59.500Z', { ok: false, retryAfterS: 1 + 150 }],
  ])('%s', (_, failures, now, expected) => {
    expect(checkAttempts(failures, at(now))).toEqual(expected);
  });

  it('reads the previous and the current fixed window of each limit, and counts failures in the current one', () => {
    const ids = { email: 'e1', ip: '127.0.0.1' };
    const keys = (iso: string, instance = 'i1') => attemptCounters(instance, ids, at(iso));
    const a = keys('2026-12-06T10:00:01Z');
    expect(a.map((k) => k.current)).toEqual([false, true, false, true]);
    expect(keys('2026-12-06T10:00:59Z')).toEqual(a);
    const c = keys('2026-12-06T10:01:00Z');
    expect(c[1]!.key).toBe(a[1]!.key); // the same 15-minute email window
    expect(c[2]!.key).toBe(a[3]!.key); // this minute became the previous one
    expect(c[3]!.key).not.toBe(a[3]!.key);
    expect(a[1]!.key).toContain(':i1:email:e1:');
    expect(keys('2026-12-06T10:00:01Z', 'i2')[1]!.key).not.toBe(a[1]!.key); // another gateway sharing the Redis counts apart
  });
});

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const one = await hashPassword('correct horse');
    const two = await hashPassword('correct horse');
    expect(one).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(one).not.toBe(two);
    expect(one).not.toContain('correct horse');
    expect(await verifyPassword('correct horse', one)).toBe(true);
    expect(await verifyPassword('correct horsf', one)).toBe(false);
    expect(await verifyPassword('correct horse', 'plain text')).toBe(false);
  });

  it.each([
    ['1234567', 'must be at least 8 characters'],
    ['12345678', null],
    ['x'.repeat(1025), 'must be at most 1024 characters'],
  ])('passwordProblem(%s)', (pw, problem) => {
    expect(passwordProblem(pw)).toBe(problem);
  });
});
