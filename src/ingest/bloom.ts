import type { Cache } from '../cache/types.ts';
import type { EventKey } from './event-key.ts';

export interface BloomOptions {
  /** Bits per generation of a filter (one filter per project per hour of event time); a multiple of 32. */
  bits: number;
  /**
   * Events a generation takes before the next starts (Cache.bloomAdd). With 2^24 bits, 1M events
   * give a generation at most 0.66% false positives when full, 0.12% at half (two generations: at
   * most 1.3%); 1.5M would give 1.9%, and 4M 19%.
   */
  capacity: number;
  /** Bit positions per key, all in one 32-bit word (at most 6). */
  hashes: number;
  /** How long a filter lives: the dedup window of the fast path. */
  windowMs: number;
  /** Filters touched per request at most; events in other hours skip the fast path (confirmed exactly). */
  maxSlotsPerRequest: number;
}

export const DEFAULT_BLOOM: BloomOptions = { bits: 1 << 24, capacity: 1_000_000, hashes: 5, windowMs: 24 * 3_600_000, maxSlotsPerRequest: 4 };
const HOUR = 3_600_000;

/**
 * A blocked bloom filter on plain Redis bitmaps (Upstash has no RedisBloom): an event's `hashes` bits
 * all lie in one 32-bit word picked by its key, so adding and testing it is one word read and at
 * most one write, done for the whole request by one script call per hour slot (Cache.bloomAdd),
 * whatever the number of events. (A bit per hash spread over the whole bitmap cost Redis about twice
 * the CPU: 5 ms against 2.6 ms per 1,000 events; the script now costs about 1.7 ms of Redis in a
 * filter's first generation and a fifth more once it also reads the previous one, see BLOOM_ADD.)
 * A duplicate answers "maybe seen" as long as its filter remembers it; a new event answers "maybe"
 * only by chance (a false positive, a little more often than an unblocked filter of the same size),
 * and callers confirm every "maybe" exactly before dropping anything. Filters are keyed by the hour of
 * the event's own timestamp, so a re-sent event meets its own filter.
 *
 * A filter holds the latest 1-2 x `capacity` events of its project-hour, in two generations. One
 * filter of 2^24 bits answered "maybe" for 2.1% of new events in its second million, 15% in its
 * fourth and 36% in its sixth; with generations it stays under 0.95% (`npm run bench:bloom`). A
 * project sending 100K events/s adds 6 million a minute, and a lookup for every event costs Postgres
 * about 10.4 against 6.4 us an event (bench:ingest's metrics with Redis unreachable). Redis holds at
 * most 2 x bits per project-hour, 4 MiB by default. So the fast path remembers an event for
 * `windowMs` in a project that sends fewer than `capacity` events an hour, and in a busier one its
 * latest 1-2 x `capacity` events of the hour (10-20 s of them at 100K events/s, where client retries
 * come within seconds). A re-sent event its filter forgot is not lost or stored twice, only slower: the
 * raw tables' unique indexes refuse it (migration ..2600), and ingestBatch writes the batch again
 * skipping what is stored. For the same reason a filter of an earlier layout (`oai:bloom:`,
 * `oai:bloom2:`) needs no reading: the key prefix names this one (`oai:bloom3`).
 *
 * Returns null when the cache is unreachable: the caller then confirms everything exactly.
 */
export async function bloomMaybeSeen(
  cache: Cache,
  projectId: string,
  items: ReadonlyArray<{ key: EventKey; time: number }>,
  opts: BloomOptions = DEFAULT_BLOOM,
): Promise<boolean[] | null> {
  const maybe: boolean[] = new Array(items.length).fill(true);
  const slots = new Map<number, number[]>();
  items.forEach((item, i) => {
    const slot = Math.floor(item.time / HOUR);
    let list = slots.get(slot);
    if (!list) {
      if (slots.size >= opts.maxSlotsPerRequest) return;
      slots.set(slot, (list = []));
    }
    list.push(i);
  });
  const words = Math.floor(opts.bits / 32);
  try {
    await Promise.all(
      [...slots].map(async ([slot, indexes]) => {
        const entries = indexes.map((i) => bloomWord(items[i]!.key, words, opts.hashes));
        const seen = await cache.bloomAdd(bloomFilterName(projectId, slot * HOUR), entries, { capacity: opts.capacity, ttlMs: opts.windowMs + HOUR });
        indexes.forEach((itemIndex, n) => {
          maybe[itemIndex] = seen[n]!;
        });
      }),
    );
  } catch {
    return null;
  }
  return maybe;
}

/** The filter of a project's events in the hour of `timeMs` (the prefix names the layout). */
export function bloomFilterName(projectId: string, timeMs: number): string {
  return `oai:bloom3:${projectId}:${Math.floor(timeMs / HOUR)}`;
}

/** The word of an event (from h1) and its bits in that word (5-bit slices of h2). */
export function bloomWord(key: EventKey, words: number, hashes: number): { word: number; mask: number } {
  let mask = 0;
  for (let k = 0; k < hashes; k++) mask |= 1 << ((key.h2 >>> (5 * k)) & 31);
  return { word: key.h1 % words, mask: mask >>> 0 };
}
