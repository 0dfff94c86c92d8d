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
   * ORs each mask into the 32-bit word at `word` of a bitmap in one command and returns, per entry,
   * whether every bit of its mask was already set (entries apply in order, so a later entry sees
   * what earlier ones set), extending the key's TTL. The bloom filter's primitive.
   */
  orWords(key: string, entries: ReadonlyArray<{ word: number; mask: number }>, ttlMs: number, opts?: { allSetIfExists?: string }): Promise<boolean[]>;
  /**
   * Adds `by` to each counter atomically in one command (creating it with the TTL) and returns the
   * new values. The rate limiter's primitive.
   */
  incrCounters(counters: ReadonlyArray<{ key: string; by: number }>, ttlMs: number): Promise<number[]>;
  close(): Promise<void>;
}
