/**
 * The cache primitives behave the same in memory and in Redis: orWords reports bits already set and
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

  it('orWords reports whether every bit of each mask was already set, entries applied in order', async () => {
    const k = key();
    const w = (word: number, mask: number) => ({ word, mask });
    expect(await cache.orWords(k, [w(3, 0b101), w(3, 0b100), w(3, 0b001), w(3, 0b111)], 60_000)).toEqual([false, true, true, false]);
    expect(await cache.orWords(k, [w(3, 0b111), w(4, 1), w(100_000, 0x80000000), w(100_000, 0xffffffff)], 60_000)).toEqual([true, false, false, false]);
    expect(await cache.orWords(k, [w(100_000, 0xffffffff), w(100_000, 0x80000001), w(0, 1)], 60_000)).toEqual([true, true, false]);
    expect(await cache.orWords(k, [w(2, 1)], 60_000)).toEqual([false]);
    // A reply of only '1's must not be read as a number by any adapter.
    expect(await cache.orWords(k, Array.from({ length: 400 }, () => w(3, 1)), 60_000)).toEqual(Array(400).fill(true));
  });

  it('orWords answers every entry as already set while the allSetIfExists key exists (the bits are still set)', async () => {
    const k = key();
    const legacy = key();
    expect(await cache.orWords(k, [{ word: 1, mask: 1 }], 60_000, { allSetIfExists: legacy })).toEqual([false]);
    await cache.orWords(legacy, [{ word: 0, mask: 1 }], 60_000);
    expect(await cache.orWords(k, [{ word: 2, mask: 1 }, { word: 1, mask: 1 }], 60_000, { allSetIfExists: legacy })).toEqual([true, true]);
    expect(await cache.orWords(k, [{ word: 2, mask: 1 }, { word: 3, mask: 1 }], 60_000)).toEqual([true, false]);
  });

  it('orWords handles thousands of entries in one call, word 0 and the last word of a 2^24-bit filter', async () => {
    const k = key();
    const entries = Array.from({ length: 5000 }, (_, i) => ({ word: i === 0 ? 0 : i === 1 ? (1 << 19) - 1 : i * 97, mask: (1 << (i % 32)) >>> 0 }));
    expect((await cache.orWords(k, entries, 60_000)).every((b) => !b)).toBe(true);
    expect((await cache.orWords(k, entries, 60_000)).every((b) => b)).toBe(true);
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
    await cache.orWords('b', [{ word: 3, mask: 1 }], 1000);
    await cache.incrCounters([{ key: 'c', by: 5 }], 1000);
    clock.advance(1001);
    expect(await cache.orWords('b', [{ word: 3, mask: 1 }], 1000)).toEqual([false]);
    expect(await cache.incrCounters([{ key: 'c', by: 1 }], 1000)).toEqual([1]);
  });
});
