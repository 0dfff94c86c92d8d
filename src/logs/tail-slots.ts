import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';

/**
 * Caps on concurrent live tails. Each open tail polls the database once a second for up to 15
 * minutes, one transaction at a time from the pool every tenant shares, so the number open is
 * bounded per API key, per user and per project (config.logTail), counted across processes through
 * the cache's slot sets, and per process in memory. A slot in the cache lapses SLOT_TTL_MS after it
 * was last renewed (a running tail renews every RENEW_EVERY_MS), so the slots of a process that died
 * free themselves; a tail that ends gives its slots back at once.
 *
 * When the cache cannot be reached the cross-process caps are skipped, not the tail: the cache is an
 * accelerator, and the per-process cap still bounds what one process polls.
 */
export const SLOT_TTL_MS = 30_000;
const RENEW_EVERY_MS = 10_000;

/** Who opened a tail: what its slots are counted under. */
export interface TailOwner {
  projectId: string;
  keyId?: string;
  userId?: string;
}

export interface TailLease {
  /** Called on every poll; renews the cache slots when RENEW_EVERY_MS have passed. */
  renew(): Promise<void>;
  /** Gives every slot back; call once, when the stream ends for any reason. */
  release(): Promise<void>;
}

export interface TailSlots {
  /** Takes a slot under every cap, or throws 429 RATE_LIMITED naming the cap that is full. */
  acquire(owner: TailOwner): Promise<TailLease>;
  /** Tails open in this process. */
  readonly open: number;
}

/** One per process: the per-process count lives here (the gateway and each edge isolate build one app). */
export function createTailSlots(deps: Pick<Deps, 'cache' | 'clock' | 'config' | 'ids' | 'logger'>): TailSlots {
  const caps = deps.config.logTail;
  let open = 0;
  const full = (what: string, limit: number) =>
    new AppError('RATE_LIMITED', `Too many live tails open ${what} (at most ${limit}); close one and retry`, {
      headers: { 'Retry-After': String(SLOT_TTL_MS / 1000) },
    });
  return {
    get open() {
      return open;
    },
    async acquire(owner) {
      if (open >= caps.maxPerProcess) throw full('on this server', caps.maxPerProcess);
      // Counted now: the cache call below yields, and another request must see this tail coming.
      open += 1;
      const holder = deps.ids.token(20);
      const sets = [
        ...(owner.keyId ? [{ key: `tail:key:${owner.keyId}`, limit: caps.maxPerKey, what: 'for this API key' }] : []),
        ...(owner.userId ? [{ key: `tail:user:${owner.userId}`, limit: caps.maxPerUser, what: 'for this user' }] : []),
        { key: `tail:project:${owner.projectId}`, limit: caps.maxPerProject, what: 'on this project' },
      ];
      const keys = sets.map((s) => s.key);
      let held = true;
      try {
        const refused = await deps.cache.acquireSlots(sets, holder, { now: deps.clock.now().getTime(), ttlMs: SLOT_TTL_MS });
        if (refused >= 0) {
          open -= 1;
          throw full(sets[refused]!.what, sets[refused]!.limit);
        }
      } catch (err) {
        if (err instanceof AppError) throw err;
        held = false;
        deps.logger.warn({ err }, 'live tail caps: cache unavailable, counting this process only');
      }
      let renewed = deps.clock.now().getTime();
      let released = false;
      return {
        async renew() {
          const now = deps.clock.now().getTime();
          if (!held || now - renewed < RENEW_EVERY_MS) return;
          renewed = now;
          await deps.cache.renewSlots(keys, holder, { now, ttlMs: SLOT_TTL_MS }).catch((err: unknown) => {
            deps.logger.warn({ err }, 'live tail caps: could not renew slots');
          });
        },
        async release() {
          if (released) return;
          released = true;
          open -= 1;
          if (!held) return;
          await deps.cache.releaseSlots(keys, holder).catch((err: unknown) => {
            deps.logger.warn({ err }, 'live tail caps: could not release slots (they lapse on their own)');
          });
        },
      };
    },
  };
}
