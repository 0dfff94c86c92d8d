import type { Deps } from '../core/deps.ts';
import { badCursor, type CursorCodec, cursorCodec } from '../core/cursor.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { serverSecret } from '../db/server-secret.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { fromMicros, LOG_COLUMNS, type LogRow, type LogView, logView, VISIBLE_LOGS } from '../log-view/view.ts';
import { logConditions } from './filter.ts';
import { type LogIdCodec, logIdCodec } from '../log-view/log-ids.ts';
import { invalid } from '../http/validate.ts';
import { LOG_LIMITS, type LogFilter, timeRange } from './schemas.ts';
import { LogId } from '../log-view/query.ts';

/**
 * Keyset pagination over (time, id). The cursor carries the position, the order, the time range of
 * the first page and a hash of the filter, so later pages read the same window the same way: rows
 * that existed when the first page was read are each returned exactly once however many arrive in
 * between (new rows newer than the window never enter it; late rows inside it may appear on later
 * pages, never twice). It is signed (src/core/cursor.ts): its range was checked against the 400-day
 * cap when the first page was asked for, and an edited one is refused before anything is read. Its
 * id is the public one (the cursor is readable), translated back on the way in.
 */
interface Cursor {
  o: 'desc' | 'asc';
  us: string;
  id: string;
  f: number;
  t: number;
  h: string;
}

const CURSOR_PURPOSE = 'logs.search';
/** The times a Date can hold (ms from the epoch); Postgres' range is wider. */
const MAX_TIME_MS = 8.64e15;

function filterHash(projectId: string, f: LogFilter): string {
  const text = JSON.stringify([projectId, f.q ?? '', f.levels ?? [], f.services ?? [], f.traceId ?? '', f.spanId ?? '', f.has ?? [], f.attributes]);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/**
 * The cursor's fields, checked as if unsigned: a range as the first page's could have had (at most
 * maxRangeMs, inside what a Date holds) and a position inside it. A failure is the same 400 as a
 * forged signature.
 */
function openCursor(cursors: CursorCodec, ids: LogIdCodec, text: string): Cursor & { internalId: string } {
  const c = cursors.open(CURSOR_PURPOSE, text) as Partial<Cursor> | null;
  if (c === null || typeof c !== 'object') throw badCursor();
  const { o, us, id, f, t, h } = c;
  const time = (ms: unknown): ms is number => Number.isSafeInteger(ms) && Math.abs(ms as number) <= MAX_TIME_MS;
  const range = time(f) && time(t) && f < t && t - f <= LOG_LIMITS.maxRangeMs;
  const position = range && typeof us === 'string' && /^-?\d{1,19}$/.test(us) && BigInt(us) >= BigInt(f) * 1000n && BigInt(us) < BigInt(t) * 1000n;
  if (!position || (o !== 'desc' && o !== 'asc') || typeof id !== 'string' || !LogId.safeParse(id).success || typeof h !== 'string') throw badCursor();
  return { o, us, id, f, t, h, internalId: ids.toInternal(id) };
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
  const cursors = cursorCodec(await serverSecret(deps.db));
  const ids = await logIdCodec(deps.db);
  const cursor = input.cursor ? openCursor(cursors, ids, input.cursor) : undefined;
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
        params.push(cursor.us, cursor.internalId);
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
    const next: Cursor | undefined = more && last ? { o: order, us: last.us, id: ids.toPublic(last.id), f: range.from, t: range.to, h: hash } : undefined;
    return {
      logs: page.map((r) => logView(r, ids)),
      nextCursor: next ? cursors.seal(CURSOR_PURPOSE, next) : null,
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
    };
  }, INTERACTIVE_READ);
}
