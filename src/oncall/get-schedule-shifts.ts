import type { Deps } from '../core/deps.ts';
import { toIso as iso } from '../core/time.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { finalShifts, layerShifts, type Shift } from './schedule.ts';
import type { ShiftsQuery } from './schedule-requests.ts';
import { coreSchedule, findSchedule } from './schedule-store.ts';

const WEEK = 7 * 86_400_000;

export const toShiftView = (s: Shift) => ({ start: iso(s.start), end: iso(s.end), userId: s.user });

/**
 * A schedule's shifts within [from, to) (default: the week from now; one end given: the week from or
 * to it): each layer on its own (restrictions applied), and the final schedule (overrides on top,
 * one person at a time). Shifts are cut at from and to. The range is bounded by the query schema.
 */
export async function getScheduleShifts(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string, q: ShiftsQuery) {
  const row = await withClaims(deps.db, actor, (tx) => findSchedule(tx, id));
  const schedule = coreSchedule(row);
  const from = q.from ?? (q.to !== undefined ? q.to - WEEK : deps.clock.now().getTime());
  const to = q.to ?? from + WEEK;
  return {
    scheduleId: row.id,
    from: iso(from),
    to: iso(to),
    layers: layerShifts(schedule, from, to).map((l) => ({
      layerId: l.layerId,
      name: schedule.layers.find((x) => x.id === l.layerId)?.name ?? '',
      shifts: l.shifts.map(toShiftView),
    })),
    final: finalShifts(schedule, from, to).map(toShiftView),
  };
}
