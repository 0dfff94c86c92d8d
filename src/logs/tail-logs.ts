import { apiKeyStatus } from '../auth/api-key-status.ts';
import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { LOG_COLUMNS, type LogRow, type LogView, logView, VISIBLE_LOGS } from '../log-view/view.ts';
import { logConditions } from './filter.ts';
import { logIdCodec } from '../log-view/log-ids.ts';
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
 *     newest matching line, so a slow reader never falls ever further behind;
 *   - no poll sends anything once the credential that opened the tail no longer holds: every poll
 *     re-checks it (an API key: not revoked, expired or deleted, read in the poll's own transaction;
 *     a user: the token's `exp` not passed, and the project still readable) and answers `end`
 *     instead of lines. The claims were built when the stream opened; RLS alone would keep a
 *     revoked key's tail streaming, since a key's claims name its project whatever its row says.
 * Ids are internal here (the sequence's values); lastId in and out, and the lines' ids, are the
 * public ones (src/log-view/log-ids.ts). Resuming from a last id starts with low = head = that id.
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

/** What opened the tail, as every poll re-checks it. */
export type TailCredential = { kind: 'apiKey'; keyId: string } | { kind: 'user'; /** The token's exp, ms. */ expiresAt?: number };

/** Why a tail ended: its credential was revoked (or the key deleted), expired, or lost the project. */
export type TailEndReason = 'credential_revoked' | 'credential_expired' | 'access_revoked';

export interface TailBatch {
  logs: LogView[];
  dropped: number;
  /** Set when the tail must stop: nothing was sent, and no later poll will send anything. */
  end?: TailEndReason;
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
  credential: TailCredential,
  opts: TailOptions,
): Promise<LogTail> {
  const settleMs = opts.settleMs ?? 60_000;
  const pollMs = opts.pollMs ?? 1000;
  const cap = Math.max(1, Math.round((opts.rate * pollMs) / 1000));
  const read = <T>(fn: Parameters<typeof withClaims<T>>[2]) => withClaims(deps.db, actor, fn, { statement_timeout: '10s' });
  const ids = await logIdCodec(deps.db);

  const { projectId, start } = await read(async (tx) => {
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

  /** Whether the credential still holds, on the poll's transaction (pipelined ahead of its reads). */
  const check = async (tx: Queryable, now: Date): Promise<TailEndReason | undefined> => {
    if (credential.kind === 'apiKey') {
      const status = await apiKeyStatus(tx, credential.keyId, now);
      return status === 'active' ? undefined : status === 'expired' ? 'credential_expired' : 'credential_revoked';
    }
    // The same helper as the logs read policy: a user removed from the organization or the project.
    const [row] = await tx.query<{ ok: boolean }>('select $1::uuid in (select private.readable_project_ids()) as ok', [projectId]);
    return row?.ok ? undefined : 'access_revoked';
  };

  return {
    projectId,
    get lastId() {
      return ids.toPublic(head);
    },
    async poll() {
      const at = deps.clock.now();
      const now = at.getTime();
      if (credential.kind === 'user' && credential.expiresAt !== undefined && now >= credential.expiresAt) {
        return { logs: [], dropped: 0, end: 'credential_expired' };
      }
      type Read = { rows: LogRow[]; dropped: number; jumpTo?: bigint; end?: TailEndReason };
      const batch = await read(async (tx): Promise<Read> => {
        const ended = check(tx, at);
        ended.catch(() => {}); // awaited below, after the reads it is pipelined with
        const params: unknown[] = [];
        const where = conditions(params);
        params.push(cap + 1);
        const rows = await tx.query<LogRow>(`select ${LOG_COLUMNS} from ${VISIBLE_LOGS} l where ${where.join(' and ')} order by l.id limit $${params.length}`, params);
        const end = await ended;
        if (end) return { rows: [], dropped: 0, end };
        if (rows.length <= cap) return { rows, dropped: 0 };
        const countParams: unknown[] = [];
        const countWhere = conditions(countParams);
        countParams.push(MAX_DROP_COUNT);
        const [c] = await tx.query<{ n: string | number; top: string | null }>(
          `select count(*) as n, max(id)::text as top from (select l.id from ${VISIBLE_LOGS} l where ${countWhere.join(' and ')} limit $${countParams.length}) x`,
          countParams,
        );
        return { rows: rows.slice(0, cap), dropped: Number(c?.n ?? 0) - cap, jumpTo: c?.top ? BigInt(c.top) : undefined };
      });
      if (batch.end) return { logs: [], dropped: 0, end: batch.end };
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
      return { logs: batch.rows.map((r) => logView(r, ids)), dropped: Math.max(0, batch.dropped) };
    },
  };
}
