import type { Deps } from '../core/deps.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { resolveOptionalProject } from '../orgs/lookup.ts';
import type { Labels, Severity } from './model.ts';
import { microsParam, openPage } from '../http/page-cursor.ts';
import type { HistoryQuery } from './schemas.ts';

/** An alert_transitions row as TRANSITION_COLUMNS reads it. */
export interface TransitionRow {
  id: string;
  project_id: string;
  rule_id: string | null;
  fingerprint: string;
  labels: Labels;
  from_state: string;
  to_state: string;
  severity: Severity;
  value: number | null;
  threshold: number | null;
  reason: string;
  at: Date;
}

export const TRANSITION_COLUMNS = 'id::text as id, project_id, rule_id, fingerprint, labels, from_state, to_state, severity, value, threshold, reason, at';

/** A transition as the API shows it: in the history and as the alert stream's `transition` event. */
export const toTransitionView = (r: TransitionRow) => ({
  id: r.id,
  projectId: r.project_id,
  ruleId: r.rule_id,
  fingerprint: r.fingerprint,
  labels: r.labels,
  fromState: r.from_state,
  toState: r.to_state,
  severity: r.severity,
  value: r.value,
  threshold: r.threshold,
  reason: r.reason,
  at: new Date(r.at).toISOString(),
});

/** Alert history, newest first, in keyset pages: a page never repeats or skips a row of the one before. */
export async function listHistory(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: HistoryQuery) {
  if (q.from !== undefined && q.to !== undefined && q.to <= q.from) throw invalid('query.to', 'must be after from');
  const { cursor, limit, ...filter } = q;
  const page = await openPage(deps.db, 'alerts.history', { ...filter, keyProjectId }, cursor, /^\d{1,19}$/);
  const rows = await withClaims(
    deps.db,
    actor,
    async (tx) => {
      const projectId = await resolveOptionalProject(tx, q.projectId, keyProjectId);
      const params: unknown[] = [projectId, q.ruleId ?? null, q.fingerprint ?? null, q.to_state ?? null, q.from ?? null, q.to ?? null, limit + 1];
      let after = '';
      if (page.after) {
        params.push(page.after.us, page.after.id);
        after = `and (at, id) < (${microsParam('$8')}, $9::int8)`;
      }
      return tx.query<TransitionRow & { us: string }>(
        `select ${TRANSITION_COLUMNS},
           (extract(epoch from at) * 1000000)::int8::text as us
         from public.alert_transitions
         where ($1::uuid is null or project_id = $1) and ($2::uuid is null or rule_id = $2) and ($3::text is null or fingerprint = $3)
           and ($4::text is null or to_state = $4) and ($5::float8 is null or at >= to_timestamp($5::float8 / 1000))
           and ($6::float8 is null or at < to_timestamp($6::float8 / 1000)) ${after}
         order by at desc, id desc limit $7`,
        params,
      );
    },
    INTERACTIVE_READ,
  );
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  return { transitions: shown.map(toTransitionView), nextCursor: page.next(more ? shown[shown.length - 1] : undefined) };
}
