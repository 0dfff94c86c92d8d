/**
 * The cache primitives behave the same in memory and in Redis: bloomAdd reports bits already set in
 * its two generations, forgets older ones and expires, incrCounters is atomic per call and starts
 * fresh after the TTL. With REDIS_URL, the Upstash adapter runs too, through a local stand-in for
 * Upstash's REST API in front of that Redis. Slot sets (the caps on live tails) admit holders up to
 * their limit, all sets or none, and forget holders whose lease lapsed.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis as IORedis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/cache/memory.ts';
import { bloomKeys } from '../../src/cache/redis-scripts.ts';
import { createRedisCache } from '../../src/cache/redis.ts';
import type { Cache } from '../../src/cache/types.ts';
import { createUpstashCache } from '../../src/cache/upstash.ts';
import { fakeClock, systemClock } from '../../src/core/clock.ts';
import { randomToken } from '../../src/core/ids.ts';
import { rng } from '../helpers/random.ts';

/**
 * Upstash's REST API as the adapter uses it: POST a command as a JSON array (to /pipeline, an array of
 * them, which the client's auto-pipelining sends), strings answered in base64 when asked.
 */
async function upstashRestShim(redisUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const redis = new IORedis(redisUrl);
  const b64 = (v: unknown): unknown => (typeof v === 'string' ? Buffer.from(v).toString('base64') : Array.isArray(v) ? v.map(b64) : v);
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const run = async ([command, ...args]: Array<string | number>) => {
        try {
          const result = await redis.call(String(command), ...args.map(String));
          return { result: req.headers['upstash-encoding'] === 'base64' ? b64(result) : result };
        } catch (err) {
          return { error: (err as Error).message };
        }
      };
      const parsed = JSON.parse(body) as Array<string | number> | Array<Array<string | number>>;
      const reply = req.url?.startsWith('/pipeline') ? Promise.all((parsed as Array<Array<string | number>>).map(run)) : run(parsed as Array<string | number>);
      void reply.then((r) => {
        if (!Array.isArray(r) && r.error) res.statusCode = 400;
        res.end(JSON.stringify(r));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      redis.disconnect();
    },
  };
}

const caches: Array<[string, () => Cache]> = [['memory', () => createMemoryCache(systemClock)]];
const shim = process.env.REDIS_URL ? await upstashRestShim(process.env.REDIS_URL) : undefined;
afterAll(() => shim?.close());
if (process.env.REDIS_URL) caches.push(['redis', () => createRedisCache(process.env.REDIS_URL!)]);
if (shim) caches.push(['upstash (REST shim)', () => createUpstashCache(shim.url, 'test-token')]);

