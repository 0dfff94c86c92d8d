import { isoMicros } from '../core/time.ts';
import type { LogIdCodec } from './log-ids.ts';

/**
 * Where every log read of ours selects from: the rows of public.logs the caller may read, with the
 * read policy as an ordinary condition so full-text matches can use the GIN index (under RLS they
 * cannot: `@@` is not leakproof). See docs/adr/0003-log-search-view.md. It is also the only way our
 * reads, running as `authenticated`, see a line's internal id: the role may not select
 * public.logs.id (docs/adr/0006-log-ids.md).
 */
export const VISIBLE_LOGS = 'private.visible_logs';

/** The columns every log read returns (id: the internal one, for keysets; logView translates it), and their JSON shape. */
export const LOG_COLUMNS = `l.id::text as id, (extract(epoch from l.time) * 1000000)::int8::text as us, l.level, l.severity_number,
  l.service, l.message, l.attributes, l.resource, l.trace_id, l.span_id`;

export interface LogRow {
  id: string;
  us: string;
  level: string;
  severity_number: number | null;
  service: string;
  message: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  trace_id: string | null;
  span_id: string | null;
}

export interface LogView {
  id: string;
  time: string;
  level: string;
  severityNumber: number | null;
  service: string;
  message: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  traceId: string | null;
  spanId: string | null;
}

/** A row as the API shows it: its id is the public one (src/log-view/log-ids.ts), never the sequence value. */
export function logView(r: LogRow, ids: LogIdCodec): LogView {
  return {
    id: ids.toPublic(r.id),
    time: isoMicros(r.us),
    level: r.level,
    severityNumber: r.severity_number,
    service: r.service,
    message: r.message,
    attributes: r.attributes,
    resource: r.resource,
    traceId: r.trace_id,
    spanId: r.span_id,
  };
}

/** A timestamptz from exact epoch microseconds (no float rounding), for keyset comparisons. */
export const fromMicros = (param: string) => `(timestamptz 'epoch' + ${param}::int8 * interval '1 microsecond')`;
