/**
 * Circuit breaker state machine, table-driven with a fake clock. Each step: advance the clock, make
 * a call that succeeds, fails as "unavailable" or fails as bad input, and check what the caller saw
 * and the state after.
 */
import { describe, expect, it } from 'vitest';
import { createCircuitBreaker, createConcurrencyGate } from '../../../src/core/circuit-breaker.ts';
import { fakeClock } from '../../../src/core/clock.ts';
import { AppError } from '../../../src/core/errors.ts';

type Call = 'ok' | 'down' | 'bad';
type Step = [advanceMs: number, call: Call, seen: 'ok' | 'down' | 'bad' | 'fast-503', state: 'closed' | 'open' | 'half-open'];

const run = (call: Call) => async () => {
  if (call === 'ok') return 'ok';
  if (call === 'down') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  throw new AppError('VALIDATION_FAILED', 'bad');
};

const cases: Array<[string, Step[]]> = [
  ['stays closed below the threshold', [[0, 'down', 'down', 'closed'], [0, 'down', 'down', 'closed'], [0, 'ok', 'ok', 'closed'], [0, 'down', 'down', 'closed']]],
  ['opens after 3 consecutive failures and fails fast', [[0, 'down', 'down', 'closed'], [0, 'down', 'down', 'closed'], [0, 'down', 'down', 'open'], [100, 'ok', 'fast-503', 'open']]],
  ['a probe after the cooldown closes it on success', [[0, 'down', 'down', 'closed'], [0, 'down', 'down', 'closed'], [0, 'down', 'down', 'open'], [5000, 'ok', 'ok', 'closed']]],
  ['a failed probe reopens it for another cooldown', [[0, 'down', 'down', 'closed'], [0, 'down', 'down', 'closed'], [0, 'down', 'down', 'open'], [5000, 'down', 'down', 'open'], [4999, 'ok', 'fast-503', 'open'], [1, 'ok', 'ok', 'closed']]],
  ['bad input is not the dependency failing', [[0, 'down', 'down', 'closed'], [0, 'down', 'down', 'closed'], [0, 'bad', 'bad', 'closed'], [0, 'down', 'down', 'closed']]],
];

describe('circuit breaker', () => {
  it.each(cases)('%s', async (_, steps) => {
    const clock = fakeClock();
    const breaker = createCircuitBreaker({ clock, failureThreshold: 3, cooldownMs: 5000 });
    for (const [advance, call, seen, state] of steps) {
      clock.advance(advance);
      let outcome: string;
      try {
        await breaker.run(run(call));
        outcome = 'ok';
      } catch (err) {
        const e = err as AppError;
        outcome = e.code === 'VALIDATION_FAILED' ? 'bad' : e.message.includes('retry later') && call === 'down' ? 'down' : 'fast-503';
        if (e.code === 'UNAVAILABLE') expect(Number(e.headers?.['Retry-After'])).toBeGreaterThanOrEqual(1);
      }
      expect(outcome).toBe(seen);
      expect(breaker.state()).toBe(state);
    }
  });

  it('lets exactly one probe through while half-open', async () => {
    const clock = fakeClock();
    const breaker = createCircuitBreaker({ clock, failureThreshold: 1, cooldownMs: 1000 });
    await breaker.run(run('down')).catch(() => {});
    clock.advance(1000);
    let release!: () => void;
    const probe = breaker.run(() => new Promise<string>((r) => (release = () => r('ok'))));
    await expect(breaker.run(run('ok'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    release();
    await expect(probe).resolves.toBe('ok');
    expect(breaker.state()).toBe('closed');
  });
});

describe('concurrency gate', () => {
  it('runs at most `limit`, queues up to `queue`, refuses the rest at once', async () => {
    const gate = createConcurrencyGate(2, 1);
    const releases: Array<() => void> = [];
    const slow = () => gate.run(() => new Promise<void>((r) => releases.push(r)));
    const a = slow();
    const b = slow();
    const c = slow(); // queued
    await expect(gate.run(async () => 'x')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(gate.inFlight()).toBe(2);
    releases.shift()!();
    await a;
    await new Promise((r) => setTimeout(r, 0));
    expect(releases).toHaveLength(2); // c started
    releases.forEach((r) => r());
    await Promise.all([b, c]);
    expect(gate.inFlight()).toBe(0);
  });
});
