import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../metrics/query-metrics.ts';
import { LOG_COLUMNS, type LogRow, type LogView, logConditions, logView, VISIBLE_LOGS } from './filter.ts';
import type { LogFilter } from './schemas.ts';

/**
 * Live tail: new logs matching a filter, polled by id.
 *
 * Log ids come from a sequence, so they are handed out in order but committed in any order: a row
 * with a smaller id can become visible after a larger one was already sent. The tail therefore
 * re-reads a settle window behind its head: everything above `low` that it has not fetched yet.
 * Invariants:
 *   - every id <= low was either fetched or is treated as never coming: `low` only moves to a head
 *     observed at least `settleMs` ago, longer than any ingest transaction holds an id uncommitted
 *     (ingest transactions are short; the settle window is a minute by default);
 *   - `fetched` holds exactly the fetched ids above `low`, so nothing is sent twice;
 *   - at most `rate` lines go out per poll interval of a second; when more match, the first `rate`
 *     go out and the rest are skipped and reported as a count (`dropped`), and the tail jumps to the
 *     newest matching line, so a slow reader never falls ever further behind.
 * Resuming from a last id (SSE Last-Event-ID) starts with low = head = that id.
 */
export interface TailOptions {
  filter: LogFilter;
  /** Lines per second at most. */
  rate: number;
  lastId?: string;
  settleMs?: number;
  /** Poll interval the rate is counted over. */
  pollMs?: number;
}

export interface TailBatch {
  logs: LogView[];
  dropped: number;
}

export interface LogTail {
  readonly projectId: string;
  /** The id a client resumes after. */
  readonly lastId: string;
  poll(): Promise<TailBatch>;
}

const MAX_DROP_COUNT = 1_000_000;

export async function openLogTail(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, keyProjectId: string | undefined, opts: TailOptions): Promise<LogTail> {
  const settleMs = opts.settleMs ?? 60_000;
  const pollMs = opts.pollMs ?? 1000;
  const cap = Math.max(1, Math.round((opts.rate * pollMs) / 1000));
  const read = <T>(fn: Parameters<typeof withClaims<T>>[2]) => withClaims(deps.db, actor, fn, { statement_timeout: '10s' });

  const { projectId, start } = await read(async (tx) => {
    const projectId = await resolveProject(tx, opts.filter.projectId, keyProjectId);
    if (opts.lastId) return { projectId, start: BigInt(opts.lastId) };
    // Start after the highest id among the project's 1,000 newest lines by time: an index range on
    // (project_id, time desc, id desc), cheap in a busy multi-tenant table, where max(id) of one
    // project could walk other tenants' ids. Lines written late with older timestamps and higher ids
    // may be sent as new.
    const [row] = await tx.query<{ id: string | null }>(
      `select max(x.id)::text as id from (select l.id from ${VISIBLE_LOGS} l where l.project_id = $1 order by l.time desc, l.id desc limit 1000) x`,
      [projectId],
    );
    return { projectId, start: BigInt(row?.id ?? '0') };
  });

  let low = start;
  let head = start;
  const fetched = new Set<bigint>();
  const checkpoints: Array<{ at: number; head: bigint }> = [];

  const conditions = (params: unknown[]) => {
    const where = logConditions(projectId, opts.filter, undefined, params);
    params.push(low.toString(), [...fetched].map(String));
    where.push(`l.id > $${params.length - 1}::int8`, `l.id <> all($${params.length}::text[]::int8[])`);
    return where;
  };

  return {
    projectId,
    get lastId() {
      return head.toString();
    },
    async poll() {
      const now = deps.clock.now().getTime();
      const batch = await read(async (tx) => {
        const params: unknown[] = [];
        const where = conditions(params);
        params.push(cap + 1);
        const rows = await tx.query<LogRow>(`select ${LOG_COLUMNS} from ${VISIBLE_LOGS} l where ${where.join(' and ')} order by l.id limit $${params.length}`, params);
        if (rows.length <= cap) return { rows, dropped: 0, jumpTo: undefined };
        const countParams: unknown[] = [];
        const countWhere = conditions(countParams);
        countParams.push(MAX_DROP_COUNT);
        const [c] = await tx.query<{ n: string | number; top: string | null }>(
          `select count(*) as n, max(id)::text as top from (select l.id from ${VISIBLE_LOGS} l where ${countWhere.join(' and ')} limit $${countParams.length}) x`,
          countParams,
        );
        return { rows: rows.slice(0, cap), dropped: Number(c?.n ?? 0) - cap, jumpTo: c?.top ? BigInt(c.top) : undefined };
      });
      for (const r of batch.rows) {
        const id = BigInt(r.id);
        fetched.add(id);
        if (id > head) head = id;
      }
      if (batch.jumpTo !== undefined && batch.jumpTo > head) {
        // Skipped lines are gone for this tail: start afresh from the newest one.
        head = batch.jumpTo;
        low = head;
        fetched.clear();
        checkpoints.length = 0;
      }
      checkpoints.push({ at: now, head });
      while (checkpoints.length > 0 && checkpoints[0]!.at <= now - settleMs) {
        const settled = checkpoints.shift()!.head;
        if (settled > low) low = settled;
      }
      for (const id of fetched) if (id <= low) fetched.delete(id);
      return { logs: batch.rows.map(logView), dropped: Math.max(0, batch.dropped) };
    },
  };
}
