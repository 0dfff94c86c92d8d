import type { Deps } from '../core/deps.ts';
import { decodeCursorValue, encodeCursorValue } from '../core/time.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../metrics/query-metrics.ts';
import { fromMicros, LOG_COLUMNS, type LogRow, type LogView, logConditions, logView, VISIBLE_LOGS } from './filter.ts';
import { invalid, type LogFilter, timeRange } from './schemas.ts';

/**
 * Keyset pagination over (time, id). The cursor carries the position, the order, the time range of
 * the first page and a hash of the filter, so later pages read the same window the same way: rows
 * that existed when the first page was read are each returned exactly once however many arrive in
 * between (new rows newer than the window never enter it; late rows inside it may appear on later
 * pages, never twice).
 */
interface Cursor {
  o: 'desc' | 'asc';
  us: string;
  id: string;
  f: number;
  t: number;
  h: string;
}

function filterHash(projectId: string, f: LogFilter): string {
  const text = JSON.stringify([projectId, f.q ?? '', f.levels ?? [], f.services ?? [], f.traceId ?? '', f.spanId ?? '', f.has ?? [], f.attributes]);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}


function decodeCursor(text: string): Cursor {
  const c = decodeCursorValue(text) as Cursor | undefined;
  if (c && (c.o === 'desc' || c.o === 'asc') && /^-?\d{1,19}$/.test(c.us) && /^\d{1,19}$/.test(c.id) && Number.isFinite(c.f) && Number.isFinite(c.t) && typeof c.h === 'string') return c;
  throw invalid('query.cursor', 'is not a cursor this API returned');
}

export interface SearchInput {
  filter: LogFilter;
  from?: number;
  to?: number;
  order: 'desc' | 'asc';
  limit: number;
  cursor?: string;
}

export interface SearchResult {
  logs: LogView[];
  nextCursor: string | null;
  from: string;
  to: string;
}

const FIRST_WINDOW_MS = 3_600_000;

/**
 * The windows a full-text search reads, in page order: 1 h, then 4 h, 16 h... from the newest end
 * (desc) or the oldest (asc) of the range, clipped to it and to the cursor's time (in ms, inclusive:
 * the cursor condition itself excludes what was already returned).
 */
export function searchWindows(range: { from: number; to: number }, order: 'desc' | 'asc', cursorMs?: number): Array<{ from: number; to: number }> {
  const from = order === 'asc' && cursorMs !== undefined ? Math.max(range.from, cursorMs) : range.from;
  const to = order === 'desc' && cursorMs !== undefined ? Math.min(range.to, cursorMs + 1) : range.to;
  const out: Array<{ from: number; to: number }> = [];
  let size = FIRST_WINDOW_MS;
  let done = 0;
  while (done < to - from) {
    const next = Math.min(to - from, done + size);
    out.push(order === 'desc' ? { from: to - next, to: to - done } : { from: from + done, to: from + next });
    done = next;
    size *= 4;
  }
  return out;
}

export async function searchLogs(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, keyProjectId: string | undefined, input: SearchInput): Promise<SearchResult> {
  const cursor = input.cursor ? decodeCursor(input.cursor) : undefined;
  const requested = timeRange(deps.clock.now().getTime(), input.from, input.to);
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, input.filter.projectId, keyProjectId);
    const hash = filterHash(projectId, input.filter);
    if (cursor && cursor.h !== hash) throw invalid('query.cursor', 'belongs to a different search (filters changed); start again without a cursor');
    const order = cursor?.o ?? input.order;
    const range = cursor ? { from: cursor.f, to: cursor.t } : requested;
    const dir = order === 'desc' ? 'desc' : 'asc';
    // A full-text search reads time windows from the newest (or oldest) end of the range, growing
    // 4x each, until the page is full: the GIN index answers each window with few candidates, instead
    // of collecting (and rechecking, for phrases) every match of the whole range before sorting.
    // Windows are disjoint and in page order, so their rows concatenate in order.
    const windows = input.filter.q ? searchWindows(range, order, cursor ? Number(BigInt(cursor.us) / 1000n) : undefined) : [range];
    const rows: LogRow[] = [];
    for (const w of windows) {
      const params: unknown[] = [];
      const where = logConditions(projectId, input.filter, w, params);
      if (cursor) {
        params.push(cursor.us, cursor.id);
        const cmp = order === 'desc' ? '<' : '>';
        where.push(`(l.time, l.id) ${cmp} (${fromMicros(`$${params.length - 1}`)}, $${params.length}::int8)`);
      }
      params.push(input.limit + 1 - rows.length);
      rows.push(
        ...(await tx.query<LogRow>(
          `select ${LOG_COLUMNS} from ${VISIBLE_LOGS} l where ${where.join(' and ')}
           order by l.time ${dir}, l.id ${dir} limit $${params.length}`,
          params,
        )),
      );
      if (rows.length > input.limit) break;
    }
    const more = rows.length > input.limit;
    const page = more ? rows.slice(0, input.limit) : rows;
    const last = page[page.length - 1];
    const next: Cursor | undefined = more && last ? { o: order, us: last.us, id: last.id, f: range.from, t: range.to, h: hash } : undefined;
    return {
      logs: page.map(logView),
      nextCursor: next ? encodeCursorValue(next) : null,
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
    };
  }, INTERACTIVE_READ);
}
