import type { SignalCounts } from '../billing/quota.ts';
import type { Queryable } from '../db/types.ts';
import type { ItemError, LogRecord, MetricPoint, DecodedBatch, Span } from './model.ts';
import type { IngestDeps, IngestTarget } from './ingest-batch.ts';
import type { Keyed, MetricItem } from './prepare-batch.ts';
import { resolveSeries, type SeriesSpec } from './series.ts';
import {
  insertHistogramPoints,
  insertLogs,
  insertMetricPoints,
  insertSpans,
  type OnStored,
  type PointRow,
  storedLogKeys,
  storedPointKeys,
  storedSpanKeys,
} from './write-rows.ts';

/**
 * The writer: inside one transaction, resolves the batch's series (refusing new ones past the
 * project's limit), looks up in Postgres the events the bloom filter could not rule out, and inserts
 * the rest with the usage row. The accept verb (ingest-batch.ts) owns the transaction, its retries
 * and the counters; the pure preparation (prepare-batch.ts) decided what is written.
 */
export async function writeAll(
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
): Promise<{ stored: number; storedBySignal: SignalCounts; duplicates: number; confirmed: number; seriesErrors: ItemError[]; seriesIds: Map<string, number> }> {
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
  if (attempted === 0) return { stored: 0, storedBySignal: { metrics: 0, logs: 0, traces: 0 }, duplicates, confirmed, seriesErrors, seriesIds: series.ids };
  // The event-time range of the metric points tells the rollup job which buckets to recompute.
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (const p of [...newPlain, ...newHist]) {
    if (p.point.timestamp < minTime) minTime = p.point.timestamp;
    if (p.point.timestamp > maxTime) maxTime = p.point.timestamp;
  }
  // Per signal (metrics, logs, spans) for the meter and the quota counters; the key for per-key usage.
  const usage = (n: SignalCounts) =>
    tx.query(
      `insert into public.ingest_usage (project_id, organization_id, at, events, bytes, metric_min_time, metric_max_time, api_key_id, metric_events, log_events, span_events)
       values ($1, $2, $3, $4, $5, to_timestamp($6::float8 / 1000.0), to_timestamp($7::float8 / 1000.0), $8, $9, $10, $11)`,
      [
        target.projectId,
        target.organizationId,
        now,
        n.metrics + n.logs + n.traces,
        target.bytes,
        Number.isFinite(minTime) ? minTime : null,
        Number.isFinite(maxTime) ? maxTime : null,
        target.key?.keyId ?? null,
        n.metrics,
        n.logs,
        n.traces,
      ],
    );
  // Issued together: the driver pipelines them on the transaction's connection (one round trip);
  // they still run in order, and one failing fails the transaction. All are settled before the
  // first error is thrown, so none is still in flight when the transaction ends. With `fail` every
  // row is stored or the transaction fails, so the usage row goes with them, and goes first: the
  // driver holds a small message back to send it with the next, and sends a large one (the rows) at
  // once, so usage first shares the rows' socket write: one write less per request (socket writes
  // are dear on this VM; strace at 100 events a request: 7.7 -> 6.1 writes with the change to
  // sha256Hex). With `skip` it waits for the count of rows stored.
  const attemptedBySignal: SignalCounts = { metrics: newPlain.length + newHist.length, logs: newLogs.length, traces: newSpans.length };
  const before = on === 'fail' ? [usage(attemptedBySignal)] : [];
  const inserts = [
    insertMetricPoints(tx, target.projectId, newPlain, on),
    insertHistogramPoints(tx, target.projectId, newHist, on),
    insertLogs(tx, target.projectId, newLogs, on),
    insertSpans(tx, target.projectId, newSpans, on),
  ];
  const settled: PromiseSettledResult<unknown>[] = await Promise.allSettled([...before, ...inserts]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  if (on === 'fail') return { stored: attempted, storedBySignal: attemptedBySignal, duplicates, confirmed, seriesErrors, seriesIds: series.ids };
  const counts = settled.slice(before.length).map((r) => (r.status === 'fulfilled' ? (r.value as number) : 0));
  const storedBySignal: SignalCounts = { metrics: counts[0]! + counts[1]!, logs: counts[2]!, traces: counts[3]! };
  const stored = storedBySignal.metrics + storedBySignal.logs + storedBySignal.traces;
  if (stored > 0) await usage(storedBySignal);
  return { stored, storedBySignal, duplicates: duplicates + attempted - stored, confirmed, seriesErrors, seriesIds: series.ids };
}

export interface MetricOrigins {
  get(point: MetricPoint): { index: number; field: string };
}

/**
 * Where a metric point sits in the request, for an error found at write time: its recorded origin,
 * else (as validateItems reports) its position in the decoded list, looked up through a map built on
 * the first call only, since such errors are rare.
 */
export function metricOrigins(decoded: DecodedBatch): MetricOrigins {
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
