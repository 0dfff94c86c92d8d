import type { Deps } from '../core/deps.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { type CreateSchedule, SCHEDULE_API_LIMITS } from './schedule-requests.ts';
import { requireMembers, requireScheduleManager, SCHEDULE_COLUMNS, type ScheduleRow, toScheduleView } from './schedule-store.ts';

/**
 * Adds an on-call schedule to an organization (its owners and admins; audited by trigger). The
 * document was validated by the schedule core in the route, and everyone it names must be a member
 * of the organization; users hold no grant to write a document (the escalation job trusts it), so
 * the insert is the service role's, once the caller's claims authorized it.
 */
export async function createSchedule(deps: Pick<Deps, 'db'>, actor: Claims, input: CreateSchedule) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    await requireScheduleManager(tx, input.organizationId);
    await requireMembers(tx, input.organizationId, input.schedule.parsed, null, (path) => `body.schedule.${path}`);
    await tx.query(`select pg_advisory_xact_lock(hashtext('observai.oncall_schedules:' || $1::text))`, [input.organizationId]);
    const [count] = await tx.query<{ n: number }>('select count(*)::int as n from public.oncall_schedules where organization_id = $1', [input.organizationId]);
    const limit = SCHEDULE_API_LIMITS.schedulesPerOrganization;
    if (count!.n >= limit) throw invalid('body', `the organization already has ${limit} on-call schedules (the limit)`);
    const [inserted] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<ScheduleRow>(
        `insert into public.oncall_schedules (organization_id, name, time_zone, document, created_by) values ($1, $2, $3, $4::text::jsonb, $5)
         returning ${SCHEDULE_COLUMNS}`,
        [input.organizationId, input.name, input.schedule.parsed.zone, JSON.stringify(input.schedule.input), actor.sub ?? null],
      ),
    );
    return inserted!;
  });
  return toScheduleView(row);
}
