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
  close(): Promise<void>;
}
