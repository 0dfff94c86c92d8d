import type { Deps } from '../core/deps.ts';
import { AppError, notFound } from '../core/errors.ts';
import { toIso as iso } from '../core/time.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { invalid } from '../http/validate.ts';
import { applyEvent } from './incidents.ts';
import type { CreateMaintenance } from './schemas.ts';
import { findService, INCIDENT_COLUMNS, type IncidentRow, requireOrgManager, toCore, withoutPaging, writeStep } from './views.ts';

/**
 * Maintenance windows (migration 20261206001600): the API that writes them, and the job's step that
 * holds and releases incidents as they start and end (the incident core's 'maintenance' event).
 */
const DAY = 86_400_000;
export const MAINTENANCE_LIMITS = { maxDays: 90, listed: 100 } as const;

interface WindowRow {
  id: string;
  service_id: string;
  starts_at: Date;
  ends_at: Date;
  reason: string | null;
  created_by: string | null;
  created_at: Date;
}
const COLUMNS = 'id, service_id, starts_at, ends_at, reason, created_by, created_at';
const toView = (r: WindowRow) => ({
  id: r.id,
  serviceId: r.service_id,
  startsAt: iso(r.starts_at),
  endsAt: iso(r.ends_at),
  reason: r.reason,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
});

/** Whether a window of the service is on at `now` (new and reopened incidents open held then). */
export async function inMaintenance(tx: Queryable, serviceId: string, now: number): Promise<boolean> {
  const [row] = await tx.query<{ on: boolean }>(
    `select exists (select 1 from public.maintenance_windows where service_id = $1 and starts_at <= to_timestamp($2::float8 / 1000.0)
       and ends_at > to_timestamp($2::float8 / 1000.0)) as on`,
    [serviceId, now],
  );
  return row!.on;
}

export async function createMaintenance(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, serviceId: string, input: CreateMaintenance) {
  const now = deps.clock.now().getTime();
  const startsAt = input.startsAt === undefined ? now : Date.parse(input.startsAt);
  const endsAt = Date.parse(input.endsAt);
  if (endsAt <= Math.max(startsAt, now)) throw invalid('body.endsAt', 'must be after startsAt and in the future');
  if (endsAt - startsAt > MAINTENANCE_LIMITS.maxDays * DAY) throw invalid('body.endsAt', `a window lasts at most ${MAINTENANCE_LIMITS.maxDays} days`);
  const row = await withClaims(deps.db, actor, async (tx) => {
    const service = await findService(tx, serviceId);
    await requireOrgManager(tx, service.organization_id);
    const [inserted] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<WindowRow>(
        `insert into public.maintenance_windows (organization_id, project_id, service_id, starts_at, ends_at, reason, created_by)
         values ($1, $2, $3, to_timestamp($4::float8 / 1000.0), to_timestamp($5::float8 / 1000.0), $6, $7) returning ${COLUMNS}`,
        [service.organization_id, service.project_id, service.id, startsAt, endsAt, input.reason ?? null, actor.sub ?? null],
      ),
    );
    return inserted!;
  });
  return toView(row);
}

/** A service's windows, latest first (readers of its project). */
export async function listMaintenance(deps: Pick<Deps, 'db'>, actor: Claims, serviceId: string) {
  return withClaims(deps.db, actor, async (tx) => {
    await findService(tx, serviceId);
    const rows = await tx.query<WindowRow>(`select ${COLUMNS} from public.maintenance_windows where service_id = $1 order by starts_at desc limit $2`, [
      serviceId,
      MAINTENANCE_LIMITS.listed,
    ]);
    return rows.map(toView);
  });
}

/** Ends a window now (one that has begun) or removes it (one still to come); 409 for one already over. */
export async function endMaintenance(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string) {
  const now = deps.clock.now().getTime();
  return withClaims(deps.db, actor, async (tx) => {
    const [found] = await tx.query<WindowRow & { organization_id: string }>(`select ${COLUMNS}, organization_id from public.maintenance_windows where id = $1`, [id]);
    if (!found) throw notFound('Maintenance window');
    await requireOrgManager(tx, found.organization_id);
    if (new Date(found.ends_at).getTime() <= now) throw new AppError('CONFLICT', 'This maintenance window is already over');
    return asServiceRoleWithin(tx, actor, async () => {
      if (new Date(found.starts_at).getTime() > now) {
        await tx.query('delete from public.maintenance_windows where id = $1', [id]);
        return { maintenanceWindow: null, removed: true };
      }
      const [ended] = await tx.query<WindowRow>(`update public.maintenance_windows set ends_at = to_timestamp($2::float8 / 1000.0) where id = $1 returning ${COLUMNS}`, [id, now]);
      return { maintenanceWindow: toView(ended!), removed: false };
    });
  });
}

/**
 * The job's step: holds the open incidents of services a window of which is on, and releases the
 * held ones whose service has none on any more (each under its key's lock, through the core, with
 * the version guard). Returns how many changed.
 */
export async function applyMaintenance(tx: Queryable, now: number, limit = 1000): Promise<number> {
  const rows = await tx.query<IncidentRow & { on: boolean }>(
    `select ${INCIDENT_COLUMNS.split(',').map((c) => `i.${c.trim()}`).join(', ')}, w.on from public.incidents i
     cross join lateral (select exists (select 1 from public.maintenance_windows m where m.service_id = i.service_id
       and m.starts_at <= to_timestamp($1::float8 / 1000.0) and m.ends_at > to_timestamp($1::float8 / 1000.0)) as on) w
     where i.state <> 'resolved' and i.held <> w.on
     limit $2 for update of i skip locked`,
    [now, limit],
  );
  let changed = 0;
  // No key lock (the API takes it, then the row: taking them the other way round here could
  // deadlock); the version guard decides, as for the escalation steps.
  for (const { on, ...row } of rows) {
    const step = applyEvent(toCore(row), { type: 'maintenance', on }, now);
    if (step.timeline.length === 0) continue;
    if (await writeStep(tx, row, row.policy === null ? withoutPaging(step) : step)) changed += 1;
  }
  return changed;
}
