import { readIfCredentialHolds, STREAM_READ, type CredentialEndReason, type StreamCredential } from '../auth/stream-credential.ts';
import type { Deps } from '../core/deps.ts';
import { createIdFollower } from '../db/id-follower.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { LOG_COLUMNS, type LogRow, type LogView, logView, VISIBLE_LOGS } from '../log-view/view.ts';
import { logConditions } from './filter.ts';
import { logIdCodec } from '../log-view/log-ids.ts';
import type { LogFilter } from './schemas.ts';

/**
 * Live tail: new logs matching a filter, polled by id.
 *
 * Log ids come from a sequence and commit out of order, so the tail follows them with an IdFollower
 * (src/db/id-follower.ts: a settle window behind its head, nothing fetched twice). On top of it:
 *   - at most `rate` lines go out per poll interval of a second; when more match, the first `rate`
 *     go out and the rest are skipped and reported as a count (`dropped`), and the tail jumps to the
 *     newest matching line, so a slow reader never falls ever further behind;
 *   - no poll sends anything once the credential that opened the tail no longer holds: every poll
 *     re-checks it in its own transaction (src/auth/stream-credential.ts) and answers `end` instead
 *     of lines.
 * Ids are internal here (the sequence's values); lastId in and out, and the lines' ids, are the
 * public ones (src/log-view/log-ids.ts). Resuming from a last id starts the follower at that id.
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
  /** Set when the tail must stop: nothing was sent, and no later poll will send anything. */
  end?: CredentialEndReason;
}

export interface LogTail {
  readonly projectId: string;
  /** The id a client resumes after. */
  readonly lastId: string;
  poll(): Promise<TailBatch>;
}

const MAX_DROP_COUNT = 1_000_000;

export async function openLogTail(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Claims,
  keyProjectId: string | undefined,
  credential: StreamCredential,
  opts: TailOptions,
): Promise<LogTail> {
  const settleMs = opts.settleMs ?? 60_000;
  const pollMs = opts.pollMs ?? 1000;
  const cap = Math.max(1, Math.round((opts.rate * pollMs) / 1000));
  const ids = await logIdCodec(deps.db);

  const { projectId, start } = await withClaims(
    deps.db,
    actor,
    async (tx) => {
      const projectId = await resolveProject(tx, opts.filter.projectId, keyProjectId);
      if (opts.lastId) return { projectId, start: BigInt(ids.toInternal(opts.lastId)) };
      // Start after the highest id among the project's 1,000 newest lines by time: an index range on
      // (project_id, time desc, id desc), cheap in a busy multi-tenant table, where max(id) of one
      // project could walk other tenants' ids. Lines written late with older timestamps and higher ids
      // may be sent as new.
      const [row] = await tx.query<{ id: string | null }>(
        `select max(x.id)::text as id from (select l.id from ${VISIBLE_LOGS} l where l.project_id = $1 order by l.time desc, l.id desc limit 1000) x`,
        [projectId],
      );
      return { projectId, start: BigInt(row?.id ?? '0') };
    },
    STREAM_READ,
  );

  const follower = createIdFollower(start, settleMs);
  const conditions = (params: unknown[]) => {
    const where = logConditions(projectId, opts.filter, undefined, params);
    where.push(follower.unseen('l.id', params));
    return where;
  };

  return {
    projectId,
    get lastId() {
      return ids.toPublic(follower.head);
    },
    async poll() {
      const at = deps.clock.now();
      const read = await readIfCredentialHolds(deps.db, actor, credential, projectId, at, async (tx) => {
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
      if (!read.ok) return { logs: [], dropped: 0, end: read.end };
      const batch = read.value;
      // Skipped lines are gone for this tail: it starts afresh from the newest one.
      follower.advance(at.getTime(), batch.rows.map((r) => BigInt(r.id)), batch.jumpTo);
      return { logs: batch.rows.map((r) => logView(r, ids)), dropped: Math.max(0, batch.dropped) };
    },
  };
}
