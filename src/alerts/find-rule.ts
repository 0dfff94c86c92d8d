import { forbidden, notFound } from '../core/errors.ts';
import type { Queryable } from '../db/types.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { RULE_COLUMNS, type RuleRow } from './rule-views.ts';

/** A rule read under the caller's claims (RLS): 404 when it does not exist or the caller cannot see it. */
export async function findRule(tx: Queryable, id: string): Promise<RuleRow> {
  const [row] = await tx.query<RuleRow>(`select ${RULE_COLUMNS} from public.alert_rules where id = $1`, [id]);
  if (!row) throw notFound('Alert rule');
  return row;
}

/**
 * The project whose rules a write changes: 404 when the caller cannot see it, 403 when they may see
 * but not change it. Asked of the same function the policies use (private.writable_project_ids), so
 * RLS still decides; asked up front because applying an unchanged file writes no row that RLS could
 * refuse, and a viewer must not get a 200 for a write.
 */
export async function writableProject(tx: Queryable, projectId: string | undefined, keyProjectId: string | undefined) {
  const id = await resolveProject(tx, projectId, keyProjectId, 'body.projectId');
  const [p] = await tx.query<{ organization_id: string; may_write: boolean }>(
    `select organization_id, id in (select private.writable_project_ids()) as may_write from public.projects where id = $1`,
    [id],
  );
  if (!p?.may_write) throw forbidden('Only owners, admins and members assigned to the project can change its alert rules');
  return { id, organizationId: p.organization_id };
}

/**
 * Serialises rule writes per project until the transaction ends, so the per-project cap holds and two
 * applies of the same file do not both insert a new key.
 */
export async function lockProjectRules(tx: Queryable, projectId: string): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(hashtextextended('alert_rules:' || $1, 0))`, [projectId]);
}
