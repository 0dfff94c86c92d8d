import { createHash } from 'node:crypto';
import { AppError, forbidden, notFound } from '../core/errors.ts';
import { toIso as iso } from '../core/time.ts';
import { asServiceRoleWithin, type Claims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { invalid } from '../http/validate.ts';
import { onCallAt } from './schedule.ts';
import { type Override, Schedule } from './schedule-schemas.ts';
import { checkDocument, type ValidDocument } from './schedule-requests.ts';

/**
 * On-call schedules as stored (supabase/migrations/20261206001400_oncall_schedules.sql): the row's
 * `document` is the schedule as the API accepted it (schedule-schemas.ts' input: zone, layers,
 * overrides; the schedule's id and name are the row's own columns), written only by the API as the
 * service role after Schedule validated it. Reading parses it again into the core's numbers.
 *
 * Invariants:
 * - a stored document always parses (the API wrote it after parsing it); should one not (a zone the
 *   runtime's tz data no longer knows), onCallUsers maps it to [] (nobody on call) rather than
 *   failing the caller, and the API answers 409 to evaluate it until it is replaced;
 * - parsed documents are cached by (id, version, updated_at, name): every document write bumps
 *   version, a rename changes the name, so a cached parse is never stale;
 * - every document write goes through writeDocument's compare-and-set on `version` (editDocument
 *   retries a lost race over the winner's result), so concurrent edits never lose one another.
 */

export interface StoredSchedule {
  id: string;
  name: string;
  document: unknown;
  /** +1 on every document write. */
  version: number;
  updated_at: Date | string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CACHE_MAX = 1000;
const cache = new Map<string, { key: string; schedule: Schedule | null }>();

/** The schedule the core evaluates, from a stored row (null if its document no longer parses). */
export function parseStored(row: StoredSchedule): Schedule | null {
  // The version, not only updated_at: two writes may share a millisecond (now() is each transaction's start).
  const key = `${row.version}:${new Date(row.updated_at).getTime()}:${row.name}`;
  const hit = cache.get(row.id);
  if (hit && hit.key === key) return hit.schedule;
  const doc = row.document !== null && typeof row.document === 'object' ? (row.document as Record<string, unknown>) : {};
  const parsed = Schedule.safeParse({ ...doc, id: row.id, name: row.name });
  const schedule = parsed.success ? parsed.data : null;
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(row.id, { key, schedule });
  return schedule;
}

/**
 * For each schedule id that exists, the users on call at `at` (epoch ms), by the schedule core
 * (onCallAt: at most one). An unknown id is absent; a schedule with nobody on call maps to [].
 * One query for every id; the caller's transaction decides what it may read (the escalation job
 * runs as the service role).
 */
export async function onCallUsers(tx: Queryable, scheduleIds: readonly string[], at: number): Promise<Record<string, string[]>> {
  const ids = [...new Set(scheduleIds)].filter((id) => UUID.test(id));
  const out: Record<string, string[]> = {};
  if (ids.length === 0) return out;
  const rows = await tx.query<StoredSchedule>('select id, name, document, version, updated_at from public.oncall_schedules where id = any($1::uuid[])', [ids]);
  const users = new Map<string, string[]>();
  for (const row of rows) {
    const schedule = parseStored(row);
    const now = schedule ? onCallAt(schedule, at) : null;
    users.set(row.id.toLowerCase(), now ? [now.user] : []);
  }
  // Keyed as the caller spelled the id (a uuid in capitals is the same schedule).
  for (const id of ids) {
    const found = users.get(id.toLowerCase());
    if (found) out[id] = found;
  }
  return out;
}

// ------------------------------------------------------------------------------------ rows and views
export const SCHEDULE_COLUMNS = 'id, organization_id, name, time_zone, document, version, created_by, created_at, updated_at';

export interface ScheduleRow extends StoredSchedule {
  organization_id: string;
  time_zone: string;
  document: Record<string, unknown>;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * An override's id: a digest of who and when (overrides have no id in the document), so it stays
 * the same while other overrides come and go, unlike an index. Two identical overrides share it; a
 * delete removes the later one (the one that wins), leaving the other in force.
 */
export const overrideId = (o: Override) => createHash('sha256').update(`${o.user}\n${o.start}\n${o.end}`).digest('hex').slice(0, 16);

export const toOverrideView = (o: Override) => ({ id: overrideId(o), userId: o.user, start: iso(o.start), end: iso(o.end) });

export function toScheduleView(r: ScheduleRow) {
  const parsed = parseStored(r);
  return {
    id: r.id,
    organizationId: r.organization_id,
    name: r.name,
    timeZone: r.time_zone,
    /** The document as stored: what a PUT takes back. */
    schedule: r.document,
    /** The document's overrides in its order, with their ids (DELETE /schedules/:id/overrides/:overrideId). */
    overrides: parsed ? parsed.overrides.map(toOverrideView) : [],
    version: r.version,
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}
export type ScheduleView = ReturnType<typeof toScheduleView>;

/** A schedule of an organization the caller belongs to (RLS), or 404. */
export async function findSchedule(tx: Queryable, id: string): Promise<ScheduleRow> {
  const [row] = await tx.query<ScheduleRow>(`select ${SCHEDULE_COLUMNS} from public.oncall_schedules where id = $1`, [id]);
  if (!row) throw notFound('Schedule');
  return row;
}

/** The stored schedule as the core's, or a 409 if its document no longer parses (see the invariants). */
export function coreSchedule(row: ScheduleRow): Schedule {
  const parsed = parseStored(row);
  if (!parsed) throw new AppError('CONFLICT', 'The stored schedule no longer validates (its time zone may be unknown to this runtime); replace it with PUT');
  return parsed;
}

// ------------------------------------------------------------------------------------ who may
export type OrgRole = 'owner' | 'admin' | 'member' | 'viewer';

/** The caller's role in the organization, or null (not a member, or not a person). */
export async function callerRole(tx: Queryable, organizationId: string): Promise<OrgRole | null> {
  const [m] = await tx.query<{ role: OrgRole }>(
    'select role from public.organization_members where organization_id = $1 and user_id = (select auth.uid())',
    [organizationId],
  );
  return m?.role ?? null;
}

export const SCHEDULE_MANAGERS_ONLY = 'Only owners and admins can manage on-call schedules';

/** 404 unless the caller belongs to the organization; 403 unless they own or administer it. */
export async function requireScheduleManager(tx: Queryable, organizationId: string): Promise<void> {
  const role = await callerRole(tx, organizationId);
  if (role === null) throw notFound('Organization');
  if (role !== 'owner' && role !== 'admin') throw forbidden(SCHEDULE_MANAGERS_ONLY);
}

/**
 * Who may change whose time in a schedule (overrides, swaps): owners and admins anyone's, members
 * their own; viewers nobody's. `users` are the people whose time the change gives or takes.
 */
export async function requireScheduleEditor(tx: Queryable, actor: Claims, organizationId: string, users: readonly string[]): Promise<void> {
  const role = await callerRole(tx, organizationId);
  if (role === 'owner' || role === 'admin') return;
  if (role === 'member') {
    if (actor.sub && users.includes(actor.sub)) return;
    throw forbidden('Members may change only their own on-call time (overrides and swaps that include them)');
  }
  throw forbidden('Viewers cannot change on-call schedules');
}

/**
 * Every person a document names must be a member of the organization when first named: people named
 * by the stored document before (`before`) may stay (history, or someone who left since: the
 * escalation job then pages them nobody can reach, which their owners see in the schedule). The 400
 * names the field of the first newcomer who is not a member.
 */
export async function requireMembers(
  tx: Queryable,
  organizationId: string,
  doc: Schedule,
  before: Schedule | null,
  fieldOf: (path: string) => string,
): Promise<void> {
  const known = new Set<string>(before ? namedUsers(before).map((u) => u.user) : []);
  const named = namedUsers(doc).filter((u) => !known.has(u.user));
  if (named.length === 0) return;
  const ids = [...new Set(named.map((u) => u.user))].filter((u) => UUID.test(u));
  const found = ids.length === 0 ? [] : await tx.query<{ user_id: string }>(
    'select user_id from public.organization_members where organization_id = $1 and user_id = any($2::uuid[])',
    [organizationId, ids],
  );
  const members = new Set(found.map((r) => r.user_id.toLowerCase()));
  const stranger = named.find((u) => !members.has(u.user.toLowerCase()));
  if (stranger) throw invalid(fieldOf(stranger.path), `'${stranger.user}' is not a member of the organization (members are user ids)`);
}

function namedUsers(s: Schedule): Array<{ user: string; path: string }> {
  const out: Array<{ user: string; path: string }> = [];
  s.layers.forEach((l, li) => l.versions.forEach((v, vi) => v.members.forEach((m, mi) => out.push({ user: m, path: `layers.${li}.versions.${vi}.members.${mi}` }))));
  s.overrides.forEach((o, oi) => out.push({ user: o.user, path: `overrides.${oi}.user` }));
  return out;
}

// ------------------------------------------------------------------------------------ writes
/**
 * Writes a validated document over the stored one if its version is still `basedOn`: the service
 * role's write (users hold no grant on the document), after the caller's claims authorized it.
 * Returns the new row, or null when someone else wrote first (nothing written).
 */
export async function writeDocument(tx: Queryable, actor: Claims, id: string, basedOn: number, doc: ValidDocument, name?: string): Promise<ScheduleRow | null> {
  const [row] = await asServiceRoleWithin(tx, actor, () =>
    tx.query<ScheduleRow>(
      `update public.oncall_schedules set document = $3::text::jsonb, time_zone = $4, name = coalesce($5, name), version = version + 1
       where id = $1 and version = $2 returning ${SCHEDULE_COLUMNS}`,
      [id, basedOn, JSON.stringify(doc.input), doc.parsed.zone, name ?? null],
    ),
  );
  return row ?? null;
}

const EDIT_ATTEMPTS = 5;

/**
 * Read, change, compare-and-set, again on a lost race: `edit` gets the schedule as it is now (read
 * under the caller's claims: 404 when they cannot see it) and returns the document to write, or
 * throws (403, 400). Each attempt reads what committed last (read committed), so two concurrent
 * edits both land, the later one applied to the earlier's result.
 */
export async function editDocument(
  tx: Queryable,
  actor: Claims,
  id: string,
  edit: (row: ScheduleRow, current: Schedule) => Promise<Record<string, unknown>>,
  /** The request field a path of the document's stands for (a 400 names it). */
  fieldOf: (path: string) => string,
): Promise<ScheduleRow> {
  for (let attempt = 0; attempt < EDIT_ATTEMPTS; attempt++) {
    const row = await findSchedule(tx, id);
    const current = coreSchedule(row);
    const next = await edit(row, current);
    const checked = checkDocument(next);
    if (!checked.ok) {
      const first = checked.issues[0]!;
      throw invalid(fieldOf(first.path.map(String).join('.')), first.message);
    }
    await requireMembers(tx, row.organization_id, checked.value.parsed, current, fieldOf);
    const written = await writeDocument(tx, actor, id, row.version, checked.value);
    if (written) return written;
  }
  throw new AppError('CONFLICT', 'The schedule kept changing meanwhile; try again', { retryable: true });
}
