import type { Clock } from '../core/clock.ts';
import type { Cache } from './types.ts';

/** In-process cache for the embedded mode and tests; expiry follows the injected clock. */
export function createMemoryCache(clock: Clock, opts: { maxEntries?: number } = {}): Cache {
  const maxEntries = opts.maxEntries ?? 100_000;
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const filters = new Map<string, { added: number; newest: number; generations: [Uint32Array, Uint32Array]; expiresAt: number }>();
  const counters = new Map<string, { value: number; expiresAt: number }>();
  /** Slot sets: holder -> expiry (ms). A set with no live holder is deleted. */
  const slots = new Map<string, Map<string, number>>();
  const liveSlots = (key: string, now: number) => {
    const set = slots.get(key);
    if (!set) return undefined;
    for (const [holder, expiresAt] of set) if (expiresAt <= now) set.delete(holder);
    if (set.size === 0) slots.delete(key);
    return set.size === 0 ? undefined : set;
  };
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
    async bloomAdd(name, list, opts) {
      const now = clock.now().getTime();
      for (const [k, v] of filters) if (v.expiresAt <= now) filters.delete(k);
      let f = filters.get(name);
      if (!f) filters.set(name, (f = { added: 0, newest: 0, generations: [new Uint32Array(0), new Uint32Array(0)], expiresAt: 0 }));
      // As BLOOM_ADD: the generation is fixed for the call; starting one drops the one before the previous.
      const g = Math.floor(f.added / opts.capacity);
      if (g === f.newest + 1) f.generations[g % 2] = new Uint32Array(0);
      else if (g !== f.newest) f.generations = [new Uint32Array(0), new Uint32Array(0)];
      f.newest = g;
      const maxWord = list.reduce((m, e) => Math.max(m, e.word), 0);
      let cur = f.generations[g % 2]!;
      if (cur.length <= maxWord) {
        const grown = new Uint32Array(maxWord + 1);
        grown.set(cur);
        f.generations[g % 2] = cur = grown;
      }
      const prev = g > 0 ? f.generations[(g + 1) % 2]! : undefined;
      f.expiresAt = now + opts.ttlMs;
      return list.map(({ word, mask }) => {
        const m = mask >>> 0;
        if ((cur[word]! & m) >>> 0 === m) return true;
        cur[word] = (cur[word]! | m) >>> 0;
        f.added += 1;
        return prev !== undefined && word < prev.length && (prev[word]! & m) >>> 0 === m;
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
    async acquireSlots(sets, holder, { now, ttlMs }) {
      const full = sets.findIndex(({ key, limit }) => {
        const set = liveSlots(key, now);
        return !set?.has(holder) && (set?.size ?? 0) >= limit;
      });
      if (full >= 0) return full;
      for (const { key } of sets) {
        let set = slots.get(key);
        if (!set) slots.set(key, (set = new Map()));
        set.set(holder, now + ttlMs);
      }
      return -1;
    },
    async renewSlots(keys, holder, { now, ttlMs }) {
      for (const key of keys) {
        let set = slots.get(key);
        if (!set) slots.set(key, (set = new Map()));
        set.set(holder, now + ttlMs);
      }
    },
    async releaseSlots(keys, holder) {
      for (const key of keys) {
        const set = slots.get(key);
        set?.delete(holder);
        if (set?.size === 0) slots.delete(key);
      }
    },
    async close() {
      entries.clear();
      filters.clear();
      counters.clear();
      slots.clear();
    },
  };
}
