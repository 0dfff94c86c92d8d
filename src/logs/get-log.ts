import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { fromMicros, LOG_COLUMNS, type LogRow, logView, VISIBLE_LOGS } from '../log-view/view.ts';
import { logIdCodec } from '../log-view/log-ids.ts';

/**
 * One log by its public id with its context: the `before` lines preceding it and the `after` lines
 * following it from the same service of the same project, in time order (ties broken by id).
 * Invisible, missing and made-up ids are 404 alike (the read policy decides, through VISIBLE_LOGS).
 */
export async function getLogWithContext(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  input: { id: string; projectId?: string; before: number; after: number },
) {
  const ids = await logIdCodec(deps.db);
  const id = ids.toInternal(input.id);
  return withClaims(deps.db, actor, async (tx) => {
    const [row] = await tx.query<LogRow & { project_id: string }>(
      `select ${LOG_COLUMNS}, l.project_id from ${VISIBLE_LOGS} l where l.id = $1::int8 ${input.projectId ? 'and l.project_id = $2' : ''} limit 1`,
      input.projectId ? [id, input.projectId] : [id],
    );
    if (!row) throw notFound('Log');
    const neighbours = async (dir: 'before' | 'after', n: number) => {
      if (n === 0) return [];
      const [cmp, order] = dir === 'before' ? ['<', 'desc'] : ['>', 'asc'];
      const rows = await tx.query<LogRow>(
        `select ${LOG_COLUMNS} from ${VISIBLE_LOGS} l
         where l.project_id = $1 and l.service = $2 and (l.time, l.id) ${cmp} (${fromMicros('$3')}, $4::int8)
         order by l.time ${order}, l.id ${order} limit $5`,
        [row.project_id, row.service, row.us, row.id, n],
      );
      return dir === 'before' ? rows.reverse() : rows;
    };
    const before = await neighbours('before', input.before);
    const after = await neighbours('after', input.after);
    const view = (r: LogRow) => logView(r, ids);
    return { log: { ...view(row), projectId: row.project_id }, before: before.map(view), after: after.map(view) };
  }, INTERACTIVE_READ);
}
