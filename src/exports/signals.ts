/**
 * What an export writes per signal: the NDJSON fields (built by Postgres, one json_build_object per
 * row), the BigQuery schema of the same fields, and the keyset order a run pages through.
 *
 * Invariant: the schema file and the NDJSON lines come from the one FIELDS list below, so their field
 * names and order cannot drift apart. Timestamps are RFC 3339 in UTC with microseconds (what
 * Postgres stores), ids stay exact (bigint as a JSON number is produced by Postgres, not by
 * JavaScript), attributes/resource/events/links are JSON values. event_key (an internal dedup hash)
 * is not exported.
 */
import type { Queryable } from '../db/types.ts';
import { logIdCodec } from '../log-view/log-ids.ts';
import type { ExportFilter, Signal } from './schemas.ts';

export type BigQueryType = 'STRING' | 'INT64' | 'FLOAT64' | 'TIMESTAMP' | 'JSON';

export interface ExportField {
  name: string;
  type: BigQueryType;
  mode: 'REQUIRED' | 'NULLABLE';
  description: string;
  /** The SQL expression producing the JSON value. */
  sql: string;
}

/** RFC 3339, UTC, microseconds: 2026-03-09T10:00:00.123456Z */
const rfc3339 = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const f = (name: string, type: BigQueryType, mode: ExportField['mode'], description: string, sql = name): ExportField => ({
  name,
  type,
  mode,
  description,
  sql: type === 'TIMESTAMP' ? rfc3339(sql) : sql,
});

export interface SignalSpec {
  table: string;
  /** The column that decides the day (dt=) and the run's time range. */
  timeColumn: string;
  /** Keyset order; the first key is timeColumn. Each key is read back as text for the cursor. */
  keys: Array<{ column: string; cast: string; text: string }>;
  fields: ExportField[];
  /** Filter clauses ("and ...") for a run's filter, pushing parameters. */
  filterSql(filter: ExportFilter, params: unknown[]): string;
  /** Rewrites a page's lines before they are written, where SQL cannot produce a field. */
  finishLines?(db: Queryable, lines: string[]): Promise<string[]>;
}

/** " and <column> = any($n)" for a filter's list of values, or nothing when it has none. */
const anyOf = (column: string, values: string[] | undefined, params: unknown[]) => {
  if (!values) return '';
  params.push(values);
  return ` and ${column} = any($${params.length}::text[])`;
};

export const SIGNALS: Record<Signal, SignalSpec> = {
  logs: {
    table: 'public.logs',
    timeColumn: 'time',
    // (time, event_key) is unique within a project (logs_project_id_time_event_key_key, which serves
    // this order), and unlike id it says nothing about other tenants: the cursor is stored in
    // export_runs.progress, which the run's readers can see.
    keys: [
      { column: 'time', cast: 'timestamptz', text: rfc3339('time') },
      { column: 'event_key', cast: 'bigint', text: 'event_key::text' },
    ],
    fields: [
      f('id', 'INT64', 'REQUIRED', 'Log id as the API shows it (GET /logs/:id), unique within the ObservAI Hub instance'),
      f('project_id', 'STRING', 'REQUIRED', 'ObservAI project id'),
      f('time', 'TIMESTAMP', 'REQUIRED', 'When the log was emitted'),
      f('level', 'STRING', 'REQUIRED', 'trace, debug, info, warn, error or fatal'),
      f('severity_number', 'INT64', 'NULLABLE', 'OpenTelemetry severity number (1-24)'),
      f('service', 'STRING', 'REQUIRED', 'Service that emitted the log'),
      f('message', 'STRING', 'REQUIRED', 'Log message'),
      f('attributes', 'JSON', 'NULLABLE', 'Log attributes'),
      f('resource', 'JSON', 'NULLABLE', 'Resource attributes (OpenTelemetry)'),
      f('trace_id', 'STRING', 'NULLABLE', 'Trace id (32 hex)'),
      f('span_id', 'STRING', 'NULLABLE', 'Span id (16 hex)'),
    ],
    filterSql: (filter, params) => anyOf('level', filter.level, params) + anyOf('service', filter.service, params),
    // The id the API shows, not the internal sequence value (docs/adr/0006-log-ids.md), which only
    // TypeScript can compute: json_build_object writes the id first, as `{"id" : <internal>, ...`.
    async finishLines(db, lines) {
      const ids = await logIdCodec(db);
      return lines.map((line) => {
        const m = /^\{"id" : (\d+),/.exec(line);
        if (!m) throw new Error('an exported log line does not start with its id');
        return `{"id" : ${ids.toPublic(m[1]!)}${line.slice(m[0].length - 1)}`;
      });
    },
  },
  spans: {
    table: 'public.spans',
    timeColumn: 'start_time',
    keys: [
      { column: 'start_time', cast: 'timestamptz', text: rfc3339('start_time') },
      { column: 'trace_id', cast: 'text', text: 'trace_id' },
      { column: 'span_id', cast: 'text', text: 'span_id' },
    ],
    fields: [
      f('project_id', 'STRING', 'REQUIRED', 'ObservAI project id'),
      f('trace_id', 'STRING', 'REQUIRED', 'Trace id (32 hex)'),
      f('span_id', 'STRING', 'REQUIRED', 'Span id (16 hex)'),
      f('parent_span_id', 'STRING', 'NULLABLE', 'Parent span id; null for a root span'),
      f('name', 'STRING', 'REQUIRED', 'Span name'),
      f('service', 'STRING', 'REQUIRED', 'Service that recorded the span'),
      f('start_time', 'TIMESTAMP', 'REQUIRED', 'Span start'),
      f('end_time', 'TIMESTAMP', 'REQUIRED', 'Span end'),
      f('duration_ms', 'FLOAT64', 'REQUIRED', 'Duration in milliseconds'),
      f('kind', 'STRING', 'REQUIRED', 'internal, server, client, producer or consumer'),
      f('status', 'STRING', 'REQUIRED', 'unset, ok or error'),
      f('status_message', 'STRING', 'NULLABLE', 'Status message'),
      f('attributes', 'JSON', 'NULLABLE', 'Span attributes'),
      f('resource', 'JSON', 'NULLABLE', 'Resource attributes (OpenTelemetry)'),
      f('events', 'JSON', 'NULLABLE', 'Span events: [{name, timestamp, attributes}]'),
      f('links', 'JSON', 'NULLABLE', 'Span links'),
    ],
    filterSql: (filter, params) => anyOf('service', filter.service, params),
  },
};

/** The `_schema.json` written next to a signal's parts: what `bq load` takes as its schema argument. */
export function bigQuerySchema(signal: Signal): Array<{ name: string; type: BigQueryType; mode: string; description: string }> {
  return SIGNALS[signal].fields.map(({ name, type, mode, description }) => ({ name, type, mode, description }));
}

/** The SQL expression producing one NDJSON line (without the newline). */
export function lineSql(signal: Signal): string {
  return `json_build_object(${SIGNALS[signal].fields.map((x) => `'${x.name}', ${x.sql}`).join(', ')})::text`;
}
