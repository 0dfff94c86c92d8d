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

describe('checkAttempts (failed password attempts)', () => {
  const at = (iso: string) => new Date(iso);
  it.each<[string, number[], string, ReturnType<typeof checkAttempts>]>([
    // No failures yet.
    ['none counted', [0, 0], '2026-12-06T10:00:00Z', { ok: true }],
    // Nine per email and per address: the tenth attempt is still allowed.
    ['just under both limits', [9, 9], '2026-12-06T10:00:30Z', { ok: true }],
    // Ten per email in the 15-minute window that started at 10:00: wait until 10:15.
    ['email limit, 5 minutes into its window', [10, 0], '2026-12-06T10:05:00Z', { ok: false, retryAfterS: 600 }],
    // Ten from one address in the minute: wait until the minute ends.
    ['address limit, 45 s into the minute', [3, 10], '2026-12-06T10:05:45Z', { ok: false, retryAfterS: 15 }],
    // Both full: the longer wait wins.
    ['both limits', [12, 11], '2026-12-06T10:14:59.500Z', { ok: false, retryAfterS: 1 }],
  ])('%s', (_, failures, now, expected) => {
    expect(checkAttempts(failures, at(now))).toEqual(expected);
  });

  it('keys the counters by fixed window: same key within a window, a new one after it', () => {
    const ids = { email: 'e1', ip: '127.0.0.1' };
    const a = attemptCounters('i1', ids, at('2026-12-06T10:00:01Z')).map((k) => k.key);
    const b = attemptCounters('i1', ids, at('2026-12-06T10:00:59Z')).map((k) => k.key);
    const c = attemptCounters('i1', ids, at('2026-12-06T10:01:00Z')).map((k) => k.key);
    const other = attemptCounters('i2', ids, at('2026-12-06T10:00:01Z')).map((k) => k.key);
    expect(b).toEqual(a);
    expect(c[0]).toBe(a[0]); // same 15-minute email window
    expect(c[1]).not.toBe(a[1]); // a new minute for the address
    expect(a[0]).toContain(':i1:email:e1:');
    expect(other[0]).not.toBe(a[0]); // another gateway sharing the Redis counts apart
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
