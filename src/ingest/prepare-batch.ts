import type { EventKey } from './event-key.ts';
import { logKey, metricKey, pointKey, spanKey } from './event-key.ts';
import type { DecodedBatch, ItemError, LogRecord, MetricPoint, Span } from './model.ts';
import { type SeriesSpec, seriesKeyOf } from './series.ts';
import { validateItems } from './validate-items.ts';

/*
 * The pure half of ingest: from a decoded request to what may be written, with no I/O. Validates
 * every item (validate-items.ts), computes each event's key and each metric point's series, and drops
 * events that appear twice in the request (counted as duplicates). Which of the rest are stored
 * already is for the bloom filter and Postgres to say (ingest-batch.ts, write-batch.ts).
 */

/** An event with its key and the time that picks its partition. */
export interface Keyed<T> {
  item: T;
  key: EventKey;
  time: number;
}

export type MetricItem = Keyed<MetricPoint> & { fp: string; timeText: string | undefined; valueText: string | undefined };

export interface PreparedBatch {
  metrics: MetricItem[];
  logs: Keyed<LogRecord>[];
  spans: Keyed<Span>[];
  /** The series the metric points name, by identity, with their point counts. */
  specs: Map<string, SeriesSpec>;
  /** Items refused by validation, with their place in the request. */
  errors: ItemError[];
  /** Events dropped because the same event came earlier in this request. */
  duplicates: number;
}

export function prepareBatch(decoded: DecodedBatch, now: Date): PreparedBatch {
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

  return { metrics, logs, spans, specs, errors, duplicates };
}
