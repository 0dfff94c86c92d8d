import { Redis } from '@upstash/redis';
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
    async close() {},
  };
}