describe.each(caches)('%s cache', (name, make) => {
  const cache = make();
  afterAll(() => cache.close());
  const key = () => `test:${randomToken(10)}`;

  const BIG = { capacity: 1e9, ttlMs: 60_000 };

  it('bloomAdd reports whether every bit of each mask was already set, entries applied in order', async () => {
    const k = key();
    const w = (word: number, mask: number) => ({ word, mask });
    expect(await cache.bloomAdd(k, [w(3, 0b101), w(3, 0b100), w(3, 0b001), w(3, 0b111)], BIG)).toEqual([false, true, true, false]);
    expect(await cache.bloomAdd(k, [w(3, 0b111), w(4, 1), w(100_000, 0x80000000), w(100_000, 0xffffffff)], BIG)).toEqual([true, false, false, false]);
    expect(await cache.bloomAdd(k, [w(100_000, 0xffffffff), w(100_000, 0x80000001), w(0, 1)], BIG)).toEqual([true, true, false]);
    expect(await cache.bloomAdd(k, [w(2, 1)], BIG)).toEqual([false]);
    // A reply of only '1's must not be read as a number by any adapter.
    expect(await cache.bloomAdd(k, Array.from({ length: 400 }, () => w(3, 1)), BIG)).toEqual(Array(400).fill(true));
  });

  it.each([
    // [case, capacity, calls: [entries as letters, expected answers]]: each letter is its own word and
    // bit, so an entry changes the current generation exactly when that generation lacks it.
    [
      'the previous generation still answers; the one before it is forgotten',
      2,
      [
        ['AB', '00'], // generation 0: A B (2 added)
        ['AC', '10'], // generation 1: A found in 0, both added to 1 (4 added)
        ['BCD', '010'], // generation 2 reuses 0's bitmap: B forgotten, C found in 1 (7 added)
        ['ABD', '011'], // generation 3 reuses 1's bitmap: A forgotten, B and D found in 2
      ],
    ],
    ['entries already in the current generation add nothing, so it does not advance', 2, [['A', '0'], ['AAA', '111'], ['B', '0'], ['AB', '11']]],
    [
      'a call stays in its generation past the capacity; a jump of two forgets both generations',
      2,
      [
        ['ABCDEA', '000001'], // all in generation 0 (5 added): the second A finds the first
        ['A', '0'], // generation 2: 0 and 1 forgotten (6 added)
        ['AB', '10'], // generation 3: A found in 2
      ],
    ],
    [
      'a raised capacity (a generation number moving back) starts afresh',
      2,
      [
        ['AB', '00'],
        ['C', '0'], // generation 1 (3 added)
        ['A', '0', 10], // capacity 10: generation 0 again; both bitmaps are dropped first, so A is new
      ],
    ],
  ])('bloomAdd generations: %s', async (_, capacity, calls) => {
    const k = key();
    const entries = (letters: string) => [...letters].map((c) => ({ word: c.charCodeAt(0) - 64, mask: 1 << (c.charCodeAt(0) - 64) }));
    for (const [letters, answers, callCapacity] of calls as Array<[string, string, number?]>) {
      const opts = { capacity: callCapacity ?? (capacity as number), ttlMs: 60_000 };
      expect((await cache.bloomAdd(k, entries(letters), opts)).map((b) => (b ? '1' : '0')).join(''), letters).toBe(answers);
    }
  });

  it.runIf(name !== 'memory')('bloomAdd starts empty when its state hash is gone but its bitmaps are not (evicted)', async () => {
    const k = key();
    const w = [{ word: 5, mask: 0x80000001 }];
    expect(await cache.bloomAdd(k, w, BIG)).toEqual([false]);
    expect(await cache.bloomAdd(k, w, BIG)).toEqual([true]);
    const direct = new IORedis(process.env.REDIS_URL!);
    await direct.del(bloomKeys(k)[0]);
    direct.disconnect();
    expect(await cache.bloomAdd(k, w, BIG)).toEqual([false]);
  });

  it.each([
    ['one generation', 1e9],
    ['generations of 60 additions, masks with the sign bit crossing them', 60],
  ])('bloomAdd answers each entry in place when words repeat among other words, as the memory cache does (%s)', async (_, capacity) => {
    const k = key();
    const reference = createMemoryCache(systemClock);
    const r = rng(7);
    const bit = () => (1 << Math.floor(r() * 32)) >>> 0;
    const opts = { capacity, ttlMs: 60_000 };
    for (let round = 0; round < 8; round++) {
      const entries = Array.from({ length: 100 }, () => ({ word: Math.floor(r() * 40), mask: (bit() | bit() | 0x80000000 * (round % 2) | (round === 3 ? 0 : bit())) >>> 0 }));
      expect(await cache.bloomAdd(k, entries, opts)).toEqual(await reference.bloomAdd('ref', entries, opts));
    }
  });

  it('bloomAdd handles thousands of entries in one call, word 0 and the last word of a 2^24-bit filter', async () => {
    const k = key();
    const entries = Array.from({ length: 5000 }, (_, i) => ({ word: i === 0 ? 0 : i === 1 ? (1 << 19) - 1 : i * 97, mask: (1 << (i % 32)) >>> 0 }));
    expect((await cache.bloomAdd(k, entries, BIG)).every((b) => !b)).toBe(true);
    expect((await cache.bloomAdd(k, entries, BIG)).every((b) => b)).toBe(true);
  });

  // Slot steps: [op, holder, sets (letter = set, digit = its limit) or keys, now (s), expected answer].
  type SlotStep = ['acquire', string, string, number, number] | ['renew' | 'release', string, string, number];
  it.each<[string, SlotStep[]]>([
    [
      'a set admits holders up to its limit; a holder already in counts once; release frees a slot',
      [
        ['acquire', 'h1', 'A2', 0, -1],
        ['acquire', 'h2', 'A2', 0, -1],
        ['acquire', 'h3', 'A2', 0, 0], // full
        ['acquire', 'h1', 'A2', 0, -1], // h1 again: still two holders
        ['release', 'h1', 'A', 0],
        ['acquire', 'h3', 'A2', 0, -1],
      ],
    ],
    [
      'all or none: a full set answers its index and no other set is taken',
      [
        ['acquire', 'h1', 'B1', 0, -1],
        ['acquire', 'h2', 'A1B1', 0, 1], // B is full, so A stays free
        ['acquire', 'h3', 'A1', 0, -1],
        ['acquire', 'h4', 'A1C5', 0, 0],
      ],
    ],
    [
      'a slot lapses ttl after it was taken or renewed (a process that died frees it)',
      [
        ['acquire', 'h1', 'A1', 0, -1],
        ['acquire', 'h2', 'A1', 29, 0],
        ['renew', 'h1', 'A', 29], // now held until 59
        ['acquire', 'h2', 'A1', 58, 0],
        ['acquire', 'h2', 'A1', 59, -1], // h1 lapsed at 59
        ['renew', 'h1', 'A', 60], // renewing a lapsed slot takes it again, without a limit check
        ['acquire', 'h3', 'A2', 60, 0],
      ],
    ],
  ])('slots: %s', async (_, steps) => {
    const prefix = key();
    const sets = (spec: string) => [...spec.matchAll(/([A-Z])(\d*)/g)].map((m) => ({ key: `${prefix}:${m[1]}`, limit: Number(m[2] || 0) }));
    const t0 = 1_767_225_600_000;
    for (const [op, holder, spec, at, expected] of steps) {
      const opts = { now: t0 + at * 1000, ttlMs: 30_000 };
      const keys = sets(spec).map((s) => s.key);
      if (op === 'acquire') expect(await cache.acquireSlots(sets(spec), holder, opts), `${op} ${holder} ${spec} @${at}`).toBe(expected);
      else if (op === 'renew') await cache.renewSlots(keys, holder, opts);
      else await cache.releaseSlots(keys, holder);
    }
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
    await cache.bloomAdd('b', [{ word: 3, mask: 1 }], { capacity: 10, ttlMs: 1000 });
    await cache.incrCounters([{ key: 'c', by: 5 }], 1000);
    clock.advance(1001);
    expect(await cache.bloomAdd('b', [{ word: 3, mask: 1 }], { capacity: 10, ttlMs: 1000 })).toEqual([false]);
    expect(await cache.incrCounters([{ key: 'c', by: 1 }], 1000)).toEqual([1]);
  });
});
