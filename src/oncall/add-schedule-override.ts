import type { Deps } from '../core/deps.ts';
import { toIso as iso } from '../core/time.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { invalid } from '../http/validate.ts';
import { SCHEDULE_LIMITS, type Schedule } from './schedule-schemas.ts';
import type { Stretch } from './schedule-requests.ts';
import { editDocument, requireScheduleEditor, toOverrideView, toScheduleView } from './schedule-store.ts';

/**
 * Puts someone on call over [start, end), on top of every layer (owners and admins for anyone,
 * members for themselves). Appended to the document's overrides (the last one wins where overrides
 * overlap) through the compare-and-set write: overrides added at the same time all land. Once the
 * document holds the most overrides it may, the ones that ended longest ago make room.
 */
export async function addScheduleOverride(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string, input: Stretch) {
  const added = { user: input.userId, start: iso(input.start), end: iso(input.end) };
  let index = -1;
  const row = await withClaims(deps.db, actor, (tx) =>
    editDocument(
      tx,
      actor,
      id,
      async (row, current) => {
        await requireScheduleEditor(tx, actor, row.organization_id, [input.userId]);
        await requireOrgMember(tx, row.organization_id, input.userId, 'body.userId');
        const overrides = withRoom(rawOverrides(row.document), current, 1, deps.clock.now().getTime());
        index = overrides.length;
        return { ...row.document, overrides: [...overrides, added] };
      },
      (path) => overrideField(path, index),
    ),
  );
  const schedule = toScheduleView(row);
  return { override: toOverrideView({ user: input.userId, start: input.start, end: input.end }), schedule };
}

export const rawOverrides = (document: Record<string, unknown>): unknown[] => (Array.isArray(document.overrides) ? document.overrides : []);

/**
 * The stored overrides, with room for `n` more: at the limit, those that ended before `now` go,
 * the earliest ended first (only the past shifts they covered change). Too few ended: unchanged, and
 * the core's limit answers the 400.
 */
export function withRoom(raw: unknown[], current: Schedule, n: number, now: number): unknown[] {
  const excess = raw.length + n - SCHEDULE_LIMITS.overrides;
  if (excess <= 0) return raw;
  const ended = current.overrides
    .map((o, i) => ({ i, end: o.end }))
    .filter((o) => o.end <= now)
    .sort((a, b) => a.end - b.end)
    .slice(0, excess);
  if (ended.length < excess) return raw;
  const drop = new Set(ended.map((o) => o.i));
  return raw.filter((_, i) => !drop.has(i));
}

/** The request field a document path of the new override at `index` (or `index + k`) stands for. */
export function overrideField(path: string, index: number, prefix = 'body'): string {
  const m = /^overrides\.(\d+)(?:\.(\w+))?/.exec(path);
  if (m && Number(m[1]) >= index) {
    const field = m[2] === 'user' ? 'userId' : m[2];
    return field ? `${prefix}.${field}` : prefix;
  }
  return path === 'overrides' ? 'body' : `schedule.${path}`;
}

/** 400 naming `field` unless the user belongs to the organization. */
export async function requireOrgMember(tx: Queryable, organizationId: string, userId: string, field: string): Promise<void> {
  const [m] = await tx.query('select 1 from public.organization_members where organization_id = $1 and user_id = $2', [organizationId, userId]);
  if (!m) throw invalid(field, 'is not a member of the organization');
}
