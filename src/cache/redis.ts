import { Redis } from 'ioredis';
import { INCR_COUNTERS } from './redis-scripts.ts';
import type { Cache } from './types.ts';

/** TCP Redis through ioredis. Commands fail fast while disconnected instead of queueing forever. */
export function createRedisCache(url: string): Cache {
  const redis = new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // Errors surface on each command; without this listener ioredis would log unhandled 'error' events.
  redis.on('error', () => {});
  const ready = new Promise<void>((resolve) => {
    if (redis.status === 'ready') resolve();
    redis.once('ready', () => resolve());
  });
  const whenReady = async () => {
    if (redis.status === 'ready') return;
    await Promise.race([ready, new Promise((_, reject) => setTimeout(() => reject(new Error('Redis is not connected')), 2000))]);
  };
  return {
    kind: 'redis',
    async ping() {
      await whenReady();
      await redis.ping();
    },
    async get(key) {
      await whenReady();
      return redis.get(key);
    },
    async set(key, value, ttlMs) {
      await whenReady();
      await redis.set(key, value, 'PX', ttlMs);
    },
    async del(key) {
      await whenReady();
      await redis.del(key);
    },
    async setBits(key, offsets, ttlMs) {
      await whenReady();
      const ops: Array<string | number> = [];
      for (const o of offsets) ops.push('SET', 'u1', o, 1);
      const result = await redis.multi().call('BITFIELD', key, ...ops).pexpire(key, ttlMs).exec();
      const [err, bits] = result![0]!;
      if (err) throw err;
      return (bits as number[]).map((b) => b === 1);
    },
    async incrCounters(list, ttlMs) {
      await whenReady();
      const res = (await redis.eval(INCR_COUNTERS, list.length, ...list.map((c) => c.key), ttlMs, ...list.map((c) => c.by))) as number[];
      return res.map(Number);
    },
    async close() {
      redis.disconnect();
    },
  };
}
