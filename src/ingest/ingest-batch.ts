import type { Authenticator } from '../auth/authenticate.ts';
import type { Identity } from '../auth/identity.ts';
import type { Cache } from '../cache/types.ts';
import type { CircuitBreaker } from '../core/circuit-breaker.ts';
import type { Clock } from '../core/clock.ts';
import { sqlState } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { Db, Queryable } from '../db/types.ts';
import { type BloomOptions, bloomMaybeSeen, DEFAULT_BLOOM } from './bloom.ts';
import { type EventKey, logKey, metricKey, pointKey, spanKey } from './event-key.ts';
import type { DecodedBatch, ItemError, LogRecord, MetricPoint, Span } from './model.ts';
import { resolveSeries, type SeriesCache, type SeriesSpec, seriesKeyOf } from './series.ts';
import { validateItems } from './validate-items.ts';
import {
  insertHistogramPoints,
  insertLogs,
  insertMetricPoints,
  insertSpans,
  type PointRow,
  storedLogKeys,
  storedPointKeys,
  storedSpanKeys,
  type OnStored,
} from './write-rows.ts';

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
}

interface Keyed<T> {
  item: T;
  key: EventKey;
  time: number;
}

type MetricItem = Keyed<MetricPoint> & { fp: string; timeText: string | undefined; valueText: string | undefined };

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
  const batch = validateItems(decoded, now);
  const errors = [...batch.errors];
  let duplicates = 0;
  const seen = new Set<number>();
  const unique = <K extends Keyed<unknown>>(items: K[]) =>
    items.filter((k) => {
      if (seen.has(k.key.key)) {
        duplicates += 1;
        return false;
      }
      seen.add(k.key.key);
      return true;
    });

  // Series specs and event keys for metric points.
  const specs = new Map<string, SeriesSpec>();
  const metricItems: MetricItem[] = [];
  // Series are keyed by their identity string (name + sorted tags); the sha256 fingerprint stored in
  // Postgres is computed only for series this process has not seen (see resolveSeries).
  for (const m of batch.metrics) {
    const series = seriesKeyOf(m);
    const identity = series.identity;
    const spec = specs.get(identity);
    if (spec) spec.points += 1;
    else specs.set(identity, { identity, name: m.name, type: m.type, temporality: m.temporality ?? null, unit: m.unit ?? null, tags: m.tags, points: 1 });
    if (m.id || m.histogram) {
      metricItems.push({ item: m, key: metricKey(m, series.tagString), time: m.timestamp, fp: identity, timeText: undefined, valueText: undefined });
    } else {
      // The time and value as text once: for the event key, and again for the insert.
      const timeText = `${m.timestamp}`;
      const valueText = `${m.value}`;
      metricItems.push({ item: m, key: pointKey(series.prefix, timeText, valueText), time: m.timestamp, fp: identity, timeText, valueText });
    }
  }
  const metrics = unique(metricItems);
  const logs = unique(batch.logs.map((l) => ({ item: l, key: logKey(l), time: l.timestamp })));
  const spans = unique(batch.spans.map((s) => ({ item: s, key: spanKey(s), time: s.start })));

  const all = [...metrics, ...logs, ...spans];
  if (all.length === 0) {
    // Nothing left to store: no transaction, no usage record; a key from the cache is still confirmed.
    if (target.key) await deps.auth.confirmApiKey(deps.db, target.key, now);
    return { accepted: 0, rejected: errors.length, duplicates, errors: errors.sort((a, b) => a.index - b.index), dedupDegraded: false };
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
  };
}

