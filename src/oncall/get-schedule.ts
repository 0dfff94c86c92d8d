import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findSchedule, toScheduleView } from './schedule-store.ts';

/** One on-call schedule of an organization the caller belongs to, or 404. */
export async function getSchedule(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  return toScheduleView(await withClaims(deps.db, actor, (tx) => findSchedule(tx, id)));
}
