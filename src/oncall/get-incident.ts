import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findIncident, type TimelineRow, toIncidentView, toTimelineView } from './views.ts';

/** One incident the caller may read (RLS), with its timeline in order, or 404. */
export async function getIncident(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  return withClaims(deps.db, actor, async (tx) => {
    const row = await findIncident(tx, id);
    const timeline = await tx.query<TimelineRow>('select id, at, kind, actor, details from public.incident_timeline where incident_id = $1 order by at, id', [id]);
    return { incident: toIncidentView(row), timeline: timeline.map(toTimelineView) };
  });
}
