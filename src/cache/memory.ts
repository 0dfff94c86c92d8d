import type { Clock } from '../core/clock.ts';
import type { Cache } from './types.ts';

/** In-process cache for the embedded mode and tests; expiry follows the injected clock. */
export function createMemoryCache(clock: Clock, opts: { maxEntries?: number } = {}): Cache {
  const maxEntries = opts.maxEntries ?? 100_000;
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const live = (key: string) => {
    const e = entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= clock.now().getTime()) {
      entries.delete(key);
      return undefined;
    }
    return e;
  };
  return {
    kind: 'memory',
    async ping() {},
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, ttlMs) {
      entries.delete(key);
      // Map keeps insertion order: evict the oldest entries to stay bounded.
      while (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(key, { value, expiresAt: clock.now().getTime() + ttlMs });
    },
    async del(key) {
      entries.delete(key);
    },
    async close() {
      entries.clear();
    },
  };
}
