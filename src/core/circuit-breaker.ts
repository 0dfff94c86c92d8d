import type { Clock } from './clock.ts';
import { AppError, toAppError } from './errors.ts';

/**
 * Invariants:
 * - closed: calls pass; `failureThreshold` consecutive failures (errors that mean the dependency is
 *   unhealthy: UNAVAILABLE or a timeout, never a caller's bad input) open the breaker.
 * - open: calls fail at once with UNAVAILABLE and Retry-After = the time left, so clients back off
 *   instead of piling up; after `cooldownMs` the next call is a probe (half-open).
 * - half-open: exactly one probe runs; others fail at once. Success closes, failure reopens.
 * Time comes from the injected clock, so the state machine is testable without sleeping.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  run<T>(fn: () => Promise<T>): Promise<T>;
  state(): BreakerState;
}

export function createCircuitBreaker(opts: { clock: Clock; failureThreshold?: number; cooldownMs?: number; timeoutMs?: number; name?: string }): CircuitBreaker {
  const threshold = opts.failureThreshold ?? 5;
  const cooldownMs = opts.cooldownMs ?? 5_000;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const what = opts.name ?? 'The database';
  let failures = 0;
  let openUntil = 0;
  let probing = false;
  const now = () => opts.clock.now().getTime();
  const current = (): BreakerState => (openUntil === 0 ? 'closed' : now() < openUntil ? 'open' : 'half-open');
  const reject = (ms: number) =>
    new AppError('UNAVAILABLE', `${what} is unavailable; retry later`, { headers: { 'Retry-After': String(Math.max(1, Math.ceil(ms / 1000))) } });

  return {
    state: current,
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const s = current();
      if (s === 'open') throw reject(openUntil - now());
      if (s === 'half-open') {
        if (probing) throw reject(cooldownMs);
        probing = true;
      }
      const wasProbe = s === 'half-open';
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const result = await Promise.race([
          fn(),
          new Promise<never>((_, rej) => {
            timer = setTimeout(() => rej(new AppError('UNAVAILABLE', `${what} did not answer in time`)), timeoutMs);
          }),
        ]);
        failures = 0;
        openUntil = 0;
        return result;
      } catch (err) {
        const e = toAppError(err);
        if (e.code === 'UNAVAILABLE' || e.code === 'INTERNAL' && isConnectionLike(err)) {
          failures += 1;
          if (wasProbe || failures >= threshold) openUntil = now() + cooldownMs;
          throw e.code === 'UNAVAILABLE' ? reject(cooldownMs) : e;
        }
        // Not the dependency's fault (bad data, permissions): it proves the dependency answered.
        failures = 0;
        if (wasProbe) openUntil = 0;
        throw err;
      } finally {
        if (timer) clearTimeout(timer);
        if (wasProbe) probing = false;
      }
    },
  };
}

function isConnectionLike(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : '';
  return /connect|ECONN|terminat|closed|timeout/i.test(msg);
}

/**
 * Bounded concurrency: at most `limit` calls run, at most `queue` wait; past that, UNAVAILABLE at once.
 */
export function createConcurrencyGate(limit: number, queue: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (active >= limit) {
        if (waiting.length >= queue) {
          throw new AppError('UNAVAILABLE', 'Too many writes in flight; retry shortly', { headers: { 'Retry-After': '1' } });
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        active += 1;
      }
      try {
        return await fn();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else active -= 1;
      }
    },
    inFlight: () => active,
  };
}
