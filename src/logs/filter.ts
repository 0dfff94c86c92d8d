import { VISIBLE_LOGS } from '../log-view/view.ts';
import type { LogFilter } from './schemas.ts';
import { compileSearch, logSearchVector, SearchSyntaxError } from './search-syntax.ts';
import { invalid } from '../http/validate.ts';


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
  for (const a of f.attributes) where.push(`${attributeText('l', p(a.key))} = ${p(a.value)}`);
  if (f.q !== undefined && f.q.trim() !== '') where.push(`${logSearchVector('l')} @@ to_tsquery('simple', ${p(compileQueryOrThrow(f.q))})`);
  return where;
}

/**
 * The text of attribute `key` (a parameter placeholder) of a logs row aliased `alias`, as filters and
 * groupings see it: the record's own attributes first, then its resource.
 */
export function attributeText(alias: string, key: string): string {
  return `coalesce(${alias}.attributes ->> ${key}, ${alias}.resource ->> ${key})`;
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
