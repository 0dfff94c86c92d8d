import type { Clock } from '../core/clock.ts';
import type { Cache } from './types.ts';

/** In-process cache for the embedded mode and tests; expiry follows the injected clock. */
export function createMemoryCache(clock: Clock, opts: { maxEntries?: number } = {}): Cache {
  const maxEntries = opts.maxEntries ?? 100_000;
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const bitmaps = new Map<string, { bits: Uint8Array; expiresAt: number }>();
  const counters = new Map<string, { value: number; expiresAt: number }>();
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
    async setBits(key, offsets, ttlMs) {
      const now = clock.now().getTime();
      let bm = bitmaps.get(key);
      if (bm && bm.expiresAt <= now) bm = undefined;
      const maxOffset = offsets.reduce((m, o) => Math.max(m, o), 0);
      if (!bm || bm.bits.length * 8 <= maxOffset) {
        const grown = new Uint8Array(Math.max(bm?.bits.length ?? 0, (maxOffset >>> 3) + 1));
        if (bm) grown.set(bm.bits);
        bm = { bits: grown, expiresAt: 0 };
        bitmaps.set(key, bm);
      }
      bm.expiresAt = now + ttlMs;
      for (const [k, v] of bitmaps) if (v.expiresAt <= now) bitmaps.delete(k);
      return offsets.map((o) => {
        const byte = o >>> 3;
        const mask = 0x80 >>> (o & 7);
        const was = (bm!.bits[byte]! & mask) !== 0;
        bm!.bits[byte]! |= mask;
        return was;
      });
    },
    async incrCounters(list, ttlMs) {
      const now = clock.now().getTime();
      return list.map(({ key, by }) => {
        let c = counters.get(key);
        if (!c || c.expiresAt <= now) {
          c = { value: 0, expiresAt: now + ttlMs };
          counters.set(key, c);
        }
        c.value += by;
        return c.value;
      });
    },
    async close() {
      entries.clear();
      bitmaps.clear();
      counters.clear();
    },
  };
}
