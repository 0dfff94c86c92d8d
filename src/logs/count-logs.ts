import type { Deps } from '../core/deps.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { VISIBLE_LOGS } from '../log-view/view.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { attributeText, logConditions } from './filter.ts';
import { LOG_LEVELS, type LogFilter } from './schemas.ts';

/** Most groups one count returns; the rest are left out and `truncated` says so. */
export const MAX_COUNT_GROUPS = 1000;

/** Per service, or per value of an attribute (looked up as the filter does: attributes, then resource). */
export type LogGroupBy = 'service' | { attribute: string };

export interface LogCountGroup {
  /** `{}` without grouping, `{ service }`, or `{ <attribute key>: value }`. */
  key: Record<string, string>;
  count: number;
}

/**
 * Lines matching a log filter (the one search, histogram and tail share: logConditions) per group over
 * [from, to), largest groups first, for log alert rules. Without grouping there is always one group,
 * its count possibly 0 (a rule may alert on too few lines); grouped, only groups with lines appear,
 * and lines without the grouping attribute are not counted.
 *
 * A filter on level and service only, grouped by nothing or by service, counts whole minutes from the
 * per-minute counts (public.log_counts, kept by triggers in the lines' own transactions) and only the
 * partial minutes at the ends from the lines, as the histogram does: a rule over a day of a busy
 * project, evaluated every minute, then reads at most 1,440 counters per service and level.
 */
export async function countLogs(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  keyProjectId: string | undefined,
  input: { filter: LogFilter; from: number; to: number; groupBy?: LogGroupBy; limit: number },
): Promise<{ groups: LogCountGroup[]; truncated: boolean }> {
  const { filter: f, from, to, groupBy } = input;
  if (!(to > from)) throw invalid('query.to', 'must be after from');
  const limit = Math.max(1, Math.min(MAX_COUNT_GROUPS, Math.floor(input.limit)));
  // VISIBLE_LOGS carries the read policy as a condition evaluated for the caller, which gives the
  // service role (jobs: the alert evaluator) no project at all; the service role reads the table, and
  // logConditions restricts every read to one project either way.
  const source = actor.role === 'service_role' ? 'public.logs' : VISIBLE_LOGS;
  return withClaims(
    deps.db,
    actor,
    async (tx) => {
      const projectId = await resolveProject(tx, f.projectId, keyProjectId);
      const params: unknown[] = [];
      const p = (v: unknown) => `$${params.push(v)}`;
      const key = groupBy === undefined ? `''::text` : groupBy === 'service' ? 'l.service' : attributeText('l', p(groupBy.attribute));
      // Naming every level when the filter names none lets Postgres count from the (project_id, level,
      // time) index alone; the check constraint on level makes it the same set of rows.
      const lineFilter = f.levels ? f : { ...f, levels: [...LOG_LEVELS] };
      const lines = (part: { from: number; to: number }) => {
        const where = logConditions(projectId, lineFilter, part, params);
        if (typeof groupBy === 'object') where.push(`${key} is not null`);
        return `select ${key} as k, count(*) as n from ${source} l where ${where.join(' and ')} group by 1`;
      };
      const countable = !f.q?.trim() && f.attributes.length === 0 && !f.has?.length && !f.traceId && !f.spanId && typeof groupBy !== 'object';
      const a = Math.ceil(from / 60_000) * 60_000;
      const b = Math.floor(to / 60_000) * 60_000;
      const parts: string[] = [];
      if (countable && a < b) {
        const where = [`c.project_id = ${p(projectId)}`, `c.minute >= ${p(new Date(a))}`, `c.minute < ${p(new Date(b))}`];
        if (f.levels) where.push(`c.level = any(${p(f.levels)}::text[])`);
        if (f.services) where.push(`c.service = any(${p(f.services)}::text[])`);
        parts.push(`select ${groupBy === 'service' ? 'c.service' : `''::text`} as k, sum(c.n) as n from public.log_counts c where ${where.join(' and ')} group by 1`);
        if (from < a) parts.push(lines({ from, to: a }));
        if (b < to) parts.push(lines({ from: b, to }));
      } else {
        parts.push(lines({ from, to }));
      }
      const rows = await tx.query<{ k: string; n: string | number }>(
        `select k, sum(n)::int8 as n from (${parts.join(' union all ')}) x group by k order by n desc, k limit ${p(limit + 1)}`,
        params,
      );
      const truncated = rows.length > limit;
      if (truncated) rows.pop();
      const name = groupBy === undefined ? null : groupBy === 'service' ? 'service' : groupBy.attribute;
      const groups = rows.map((r) => ({ key: name === null ? {} : { [name]: r.k }, count: Number(r.n) }));
      if (name === null && groups.length === 0) groups.push({ key: {}, count: 0 });
      return { groups, truncated };
    },
    INTERACTIVE_READ,
  );
}
