import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findRule } from './find-rule.ts';
import { toRuleView } from './rule-views.ts';

export async function getRule(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  return toRuleView(await withClaims(deps.db, actor, (tx) => findRule(tx, id)));
}
