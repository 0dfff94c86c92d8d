/** The dedup fast path over the memory cache: duplicates "maybe", false positives bounded however busy a project. */
import { describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../../src/cache/memory.ts';
import { systemClock } from '../../../src/core/clock.ts';
import { bloomMaybeSeen, DEFAULT_BLOOM } from '../../../src/ingest/bloom.ts';
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

  it('keeps false positives bounded in a busy project-hour, and still knows the latest events', async () => {
    // The default's proportions (2^24 bits, 1M events a generation) at 1/256 of the size.
    const opts = { ...DEFAULT_BLOOM, bits: (1 << 24) / 256, capacity: 1_000_000 / 256 };
    const unbounded = { ...opts, capacity: Number.MAX_SAFE_INTEGER };
    const t = 1_800_000_000_000;
    const falsePositives = async (o: typeof opts) => {
      const cache = createMemoryCache(systemClock);
      let worst = 0;
      // 80,000 unique events (20 generations), 1,000 a request, as a busy project sends them.
      for (let from = 0; from < 80_000; from += 1000) {
        const maybe = await bloomMaybeSeen(cache, 'p', items(from, 1000, t), o);
        worst = Math.max(worst, maybe!.filter(Boolean).length / 1000);
      }
      // The request just sent, sent again: every event found.
      expect((await bloomMaybeSeen(cache, 'p', items(79_000, 1000, t), o))!.every(Boolean)).toBe(true);
      return worst;
    };
    expect(await falsePositives(opts)).toBeLessThan(0.03);
    // Without generations the same events fill the filter until nearly everything is "maybe".
    expect(await falsePositives(unbounded)).toBeGreaterThan(0.5);
  });
});
