/** The dedup fast path over the memory cache: duplicates always "maybe", the previous layout respected. */
import { describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../../src/cache/memory.ts';
import { systemClock } from '../../../src/core/clock.ts';
import { bloomMaybeSeen } from '../../../src/ingest/bloom.ts';
import { hashKey } from '../../../src/ingest/event-key.ts';

const HOUR = 3_600_000;
const items = (from: number, n: number, time: number) => Array.from({ length: n }, (_, i) => ({ key: hashKey(`event ${from + i}`), time }));

describe('bloomMaybeSeen', () => {
  it('answers every re-sent event "maybe seen", and new events mostly "new"', async () => {
    const cache = createMemoryCache(systemClock);
    const t = 1_800_000_000_000;
    const first = await bloomMaybeSeen(cache, 'p', items(0, 2000, t));
    expect(first!.filter(Boolean).length).toBeLessThan(5);
    expect((await bloomMaybeSeen(cache, 'p', items(0, 2000, t)))!.every(Boolean)).toBe(true);
    // Another hour or another project is another filter.
    expect((await bloomMaybeSeen(cache, 'p', items(0, 2000, t + HOUR)))!.filter(Boolean).length).toBeLessThan(5);
    expect((await bloomMaybeSeen(cache, 'q', items(0, 2000, t)))!.filter(Boolean).length).toBeLessThan(5);
  });

  it('while a filter of the previous layout exists for the project and hour, every event is "maybe seen"', async () => {
    const cache = createMemoryCache(systemClock);
    const t = 1_800_000_000_000;
    const slot = Math.floor(t / HOUR);
    await cache.orWords(`oai:bloom:p:${slot}`, [{ word: 0, mask: 1 }], HOUR);
    expect((await bloomMaybeSeen(cache, 'p', items(0, 100, t)))!.every(Boolean)).toBe(true);
    expect((await bloomMaybeSeen(cache, 'p', items(0, 100, t + HOUR)))!.filter(Boolean).length).toBeLessThan(3);
  });
});
