import type { Deps } from '../core/deps.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { logConditions } from './filter.ts';
import { VISIBLE_LOGS } from '../log-view/view.ts';
import { invalid } from '../http/validate.ts';
import { LOG_LEVELS, LOG_LIMITS, type LogFilter, timeRange } from './schemas.ts';

/** Bucket widths (seconds) a histogram snaps to when the caller gives none. */
const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

export interface HistogramBucket {
  start: string;
  total: number;
  counts: Record<string, number>;
}

/**
 * Matching lines per time bucket per level, for the chart above search results. Buckets are aligned
 * to multiples of the step since the Unix epoch (UTC), cover the whole range (empty ones included so
 * charts show gaps as zeros) and the first and last may be partial.
 */
export async function logHistogram(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Claims,
  keyProjectId: string | undefined,
  input: { filter: LogFilter; from?: number; to?: number; step?: number; buckets: number },
) {
  const range = timeRange(deps.clock.now().getTime(), input.from, input.to);
  const spanSec = (range.to - range.from) / 1000;
  const step = input.step ?? NICE_STEPS.find((s) => spanSec / s <= input.buckets) ?? NICE_STEPS[NICE_STEPS.length - 1]!;
  const first = Math.floor(range.from / 1000 / step);
  const last = Math.floor((range.to - 1) / 1000 / step);
  if (last - first + 1 > LOG_LIMITS.maxHistogramBuckets) throw invalid('query.step', `gives more than ${LOG_LIMITS.maxHistogramBuckets} buckets for this range; use a larger step`);
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, input.filter.projectId, keyProjectId);
    type Row = { b: string | number; level: string; n: string | number };
    const bin = (col: string, p: string) => `date_bin(make_interval(secs => ${p}), ${col}, timestamptz 'epoch')`;
    // Raw lines of a part of the range, counted per bucket and level.
    const countLines = (part: { from: number; to: number }) => {
      const params: unknown[] = [];
      // Without a level filter, naming every level lets Postgres count from the (project_id, level,
      // time) index alone; the check constraint makes it the same set of rows.
      const filter = input.filter.levels ? input.filter : { ...input.filter, levels: [...LOG_LEVELS] };
      const where = logConditions(projectId, filter, part, params);
      params.push(step);
      const s = `$${params.length}`;
      return tx.query<Row>(
        `select (extract(epoch from ${bin('l.time', s)}) / ${s})::int8 as b, l.level, count(*) as n
         from ${VISIBLE_LOGS} l where ${where.join(' and ')} group by ${bin('l.time', s)}, l.level`,
        params,
      );
    };
    // A filter on level and service only, with whole-minute buckets, is answered from the per-minute
    // counts (public.log_counts, kept by triggers); the partial minutes at the ends of the range, if
    // any, from the lines themselves. Anything else (text, attributes, trace ids) counts the lines.
    const f = input.filter;
    const countable = !f.q?.trim() && f.attributes.length === 0 && !f.has?.length && !f.traceId && !f.spanId && step % 60 === 0;
    const a = Math.ceil(range.from / 60_000) * 60_000;
    const b = Math.floor(range.to / 60_000) * 60_000;
    const rows: Row[] = [];
    if (countable && a < b) {
      const params: unknown[] = [projectId, new Date(a), new Date(b), step];
      const where = ['c.project_id = $1', 'c.minute >= $2', 'c.minute < $3'];
      if (f.levels) where.push(`c.level = any($${params.push(f.levels)}::text[])`);
      if (f.services) where.push(`c.service = any($${params.push(f.services)}::text[])`);
      rows.push(
        ...(await tx.query<Row>(
          `select (extract(epoch from ${bin('c.minute', '$4')}) / $4)::int8 as b, c.level, sum(c.n) as n
           from public.log_counts c where ${where.join(' and ')} group by ${bin('c.minute', '$4')}, c.level`,
          params,
        )),
      );
      if (range.from < a) rows.push(...(await countLines({ from: range.from, to: a })));
      if (b < range.to) rows.push(...(await countLines({ from: b, to: range.to })));
    } else {
      rows.push(...(await countLines(range)));
    }
    const buckets: HistogramBucket[] = [];
    for (let b = first; b <= last; b++) buckets.push({ start: new Date(b * step * 1000).toISOString(), total: 0, counts: {} });
    const totals: Record<string, number> = Object.fromEntries(LOG_LEVELS.map((l) => [l, 0]));
    let total = 0;
    for (const r of rows) {
      const bucket = buckets[Number(r.b) - first];
      const n = Number(r.n);
      if (!bucket) continue;
      bucket.counts[r.level] = (bucket.counts[r.level] ?? 0) + n;
      bucket.total += n;
      totals[r.level] = (totals[r.level] ?? 0) + n;
      total += n;
    }
    return { step, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), total, totals, buckets };
  }, INTERACTIVE_READ);
}
