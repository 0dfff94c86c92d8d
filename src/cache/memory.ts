import type { Clock } from '../core/clock.ts';
import type { Cache } from './types.ts';

/** In-process cache for the embedded mode and tests; expiry follows the injected clock. */
export function createMemoryCache(clock: Clock, opts: { maxEntries?: number } = {}): Cache {
  const maxEntries = opts.maxEntries ?? 100_000;
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const bitmaps = new Map<string, { words: Uint32Array; expiresAt: number }>();
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
    async orWords(key, list, ttlMs, opts) {
      const now = clock.now().getTime();
      const legacy = opts?.allSetIfExists ? bitmaps.get(opts.allSetIfExists) : undefined;
      const allSet = legacy !== undefined && legacy.expiresAt > now;
      let bm = bitmaps.get(key);
      if (bm && bm.expiresAt <= now) bm = undefined;
      const maxWord = list.reduce((m, e) => Math.max(m, e.word), 0);
      if (!bm || bm.words.length <= maxWord) {
        const grown = new Uint32Array(Math.max(bm?.words.length ?? 0, maxWord + 1));
        if (bm) grown.set(bm.words);
        bm = { words: grown, expiresAt: 0 };
        bitmaps.set(key, bm);
      }
      bm.expiresAt = now + ttlMs;
      for (const [k, v] of bitmaps) if (v.expiresAt <= now) bitmaps.delete(k);
      return list.map(({ word, mask }) => {
        const m = mask >>> 0;
        const was = (bm!.words[word]! & m) >>> 0 === m;
        bm!.words[word] = (bm!.words[word]! | m) >>> 0;
        return was || allSet;
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
