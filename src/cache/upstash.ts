import { Redis } from '@upstash/redis';
import { BLOOM_ADD, bloomAddCall, bloomKeys, INCR_COUNTERS } from './redis-scripts.ts';
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
    async close() {},
  };
}
