import { Redis } from '@upstash/redis';
import { ACQUIRE_SLOTS, BLOOM_ADD, bloomAddCall, bloomKeys, INCR_COUNTERS, RELEASE_SLOTS, RENEW_SLOTS } from './redis-scripts.ts';
import type { Cache } from './types.ts';

/** Upstash over REST for the edge, where TCP connections do not outlive a request. */
export function createUpstashCache(url: string, token: string): Cache {
  const redis = new Redis({ url, token, automaticDeserialization: false });
  return {
    kind: 'upstash',
    async ping() {
      await redis.ping();
    },
    async get(key) {
      return (await redis.get<string>(key)) ?? null;
    },
    async set(key, value, ttlMs) {
      await redis.set(key, value, { px: ttlMs });
    },
    async del(key) {
      await redis.del(key);
    },
    async bloomAdd(name, entries, opts) {
      const call = bloomAddCall(entries);
      return call.answers(await redis.eval<string[], string>(BLOOM_ADD, bloomKeys(name), [String(opts.ttlMs), call.arg, String(opts.capacity)]));
    },
    async incrCounters(list, ttlMs) {
      const res = await redis.eval<string[], number[]>(INCR_COUNTERS, list.map((c) => c.key), [String(ttlMs), ...list.map((c) => String(c.by))]);
      return res.map(Number);
    },
    async acquireSlots(sets, holder, { now, ttlMs }) {
      const args = [holder, String(now), String(now + ttlMs), String(ttlMs), ...sets.map((s) => String(s.limit))];
      return Number(await redis.eval<string[], number>(ACQUIRE_SLOTS, sets.map((s) => s.key), args));
    },
    async renewSlots(keys, holder, { now, ttlMs }) {
      if (keys.length > 0) await redis.eval<string[], number>(RENEW_SLOTS, [...keys], [holder, String(now + ttlMs), String(ttlMs)]);
    },
    async releaseSlots(keys, holder) {
      if (keys.length > 0) await redis.eval<string[], number>(RELEASE_SLOTS, [...keys], [holder]);
    },
    async close() {},
  };
}
