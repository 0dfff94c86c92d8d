import type { Deps } from '../core/deps.ts';
import { toIso as iso } from '../core/time.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { nextHandoffs, onCallAt, type Source } from './schedule.ts';
import type { Schedule } from './schedule-schemas.ts';
import { coreSchedule, findSchedule, overrideId } from './schedule-store.ts';

const DAY = 86_400_000;

/**
 * Who is on call for a schedule at an instant (default now), whence (an override, or a layer) and
 * until when (the next change of who is on call, looked for a year ahead; null: none within it),
 * and that next change.
 */
export async function getOnCall(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string, at: number | undefined) {
  const row = await withClaims(deps.db, actor, (tx) => findSchedule(tx, id));
  const schedule = coreSchedule(row);
  const t = at ?? deps.clock.now().getTime();
  const now = onCallAt(schedule, t);
  // A month ahead first (rotations hand over well within it), a year only when nothing changes sooner.
  // (The second look starts 1 ms early so that a change exactly at the first one's end is seen.)
  const next = nextHandoffs(schedule, t, 1, 35 * DAY)[0] ?? nextHandoffs(schedule, t + 35 * DAY - 1, 1, 331 * DAY)[0];
  return {
    scheduleId: row.id,
    at: iso(t),
    onCall: now ? { userId: now.user, source: sourceView(schedule, now.source), until: next ? iso(next.at) : null } : null,
    nextHandoff: next ? { at: iso(next.at), from: next.from, to: next.to } : null,
  };
}

function sourceView(schedule: Schedule, source: Source) {
  if (source.kind === 'override') return { kind: 'override' as const, overrideId: overrideId(schedule.overrides[source.index]!), index: source.index };
  const layer = schedule.layers.find((l) => l.id === source.layerId);
  return { kind: 'layer' as const, layerId: source.layerId, layerName: layer?.name ?? '' };
}
