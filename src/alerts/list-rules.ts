import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { RULE_COLUMNS, type RuleRow, toRuleView } from './rule-views.ts';

/**
 * The rules of one project (the one named, or the API key's), by key. At most
 * ALERT_LIMITS.rulesPerProject, so no pages.
 */
export async function listRules(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, query: { projectId?: string | undefined }) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, query.projectId, keyProjectId);
    return tx.query<RuleRow>(`select ${RULE_COLUMNS} from public.alert_rules where project_id = $1 order by key collate "C"`, [projectId]);
  });
  return rows.map(toRuleView);
}
