/**
 * The cache primitives behave the same in memory and in Redis: setBits returns previous bits and
 * expires, incrCounters is atomic per call and starts fresh after the TTL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/cache/memory.ts';
import { createRedisCache } from '../../src/cache/redis.ts';
import type { Cache } from '../../src/cache/types.ts';
import { fakeClock, systemClock } from '../../src/core/clock.ts';
import { randomToken } from '../../src/core/ids.ts';

const caches: Array<[string, () => Cache]> = [['memory', () => createMemoryCache(systemClock)]];
if (process.env.REDIS_URL) caches.push(['redis', () => createRedisCache(process.env.REDIS_URL!)]);

describe.each(caches)('%s cache', (_, make) => {
  const cache = make();
  afterAll(() => cache.close());
  const key = () => `test:${randomToken(10)}`;

  it('setBits reports which bits were already set', async () => {
    const k = key();
    expect(await cache.setBits(k, [1, 7, 100_000], 60_000)).toEqual([false, false, false]);
    expect(await cache.setBits(k, [7, 8, 100_000, 1], 60_000)).toEqual([true, false, true, true]);
    expect(await cache.setBits(k, [8, 8], 60_000)).toEqual([true, true]);
  });

  it('setBits handles thousands of offsets in one call', async () => {
    const k = key();
    const offsets = Array.from({ length: 5000 }, (_, i) => i * 3);
    expect((await cache.setBits(k, offsets, 60_000)).every((b) => !b)).toBe(true);
    expect((await cache.setBits(k, offsets, 60_000)).every((b) => b)).toBe(true);
  });

  it('incrCounters adds and returns new values', async () => {
    const a = key();
    const b = key();
    expect(await cache.incrCounters([{ key: a, by: 1 }, { key: b, by: 1000 }], 60_000)).toEqual([1, 1000]);
    expect(await cache.incrCounters([{ key: a, by: 1 }, { key: b, by: 5 }], 60_000)).toEqual([2, 1005]);
  });
});

describe('memory cache expiry follows the clock', () => {
  it('forgets bits and counters after their TTL', async () => {
    const clock = fakeClock();
    const cache = createMemoryCache(clock);
    await cache.setBits('b', [3], 1000);
    await cache.incrCounters([{ key: 'c', by: 5 }], 1000);
    clock.advance(1001);
    expect(await cache.setBits('b', [3], 1000)).toEqual([false]);
    expect(await cache.incrCounters([{ key: 'c', by: 1 }], 1000)).toEqual([1]);
  });
});
