import { badCursor, cursorCodec } from '../core/cursor.ts';
import type { Deps } from '../core/deps.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { serverSecret } from '../db/server-secret.ts';
import { LOG_COLUMNS, type LogRow, type LogView, logView, VISIBLE_LOGS } from '../log-view/view.ts';
import { logIdCodec } from '../log-view/log-ids.ts';
import { LogId } from '../log-view/query.ts';
import type { TraceLogsQuery } from './schemas.ts';
import { traceScope } from './scope.ts';
import { openCursor, sealCursor } from './time.ts';

/**
 * The logs that carry a trace's id (optionally one span's), oldest first, a page at a time with a
 * keyset cursor on (time, id), in the shape log search answers. A trace with no visible logs is an
 * empty page, not a 404: its logs may have been kept while its spans were sampled out. Reads go
 * through VISIBLE_LOGS (the logs read policy as a condition) since the caller's role may not read
 * the internal id the keyset orders by; the cursor holds the public id.
 */
export async function listTraceLogs(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  keyProjectId: string | undefined,
  traceId: string,
  query: TraceLogsQuery,
): Promise<{ logs: LogView[]; nextCursor: string | null }> {
  const cursors = cursorCodec(await serverSecret(deps.db));
  const ids = await logIdCodec(deps.db);
  const opened = query.cursor === undefined ? undefined : openCursor(cursors, 'traces.logs', query.cursor, /^\d{1,19}$/);
  if (opened && !LogId.safeParse(opened.id).success) throw badCursor();
  const after = opened && { time: opened.time, id: ids.toInternal(opened.id) };
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await traceScope(tx, query.projectId, keyProjectId);
    const params: unknown[] = [traceId];
    let where = 'l.trace_id = $1';
    if (projectId) where += ` and l.project_id = $${params.push(projectId)}`;
    if (query.spanId) where += ` and l.span_id = $${params.push(query.spanId)}`;
    if (query.from) where += ` and l.time >= $${params.push(query.from)}`;
    if (query.to) where += ` and l.time <= $${params.push(query.to)}`;
    if (after) where += ` and (l.time, l.id) > ($${params.push(after.time)}::timestamptz, $${params.push(after.id)}::bigint)`;
    // logs_trace_id_idx finds the rows; a trace has few enough logs to sort them.
    const rows = await tx.query<LogRow>(
      `select ${LOG_COLUMNS}
       from ${VISIBLE_LOGS} l
       where ${where}
       order by l.time, l.id
       limit $${params.length + 1}`,
      [...params, query.limit + 1],
    );
    const more = rows.length > query.limit;
    if (more) rows.pop();
    const last = rows[rows.length - 1];
    return { logs: rows.map((r) => logView(r, ids)), nextCursor: more && last ? sealCursor(cursors, 'traces.logs', Number(last.us), ids.toPublic(last.id)) : null };
  }, INTERACTIVE_READ);
}
