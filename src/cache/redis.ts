import { Redis } from 'ioredis';
import { ACQUIRE_SLOTS, BLOOM_ADD, bloomAddCall, bloomKeys, INCR_COUNTERS, RELEASE_SLOTS, RENEW_SLOTS } from './redis-scripts.ts';
import type { Cache } from './types.ts';

interface ScriptCommands {
  oaiBloomAdd(numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  oaiIncrCounters(numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  oaiAcquireSlots(numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  oaiRenewSlots(numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  oaiReleaseSlots(numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/** TCP Redis through ioredis. Commands fail fast while disconnected instead of queueing forever. */
export function createRedisCache(url: string): Cache {
  const redis = new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // Scripts run by EVALSHA (ioredis loads them on first use), so each call sends only its arguments.
  redis.defineCommand('oaiBloomAdd', { lua: BLOOM_ADD });
  redis.defineCommand('oaiIncrCounters', { lua: INCR_COUNTERS });
  redis.defineCommand('oaiAcquireSlots', { lua: ACQUIRE_SLOTS });
  redis.defineCommand('oaiRenewSlots', { lua: RENEW_SLOTS });
  redis.defineCommand('oaiReleaseSlots', { lua: RELEASE_SLOTS });
  const scripts = redis as unknown as ScriptCommands;
  // Errors surface on each command; without this listener ioredis would log unhandled 'error' events.
  redis.on('error', () => {});
  // Wait for the first connection (up to 2 s, once); after that a Redis that is not ready fails
  // the command at once, so a Redis outage costs callers nothing but a degraded answer.
  const firstConnect = new Promise<void>((resolve, reject) => {
    if (redis.status === 'ready') return resolve();
    const timer = setTimeout(() => reject(new Error('Redis is not connected')), 2000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  firstConnect.catch(() => {});
  const whenReady = async () => {
    if (redis.status === 'ready') return;
    await firstConnect;
    if ((redis.status as string) !== 'ready') throw new Error('Redis is not connected');
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
    async bloomAdd(name, entries, opts) {
      await whenReady();
      const call = bloomAddCall(entries);
      return call.answers(await (redis as unknown as ScriptCommands).oaiBloomAdd(3, ...bloomKeys(name), opts.ttlMs, call.arg, opts.capacity));
    },
    async incrCounters(list, ttlMs) {
      await whenReady();
      const res = (await (redis as unknown as ScriptCommands).oaiIncrCounters(list.length, ...list.map((c) => c.key), ttlMs, ...list.map((c) => c.by))) as number[];
      return res.map(Number);
    },
    async acquireSlots(sets, holder, { now, ttlMs }) {
      await whenReady();
      const keys = sets.map((s) => s.key);
      return Number(await scripts.oaiAcquireSlots(keys.length, ...keys, holder, String(now), String(now + ttlMs), String(ttlMs), ...sets.map((s) => String(s.limit))));
    },
    async renewSlots(keys, holder, { now, ttlMs }) {
      if (keys.length === 0) return;
      await whenReady();
      await scripts.oaiRenewSlots(keys.length, ...keys, holder, String(now + ttlMs), String(ttlMs));
    },
    async releaseSlots(keys, holder) {
      if (keys.length === 0) return;
      await whenReady();
      await scripts.oaiReleaseSlots(keys.length, ...keys, holder);
    },
    async close() {
      redis.disconnect();
    },
  };
}
