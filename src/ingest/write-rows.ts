import type { Queryable } from '../db/types.ts';
import type { LogRecord, MetricPoint, Span } from './model.ts';

/**
 * Bulk inserts with one multi-row `unnest` statement per table: a handful of statements per request
 * whatever its size. Times travel as epoch milliseconds (float8, microsecond fractions kept) and
 * become timestamptz in SQL; JSON travels as text and is cast (see src/db/types.ts).
 */
export interface PointRow {
  seriesId: number;
  point: MetricPoint;
  eventKey: number;
  /** `${point.timestamp}` and `${point.value}` when the caller already made them (for the event key). */
  timeText?: string | undefined;
  valueText?: string | undefined;
}

const TS = (col: string) => `to_timestamp(${col} / 1000.0)`;

/**
 * How an insert meets a row that is already stored (the unique index of migration ..2600 on each
 * table's dedup identity): `fail` (23505; the caller's check found none, so a copy can only be one
 * another transaction wrote meanwhile), or `skip` (ON CONFLICT DO NOTHING, counting what it stored).
 * Each insert answers the number of rows it stored.
 */
export type OnStored = 'fail' | 'skip';
const CONFLICT = (on: OnStored) => (on === 'skip' ? ' on conflict do nothing returning 1 as stored' : '');
const stored = (on: OnStored, rows: unknown[], sent: number) => (on === 'skip' ? rows.length : sent);

/**
 * Numeric columns travel as one comma-joined string each, split and cast by Postgres in C
 * (`string_to_array($n, ',')::float8[]`): far cheaper on the client than serialising an array
 * parameter element by element, and exact (JavaScript prints the shortest round-trip form).
 */
const NUMS = (param: string, type: 'float8' | 'bigint') => `string_to_array(${param}, ',')::${type}[]`;

export async function insertMetricPoints(tx: Queryable, projectId: string, rows: PointRow[], on: OnStored = 'fail'): Promise<number> {
  if (rows.length === 0) return 0;
  // The four lists in one pass, concatenated as they go (no array of strings per column).
  let ids = '';
  let times = '';
  let values = '';
  let keys = '';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const sep = i === 0 ? '' : ',';
    ids += sep + r.seriesId;
    times += sep + (r.timeText ?? r.point.timestamp);
    values += sep + (r.valueText ?? r.point.value);
    keys += sep + r.eventKey;
  }
  const out = await tx.query(
    `insert into public.metric_points (project_id, series_id, time, value, event_key)
     select $1, r.series_id, ${TS('r.t')}, r.value, r.event_key
     from unnest(${NUMS('$2', 'bigint')}, ${NUMS('$3', 'float8')}, ${NUMS('$4', 'float8')}, ${NUMS('$5', 'bigint')}) as r(series_id, t, value, event_key)${CONFLICT(on)}`,
    [projectId, ids, times, values, keys],
  );
  return stored(on, out, rows.length);
}

export async function insertHistogramPoints(tx: Queryable, projectId: string, rows: PointRow[], on: OnStored = 'fail'): Promise<number> {
  if (rows.length === 0) return 0;
  const h = rows.map((r) => r.point.histogram!);
  const out = await tx.query(
    `insert into public.metric_histogram_points (project_id, series_id, time, count, sum, min, max, buckets, event_key)
     select $1, r.series_id, ${TS('r.t')}, r.count, r.sum, r.min, r.max, r.buckets::jsonb, r.event_key
     from unnest($2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::text[], $9::bigint[])
       as r(series_id, t, count, sum, min, max, buckets, event_key)${CONFLICT(on)}`,
    [
      projectId,
      rows.map((r) => r.seriesId),
      rows.map((r) => r.point.timestamp),
      h.map((x) => x.count),
      h.map((x) => x.sum),
      h.map((x) => x.min),
      h.map((x) => x.max),
      h.map(({ count: _c, sum: _s, min: _mi, max: _ma, ...buckets }) => JSON.stringify(buckets)),
      rows.map((r) => r.eventKey),
    ],
  );
  return stored(on, out, rows.length);
}

/**
 * Logs and spans travel as one JSON document per statement (`jsonb_to_recordset`): one native
 * JSON.stringify on the client and one C parser on the server, instead of escaping every string of
 * every text-array element; attributes arrive as jsonb without a second parse.
 */
