import type { Authenticator } from '../auth/authenticate.ts';
import type { SignalCounts } from '../billing/quota.ts';
import type { Identity } from '../auth/identity.ts';
import type { Cache } from '../cache/types.ts';
import type { CircuitBreaker } from '../core/circuit-breaker.ts';
import type { Clock } from '../core/clock.ts';
import { sqlState } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Db, Queryable } from '../db/types.ts';
import { ensurePartitions, isMissingPartition } from '../db/partitions.ts';
import { type BloomOptions, bloomMaybeSeen, DEFAULT_BLOOM } from './bloom.ts';
import type { DecodedBatch, ItemError } from './model.ts';
import { prepareBatch } from './prepare-batch.ts';
import type { SeriesCache } from './series.ts';
import { metricOrigins, writeAll } from './write-batch.ts';
import type { OnStored } from './write-rows.ts';

export interface IngestDeps {
  db: Db;
  /** Confirms a key accepted from the process's cache inside the writing transaction (ADR 0004). */
  auth: Pick<Authenticator, 'confirmApiKey'>;
  cache: Cache;
  clock: Clock;
  logger: Logger;
  breaker: CircuitBreaker;
  gate: { run<T>(fn: () => Promise<T>): Promise<T> };
  seriesCache: SeriesCache;
  bloom?: BloomOptions;
  /** Process counters of degraded operation, exposed at GET /ingest/stats. */
  stats: IngestStats;
}

export interface IngestStats {
  dedupDegraded: number;
  rateLimitDegraded: number;
  requests: number;
  events: number;
  duplicates: number;
  rejected: number;
  /**
   * Events looked up in Postgres because the bloom filter answered "maybe seen" (or was unreachable).
   * Against `events`, the filter's false-positive rate (at most about 1.3% per project-hour, bloom.ts)
   * plus the retries it caught.
   */
  confirmed: number;
  /**
   * Requests written again because their insert met events already stored: a concurrent copy had just
   * stored them, or they were re-sent after their bloom filter forgot them (a busy project's older events).
   */
  rewrites: number;
}

export interface IngestTarget {
  projectId: string;
  organizationId: string;
  /** The API key writing; one accepted from the cache (`pending`) is confirmed in the writing transaction. */
  key?: Extract<Identity, { kind: 'apiKey' }>;
  maxSeries: number;
  /** Request size for usage metering (bytes as received, before decompression). */
  bytes: number;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
  /** Events already stored (retries), acknowledged but not stored again. */
  duplicates: number;
  errors: ItemError[];
  /** True when the bloom filter was unreachable and every event was confirmed against Postgres. */
  dedupDegraded: boolean;
  /** Events stored per signal (what the usage row records and the quota counters end at). */
  storedBySignal: SignalCounts;
}

/**
 * Stores a decoded batch exactly once. Invariants:
 * - a 2xx is returned only after the one transaction holding all rows and the usage record commits;
 * - an event is dropped as a duplicate only when Postgres confirms an identical stored event (the
 *   bloom filter only decides which events need that check), or when the same event appears twice
 *   in this batch;
 * - an event is never stored twice, even by two transactions at once: each raw table has a unique
 *   index on the identity the check uses (migration ..2600), so the later of two concurrent copies
 *   fails with 23505 and its batch is written again, skipping what is stored;
 * - a point of a new series past the project's series limit is refused with its own error and counted.
 */
export async function ingestBatch(deps: IngestDeps, target: IngestTarget, decoded: DecodedBatch): Promise<IngestResult> {
  const now = deps.clock.now();
  const { metrics, logs, spans, specs, errors, duplicates: inBatch } = prepareBatch(decoded, now);
  let duplicates = inBatch;
  const all = [...metrics, ...logs, ...spans];
  if (all.length === 0) {
    // Nothing left to store: no transaction, no usage record; a key from the cache is still confirmed.
    if (target.key) await deps.auth.confirmApiKey(deps.db, target.key, now);
    return { accepted: 0, rejected: errors.length, duplicates, errors: errors.sort((a, b) => a.index - b.index), dedupDegraded: false, storedBySignal: { metrics: 0, logs: 0, traces: 0 } };
  }
  const maybe = await bloomMaybeSeen(deps.cache, target.projectId, all, deps.bloom ?? DEFAULT_BLOOM);
  if (!maybe) {
    deps.stats.dedupDegraded += 1;
    deps.logger.warn({ projectId: target.projectId, times: deps.stats.dedupDegraded }, 'dedup fast path unavailable: confirming every event in Postgres');
  }
  const maybeSeen = (i: number) => (maybe ? maybe[i]! : true);
  const metricMaybe = metrics.map((_, i) => maybeSeen(i));
  const logMaybe = logs.map((_, i) => maybeSeen(metrics.length + i));
  const spanMaybe = spans.map((_, i) => maybeSeen(metrics.length + logs.length + i));

  const write = (on: OnStored) => async (tx: Queryable) => {
    // A key from the cache is confirmed first thing in the transaction (its statement goes out with
    // the role prelude), and the transaction fails before COMMIT if the key no longer verifies.
    const confirmed = target.key?.pending ? deps.auth.confirmApiKey(tx, target.key, now) : undefined;
    confirmed?.catch(() => {}); // observed below, after the writes it shares the round trip with
    try {
      return await writeAll(tx, deps, target, now, { metrics, metricMaybe, logs, logMaybe, spans, spanMaybe, specs, origins: metricOrigins(decoded) }, on);
    } finally {
      // Also when the writes failed: a key that no longer verifies answers 401, and is not retried.
      await confirmed;
    }
  };
  /** One transaction; an event on a day whose partition does not exist yet: create the days of this batch, retry once. */
  const attempt = async (on: OnStored) => {
    try {
      return await asServiceRole(deps.db, write(on));
    } catch (err) {
      if (!isMissingPartition(err)) throw err;
      const times = all.map((x) => x.time);
      await ensurePartitions(deps.db, Math.min(...times), Math.max(...times));
      return asServiceRole(deps.db, write(on));
    }
  };
  const outcome = await deps.breaker.run(() =>
    deps.gate.run(async () => {
      try {
        return await attempt('fail');
      } catch (err) {
        // 23505: an event the lookups did not check was stored already: by a concurrent transaction (the
        // unique index made this one wait for it), or earlier and since forgotten by its bloom filter.
        // Write again, skipping what is stored now.
        if (sqlState(err) !== '23505') throw err;
        deps.stats.rewrites += 1;
        return attempt('skip');
      }
    }),
  );
  // Only now that the transaction committed may the series ids be remembered.
  for (const [identity, id] of outcome.seriesIds) deps.seriesCache.set(target.projectId, identity, id);
  errors.push(...outcome.seriesErrors);
  duplicates += outcome.duplicates;
  deps.stats.requests += 1;
  deps.stats.events += outcome.stored;
  deps.stats.duplicates += duplicates;
  deps.stats.confirmed += outcome.confirmed;
  deps.stats.rejected += errors.length;
  return {
    accepted: outcome.stored,
    rejected: errors.length,
    duplicates,
    errors: errors.sort((a, b) => a.index - b.index),
    dedupDegraded: !maybe,
    storedBySignal: outcome.storedBySignal,
  };
}
