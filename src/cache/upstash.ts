import { Redis } from '@upstash/redis';
import { INCR_COUNTERS, OR_WORDS, orWordsCall } from './redis-scripts.ts';
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
    async orWords(key, entries, ttlMs, opts) {
      const keys = opts?.allSetIfExists ? [key, opts.allSetIfExists] : [key];
      const call = orWordsCall(entries);
      return call.answers(await redis.eval<string[], string>(OR_WORDS, keys, [String(ttlMs), call.arg]));
    },
    async incrCounters(list, ttlMs) {
      const res = await redis.eval<string[], number[]>(INCR_COUNTERS, list.map((c) => c.key), [String(ttlMs), ...list.map((c) => String(c.by))]);
      return res.map(Number);
    },
    async close() {},
  };
}
