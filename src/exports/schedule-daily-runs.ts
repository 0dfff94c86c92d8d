import type { Deps } from '../core/deps.ts';
import { asServiceRole } from '../db/scoped.ts';

const DAY_MS = 86_400_000;
/** A day is exported this long after it ends, so events that arrive a little late are in its run. */
export const SCHEDULE_SETTLE_MS = 30 * 60_000;
/** A schedule that fell behind (disabled, or the job did not run) catches up at most this many days. */
export const MAX_CATCH_UP_DAYS = 31;
const SCHEDULES_PER_RUN = 200;

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The newest UTC day whose end is at least SCHEDULE_SETTLE_MS before now. */
export function lastCompleteDay(now: Date): string {
  return isoDay(Math.floor((now.getTime() - SCHEDULE_SETTLE_MS) / DAY_MS) * DAY_MS - DAY_MS);
}

/**
 * Creates the daily runs enabled schedules owe: one per completed UTC day after the schedule's
 * watermark (last_scheduled_day, or the day before start_day). Each schedule is handled in one
 * transaction holding its row lock, inserting with on conflict do nothing on (schedule_id, from_time)
 * and moving the watermark: running this twice, or concurrently, creates each day's run once.
 */
export async function scheduleDailyRuns(deps: Pick<Deps, 'db'>, now: Date): Promise<{ schedules: number; runs: number }> {
  const last = lastCompleteDay(now);
  const oldest = isoDay(Date.parse(`${last}T00:00:00Z`) - (MAX_CATCH_UP_DAYS - 1) * DAY_MS);
  const due = await asServiceRole(deps.db, (tx) =>
    tx.query<{ id: string }>(
      `select id from public.export_schedules
       where enabled and coalesce(last_scheduled_day, start_day - 1) < $1::date
       order by id limit ${SCHEDULES_PER_RUN}`,
      [last],
    ),
  );
  let runs = 0;
  for (const { id } of due) {
    runs += await asServiceRole(deps.db, async (tx) => {
      const [s] = await tx.query<{ id: string }>(
        `select id from public.export_schedules
         where id = $1 and enabled and coalesce(last_scheduled_day, start_day - 1) < $2::date for update`,
        [id, last],
      );
      if (!s) return 0;
      const inserted = await tx.query(
        `insert into public.export_runs (project_id, organization_id, destination_id, schedule_id, signal, from_time, to_time, filter, rows_per_file)
         select s.project_id, s.organization_id, s.destination_id, s.id, s.signal,
                d::date::timestamp at time zone 'UTC', (d::date + 1)::timestamp at time zone 'UTC', s.filter, s.rows_per_file
         from public.export_schedules s,
              generate_series(greatest(coalesce(s.last_scheduled_day + 1, s.start_day), $3::date)::timestamp, $2::date::timestamp, interval '1 day') d
         where s.id = $1
         on conflict (schedule_id, from_time) do nothing
         returning id`,
        [id, last, oldest],
      );
      await tx.query('update public.export_schedules set last_scheduled_day = $2::date where id = $1', [id, last]);
      return inserted.length;
    });
  }
  return { schedules: due.length, runs };
}
