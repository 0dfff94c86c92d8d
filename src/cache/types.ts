/**
 * The key-value surface the product uses. Three adapters: memory (embedded mode), TCP Redis (local
 * services, self-hosting) and Upstash REST (edge). Redis is an accelerator, never the system of record:
 * callers treat a failure as "degraded", not as lost data.
 */
export interface Cache {
  readonly kind: 'memory' | 'redis' | 'upstash';
  /** Resolves when the store answers; rejects when it is unreachable. */
  ping(): Promise<void>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /**
   * The bloom filter's primitive: a filter `name` of two generations of 32-bit words. Each entry ORs
   * its mask into its word of the current generation and answers whether every bit of the mask was
   * already set there (entries apply in order, so a later entry sees what earlier ones set) or in the
   * previous generation. The current generation is floor(added / capacity), `added` counting the
   * entries that changed a word so far; a call stays in the generation it started in, and the one
   * before the previous is dropped when a new one starts, so the filter holds at most two
   * generations, the latest 1 to 2 x capacity additions. TTL `ttlMs` from the last call.
   */
  bloomAdd(name: string, entries: ReadonlyArray<{ word: number; mask: number }>, opts: { capacity: number; ttlMs: number }): Promise<boolean[]>;
  /**
   * Adds `by` to each counter atomically in one command (creating it with the TTL) and returns the
   * new values. The rate limiter's primitive.
   */
  incrCounters(counters: ReadonlyArray<{ key: string; by: number }>, ttlMs: number): Promise<number[]>;
  /**
   * Counted leases, the primitive of caps on long-lived requests (live tails) across processes: a slot
   * set holds holders, each until its expiry. `holder` takes a slot in every set, all or none, when
   * each set has fewer than its `limit` live holders (one the holder already has counts as its own).
   * Holders whose expiry is at or before `now` are dropped first. A taken slot expires at `now + ttlMs`,
   * so a process that dies without releasing frees its slots within `ttlMs`. Answers -1 when taken,
   * else the index of the first set that is full (nothing taken). Times are the caller's clock (ms).
   */
  acquireSlots(sets: ReadonlyArray<{ key: string; limit: number }>, holder: string, opts: { now: number; ttlMs: number }): Promise<number>;
  /** Moves the holder's expiry in each set to `now + ttlMs`, taking the slot again if it had lapsed (no limit check). */
  renewSlots(keys: readonly string[], holder: string, opts: { now: number; ttlMs: number }): Promise<void>;
  /** Gives the holder's slots back. */
  releaseSlots(keys: readonly string[], holder: string): Promise<void>;
  close(): Promise<void>;
}
