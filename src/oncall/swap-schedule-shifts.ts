import type { Deps } from '../core/deps.ts';
import { toIso as iso } from '../core/time.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { rawOverrides, withRoom } from './add-schedule-override.ts';
import { finalShifts, type Shift, swapOverrides } from './schedule.ts';
import type { AddSwap } from './schedule-requests.ts';
import { editDocument, requireScheduleEditor, toOverrideView, toScheduleView } from './schedule-store.ts';

/**
 * Swaps two shifts of the final schedule: each person takes the other's (two overrides,
 * swapOverrides). Each shift must be its person's on-call time as the schedule is when the swap
 * lands (a whole shift or a part of one), the two may not overlap, and the two people differ.
 * Owners and admins swap anyone's; a member only a swap they are in. Written through the
 * compare-and-set path, so a swap and a concurrent override both land.
 */
export async function swapScheduleShifts(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string, input: AddSwap) {
  const [a, b] = input.shifts.map((s): Shift => ({ start: s.start, end: s.end, user: s.userId })) as [Shift, Shift];
  const overrides = swapOverrides(a, b);
  const row = await withClaims(deps.db, actor, (tx) =>
    editDocument(
      tx,
      actor,
      id,
      async (row, current) => {
        await requireScheduleEditor(tx, actor, row.organization_id, [a.user, b.user]);
        if (a.user === b.user) throw invalid('body.shifts.1.userId', 'must be another person than shifts.0.userId (a swap is between two people)');
        if (a.start < b.end && b.start < a.end) throw invalid('body.shifts.1', 'overlaps shifts.0: a swap exchanges two separate shifts');
        [a, b].forEach((s, i) => {
          const found = finalShifts(current, s.start, s.end);
          if (!(found.length === 1 && found[0]!.user === s.user && found[0]!.start === s.start && found[0]!.end === s.end)) {
            throw invalid(`body.shifts.${i}`, `'${s.user}' is not on call for the whole of ${iso(s.start)} .. ${iso(s.end)} (see GET /schedules/:id/shifts)`);
          }
        });
        const kept = withRoom(rawOverrides(row.document), current, 2, deps.clock.now().getTime());
        return { ...row.document, overrides: [...kept, ...overrides.map((o) => ({ user: o.user, start: iso(o.start), end: iso(o.end) }))] };
      },
      (path) => (path.startsWith('overrides') ? 'body.shifts' : `schedule.${path}`),
    ),
  );
  return { overrides: overrides.map(toOverrideView), schedule: toScheduleView(row) };
}
