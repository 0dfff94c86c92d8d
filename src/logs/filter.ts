import { isoMicros } from '../core/time.ts';
import type { LogIdCodec } from './log-ids.ts';
import type { LogFilter } from './schemas.ts';
import { compileSearch, logSearchVector, SearchSyntaxError } from './search-syntax.ts';
import { invalid } from './schemas.ts';

/**
 * Where every log read of ours selects from: the rows of public.logs the caller may read, with the
 * read policy as an ordinary condition so full-text matches can use the GIN index (under RLS they
 * cannot: `@@` is not leakproof). See docs/adr/0003-log-search-view.md. It is also the only way our
 * reads, running as `authenticated`, see a line's internal id: the role may not select
 * public.logs.id (docs/adr/0006-log-ids.md).
 */
export const VISIBLE_LOGS = 'private.visible_logs';

/**
 * The WHERE conditions of a log filter over `${VISIBLE_LOGS} l`, shared by search, histogram, context and
 * tail so every read means the same thing by the same parameters. Appends to `params`.
 * Attribute conditions look in the record's attributes first, then its resource (host.name,
 * deployment.environment...), so users need not know where an SDK put a key.
 */
export function logConditions(projectId: string, f: LogFilter, range: { from: number; to: number } | undefined, params: unknown[]): string[] {
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = [`l.project_id = ${p(projectId)}`];
  if (range) where.push(`l.time >= ${p(new Date(range.from))}`, `l.time < ${p(new Date(range.to))}`);
  if (f.levels) where.push(f.levels.length === 1 ? `l.level = ${p(f.levels[0])}` : `l.level = any(${p(f.levels)}::text[])`);
  if (f.services) where.push(f.services.length === 1 ? `l.service = ${p(f.services[0])}` : `l.service = any(${p(f.services)}::text[])`);
  if (f.traceId) where.push(`l.trace_id = ${p(f.traceId)}`);
  if (f.spanId) where.push(`l.span_id = ${p(f.spanId)}`);
  for (const key of f.has ?? []) {
    const k = p(key);
    where.push(`(l.attributes ? ${k} or l.resource ? ${k})`);
  }
  for (const a of f.attributes) {
    const k = p(a.key);
    where.push(`coalesce(l.attributes ->> ${k}, l.resource ->> ${k}) = ${p(a.value)}`);
  }
  if (f.q !== undefined && f.q.trim() !== '') where.push(`${logSearchVector('l')} @@ to_tsquery('simple', ${p(compileQueryOrThrow(f.q))})`);
  return where;
}

/** The tsquery of a search, or a 400 naming `q`. */
export function compileQueryOrThrow(q: string): string {
  try {
    return compileSearch(q);
  } catch (err) {
    if (err instanceof SearchSyntaxError) throw invalid('query.q', err.message);
    throw err;
  }
}

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

/** A row as the API shows it: its id is the public one (src/logs/log-ids.ts), never the sequence value. */
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
