import { Redis } from '@upstash/redis';
import { INCR_COUNTERS, SET_BITS } from './redis-scripts.ts';
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
    async setBits(key, offsets, ttlMs) {
      const bits = await redis.eval<string[], number[]>(SET_BITS, [key], [String(ttlMs), JSON.stringify(offsets)]);
      return bits.map((b) => Number(b) === 1);
    },
    async incrCounters(list, ttlMs) {
      const res = await redis.eval<string[], number[]>(INCR_COUNTERS, list.map((c) => c.key), [String(ttlMs), ...list.map((c) => String(c.by))]);
      return res.map(Number);
    },
    async close() {},
  };
}
