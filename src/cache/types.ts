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
  close(): Promise<void>;
}