async function writeAll(
  tx: Queryable,
  deps: IngestDeps,
  target: IngestTarget,
  now: Date,
  b: {
    metrics: MetricItem[];
    metricMaybe: boolean[];
    logs: Keyed<LogRecord>[];
    logMaybe: boolean[];
    spans: Keyed<Span>[];
    spanMaybe: boolean[];
    specs: Map<string, SeriesSpec>;
    origins: MetricOrigins;
  },
  on: OnStored,
): Promise<{ stored: number; duplicates: number; confirmed: number; seriesErrors: ItemError[]; seriesIds: Map<string, number> }> {
  const seriesErrors: ItemError[] = [];
  let confirmed = 0;
  const origins = b.origins;
  let duplicates = 0;
  const series = await resolveSeries(tx, deps.seriesCache, target.projectId, b.specs, target.maxSeries, now);
  const plain: PointRow[] = [];
  const plainMaybe: boolean[] = [];
  const hist: PointRow[] = [];
  const histMaybe: boolean[] = [];
  b.metrics.forEach((m, i) => {
    const id = series.ids.get(m.fp);
    if (id === undefined) {
      const origin = origins.get(m.item);
      seriesErrors.push({
        index: origin.index,
        field: origin.field,
        message: `the project's limit of ${target.maxSeries} series is reached; new series of ${m.item.name} are refused`,
      });
      return;
    }
    const row = { seriesId: id, point: m.item, eventKey: m.key.key, timeText: m.timeText, valueText: m.valueText };
    (m.item.histogram ? hist : plain).push(row);
    (m.item.histogram ? histMaybe : plainMaybe).push(b.metricMaybe[i]!);
  });

  const dropStored = async <T extends { eventKey: number }>(rows: T[], maybe: boolean[], lookup: (candidates: T[]) => Promise<Set<number>>) => {
    const candidates = rows.filter((_, i) => maybe[i]);
    if (candidates.length === 0) return rows;
    confirmed += candidates.length;
    const stored = await lookup(candidates);
    if (stored.size === 0) return rows;
    return rows.filter((r, i) => {
      if (maybe[i] && stored.has(r.eventKey)) {
        duplicates += 1;
        return false;
      }
      return true;
    });
  };
  const newPlain = await dropStored(plain, plainMaybe, (c) => storedPointKeys(tx, 'metric_points', c));
  const newHist = await dropStored(hist, histMaybe, (c) => storedPointKeys(tx, 'metric_histogram_points', c));
  const logRows = b.logs.map((l) => ({ log: l.item, eventKey: l.key.key }));
  const newLogs = await dropStored(logRows, b.logMaybe, (c) => storedLogKeys(tx, target.projectId, c));
  const spanRows = b.spans.map((s) => ({ span: s.item, eventKey: s.key.key }));
  const newSpans = await dropStored(spanRows, b.spanMaybe, (c) => storedSpanKeys(tx, target.projectId, c));

  const attempted = newPlain.length + newHist.length + newLogs.length + newSpans.length;
  if (attempted === 0) return { stored: 0, duplicates, confirmed, seriesErrors, seriesIds: series.ids };
  // The event-time range of the metric points tells the rollup job which buckets to recompute.
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (const p of [...newPlain, ...newHist]) {
    if (p.point.timestamp < minTime) minTime = p.point.timestamp;
    if (p.point.timestamp > maxTime) maxTime = p.point.timestamp;
  }
  const usage = (events: number) =>
    tx.query(
      `insert into public.ingest_usage (project_id, organization_id, at, events, bytes, metric_min_time, metric_max_time)
       values ($1, $2, $3, $4, $5, to_timestamp($6::float8 / 1000.0), to_timestamp($7::float8 / 1000.0))`,
      [target.projectId, target.organizationId, now, events, target.bytes, Number.isFinite(minTime) ? minTime : null, Number.isFinite(maxTime) ? maxTime : null],
    );
  // Issued together: the driver pipelines them on the transaction's connection (one round trip);
  // they still run in order, and one failing fails the transaction. All are settled before the
  // first error is thrown, so none is still in flight when the transaction ends. With `fail` every
  // row is stored or the transaction fails, so the usage row goes with them, and goes first: the
  // driver holds a small message back to send it with the next, and sends a large one (the rows) at
  // once, so usage first shares the rows' socket write: one write less per request (socket writes
  // are dear on this VM; strace at 100 events a request: 7.7 -> 6.1 writes with the change to
  // sha256Hex). With `skip` it waits for the count of rows stored.
  const before = on === 'fail' ? [usage(attempted)] : [];
  const inserts = [
    insertMetricPoints(tx, target.projectId, newPlain, on),
    insertHistogramPoints(tx, target.projectId, newHist, on),
    insertLogs(tx, target.projectId, newLogs, on),
    insertSpans(tx, target.projectId, newSpans, on),
  ];
  const settled: PromiseSettledResult<unknown>[] = await Promise.allSettled([...before, ...inserts]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  if (on === 'fail') return { stored: attempted, duplicates, confirmed, seriesErrors, seriesIds: series.ids };
  const stored = settled.slice(before.length).reduce((n, r) => n + (r.status === 'fulfilled' ? (r.value as number) : 0), 0);
  if (stored > 0) await usage(stored);
  return { stored, duplicates: duplicates + attempted - stored, confirmed, seriesErrors, seriesIds: series.ids };
}

interface MetricOrigins {
  get(point: MetricPoint): { index: number; field: string };
}

/**
 * Where a metric point sits in the request, for an error found at write time: its recorded origin,
 * else (as validateItems reports) its position in the decoded list, looked up through a map built on
 * the first call only, since such errors are rare.
 */
function metricOrigins(decoded: DecodedBatch): MetricOrigins {
  let positions: Map<MetricPoint, number> | undefined;
  return {
    get(point) {
      const origin = decoded.origins?.get(point);
      if (origin) return origin;
      positions ??= new Map(decoded.metrics.map((m, i) => [m, i]));
      const i = positions.get(point) ?? -1;
      return { index: i, field: `metrics.${i}` };
    },
  };
}

/**
 * 23514 from these inserts means a row found no partition: every CHECK on the raw tables is already
 * enforced by validation. If it was something else, the retry fails the same way and surfaces.
 */
function isMissingPartition(err: unknown): boolean {
  return sqlState(err) === '23514';
}

export async function ensurePartitions(db: Db, fromMs: number, toMs: number): Promise<number> {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const [row] = await asServiceRole(db, (tx) =>
    tx.query<{ made: number }>('select private.ensure_telemetry_partitions($1::date, $2::date) as made', [day(fromMs), day(toMs)]),
  );
  return Number(row?.made ?? 0);
}