export async function insertLogs(tx: Queryable, projectId: string, logs: Array<{ log: LogRecord; eventKey: number }>, on: OnStored = 'fail'): Promise<number> {
  if (logs.length === 0) return 0;
  const rows = logs.map(({ log: l, eventKey }) => ({
    t: l.timestamp,
    level: l.level,
    sev: l.severityNumber ?? null,
    service: l.service,
    message: l.message,
    attributes: l.attributes,
    resource: l.resource ?? {},
    trace_id: l.traceId ?? null,
    span_id: l.spanId ?? null,
    k: eventKey,
  }));
  const out = await tx.query(
    `insert into public.logs (project_id, time, level, severity_number, service, message, attributes, resource, trace_id, span_id, event_key)
     select $1, ${TS('r.t')}, r.level, r.sev, r.service, r.message, r.attributes, r.resource, r.trace_id, r.span_id, r.k
     from jsonb_to_recordset($2::text::jsonb)
       as r(t float8, level text, sev smallint, service text, message text, attributes jsonb, resource jsonb, trace_id text, span_id text, k bigint)${CONFLICT(on)}`,
    [projectId, JSON.stringify(rows)],
  );
  return stored(on, out, logs.length);
}

export async function insertSpans(tx: Queryable, projectId: string, spans: Array<{ span: Span; eventKey: number }>, on: OnStored = 'fail'): Promise<number> {
  if (spans.length === 0) return 0;
  const rows = spans.map(({ span: x, eventKey }) => ({
    trace_id: x.traceId,
    span_id: x.spanId,
    parent: x.parentSpanId ?? null,
    name: x.name,
    service: x.service,
    s: x.start,
    e: x.end,
    kind: x.kind,
    status: x.status,
    msg: x.statusMessage ?? null,
    attributes: x.attributes,
    resource: x.resource ?? {},
    events: x.events,
    links: x.links,
    k: eventKey,
  }));
  const out = await tx.query(
    `insert into public.spans (project_id, trace_id, span_id, parent_span_id, name, service, start_time, end_time, duration_ms, kind, status,
                               status_message, attributes, resource, events, links, event_key)
     select $1, r.trace_id, r.span_id, r.parent, r.name, r.service, ${TS('r.s')}, ${TS('r.e')},
            extract(epoch from ${TS('r.e')} - ${TS('r.s')}) * 1000, r.kind, r.status, r.msg,
            r.attributes, r.resource, r.events, r.links, r.k
     from jsonb_to_recordset($2::text::jsonb)
       as r(trace_id text, span_id text, parent text, name text, service text, s float8, e float8, kind text, status text, msg text,
            attributes jsonb, resource jsonb, events jsonb, links jsonb, k bigint)${CONFLICT(on)}`,
    [projectId, JSON.stringify(rows)],
  );
  return stored(on, out, spans.length);
}

/**
 * Exact confirmation of bloom "maybe seen" answers, through the unique indexes on each table's dedup
 * identity (migration ..2600): points by (series_id, time, event_key), logs by (project_id, time,
 * event_key), spans by (trace_id, span_id, project_id, start_time, event_key). Returns the event keys
 * that are already stored.
 */
export async function storedPointKeys(tx: Queryable, table: 'metric_points' | 'metric_histogram_points', rows: PointRow[]): Promise<Set<number>> {
  if (rows.length === 0) return new Set();
  const found = await tx.query<{ event_key: string | number }>(
    `select p.event_key from public.${table} p
     join unnest($1::bigint[], $2::float8[], $3::bigint[]) as c(series_id, t, event_key)
       on p.series_id = c.series_id and p.time = ${TS('c.t')} and p.event_key = c.event_key`,
    [rows.map((r) => r.seriesId), rows.map((r) => r.point.timestamp), rows.map((r) => r.eventKey)],
  );
  return new Set(found.map((r) => Number(r.event_key)));
}

export async function storedLogKeys(tx: Queryable, projectId: string, logs: Array<{ log: LogRecord; eventKey: number }>): Promise<Set<number>> {
  if (logs.length === 0) return new Set();
  const found = await tx.query<{ event_key: string | number }>(
    `select l.event_key from public.logs l
     join unnest($2::float8[], $3::bigint[]) as c(t, event_key)
       on l.project_id = $1 and l.time = ${TS('c.t')} and l.event_key = c.event_key`,
    [projectId, logs.map((x) => x.log.timestamp), logs.map((x) => x.eventKey)],
  );
  return new Set(found.map((r) => Number(r.event_key)));
}

export async function storedSpanKeys(tx: Queryable, projectId: string, spans: Array<{ span: Span; eventKey: number }>): Promise<Set<number>> {
  if (spans.length === 0) return new Set();
  const found = await tx.query<{ event_key: string | number }>(
    `select s.event_key from public.spans s
     join unnest($2::text[], $3::text[], $4::bigint[]) as c(trace_id, span_id, event_key)
       on s.trace_id = c.trace_id and s.span_id = c.span_id and s.project_id = $1 and s.event_key = c.event_key`,
    [projectId, spans.map((x) => x.span.traceId), spans.map((x) => x.span.spanId), spans.map((x) => x.eventKey)],
  );
  return new Set(found.map((r) => Number(r.event_key)));
}
