import type { Config } from '../core/config.ts';
import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';

/**
 * Caps on concurrent Server-Sent Events streams (live log tails, alert streams). Each open stream
 * polls the database once a second for up to 15 minutes, one transaction at a time from the pool
 * every tenant shares, so the number open is bounded per API key, per user and per project, counted
 * across processes through the cache's slot sets, and per process in memory. A slot in the cache
 * lapses SLOT_TTL_MS after it was last renewed (a running stream renews every RENEW_EVERY_MS), so the
 * slots of a process that died free themselves; a stream that ends gives its slots back at once.
 *
 * Each kind of stream is counted apart (its own key prefix and per-process count) under its own caps;
 * both kinds take config.logTail (LOG_TAIL_MAX_*), so a key may hold that many tails and as many alert
 * streams. Alert streams poll a far smaller table than logs, so one set of limits is enough for now.
 *
 * When the cache cannot be reached the cross-process caps are skipped, not the stream: the cache is an
 * accelerator, and the per-process cap still bounds what one process polls.
 */
export const SLOT_TTL_MS = 30_000;
const RENEW_EVERY_MS = 10_000;

export type StreamCaps = Config['logTail'];

/** A kind of stream: its slot sets' key prefix, its caps, and its name in messages ("live tail"). */
export interface SlotKind {
  prefix: string;
  name: string;
  plural: string;
  caps: StreamCaps;
}

/** Who opened a stream: what its slots are counted under. */
export interface StreamOwner {
  projectId: string;
  keyId?: string;
  userId?: string;
}

export interface StreamLease {
  /** Called on every poll; renews the cache slots when RENEW_EVERY_MS have passed. */
  renew(): Promise<void>;
  /** Gives every slot back; call once, when the stream ends for any reason. */
  release(): Promise<void>;
}

export interface StreamSlots {
  /** Takes a slot under every cap, or throws 429 RATE_LIMITED naming the cap that is full. */
  acquire(owner: StreamOwner): Promise<StreamLease>;
  /** Streams of this kind open in this process. */
  readonly open: number;
}

/**
 * One per kind and process: the per-process count lives here (the gateway and each edge isolate build
 * one app, whose routes build one of these per kind).
 */
export function createStreamSlots(deps: Pick<Deps, 'cache' | 'clock' | 'ids' | 'logger'>, kind: SlotKind): StreamSlots {
  const { caps, prefix } = kind;
  let open = 0;
  const full = (what: string, limit: number) =>
    new AppError('RATE_LIMITED', `Too many ${kind.plural} open ${what} (at most ${limit}); close one and retry`, {
      headers: { 'Retry-After': String(SLOT_TTL_MS / 1000) },
    });
  return {
    get open() {
      return open;
    },
    async acquire(owner) {
      if (open >= caps.maxPerProcess) throw full('on this server', caps.maxPerProcess);
      // Counted now: the cache call below yields, and another request must see this stream coming.
      open += 1;
      const holder = deps.ids.token(20);
      const sets = [
        ...(owner.keyId ? [{ key: `${prefix}:key:${owner.keyId}`, limit: caps.maxPerKey, what: 'for this API key' }] : []),
        ...(owner.userId ? [{ key: `${prefix}:user:${owner.userId}`, limit: caps.maxPerUser, what: 'for this user' }] : []),
        { key: `${prefix}:project:${owner.projectId}`, limit: caps.maxPerProject, what: 'on this project' },
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
        deps.logger.warn({ err }, `${kind.name} caps: cache unavailable, counting this process only`);
      }
      let renewed = deps.clock.now().getTime();
      let released = false;
      return {
        async renew() {
          const now = deps.clock.now().getTime();
          if (!held || now - renewed < RENEW_EVERY_MS) return;
          renewed = now;
          await deps.cache.renewSlots(keys, holder, { now, ttlMs: SLOT_TTL_MS }).catch((err: unknown) => {
            deps.logger.warn({ err }, `${kind.name} caps: could not renew slots`);
          });
        },
        async release() {
          if (released) return;
          released = true;
          open -= 1;
          if (!held) return;
          await deps.cache.releaseSlots(keys, holder).catch((err: unknown) => {
            deps.logger.warn({ err }, `${kind.name} caps: could not release slots (they lapse on their own)`);
          });
        },
      };
    },
  };
}
