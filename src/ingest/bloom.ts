import type { Cache } from '../cache/types.ts';
import type { EventKey } from './event-key.ts';

export interface BloomOptions {
  /** Bits per filter (one filter per project per hour of event time). */
  bits: number;
  /** Bit positions per key. */
  hashes: number;
  /** How long a filter lives: the dedup window of the fast path. */
  windowMs: number;
  /** Filters touched per request at most; events in other hours skip the fast path (confirmed exactly). */
  maxSlotsPerRequest: number;
}

export const DEFAULT_BLOOM: BloomOptions = { bits: 1 << 24, hashes: 5, windowMs: 24 * 3_600_000, maxSlotsPerRequest: 4 };
const HOUR = 3_600_000;

/**
 * A bloom filter on plain Redis bitmaps (Upstash has no RedisBloom): one SET-bits command per hour
 * slot per request, whatever the number of events. A duplicate always answers "maybe seen"; a new
 * event answers "maybe" only by chance (false positive), and callers confirm every "maybe" exactly
 * before dropping anything. Filters are keyed by the hour of the event's own timestamp, so a re-sent
 * event always meets its own filter.
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
  try {
    await Promise.all(
      [...slots].map(async ([slot, indexes]) => {
        const offsets: number[] = [];
        for (const i of indexes) {
          const { h1, h2 } = items[i]!.key;
          for (let k = 0; k < opts.hashes; k++) offsets.push((h1 + k * h2) % opts.bits >>> 0);
        }
        const old = await cache.setBits(`oai:bloom:${projectId}:${slot}`, offsets, opts.windowMs + HOUR);
        indexes.forEach((itemIndex, n) => {
          let all = true;
          for (let k = 0; k < opts.hashes; k++) all &&= old[n * opts.hashes + k]!;
          maybe[itemIndex] = all;
        });
      }),
    );
  } catch {
    return null;
  }
  return maybe;
}
