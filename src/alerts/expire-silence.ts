import type { Deps } from '../core/deps.ts';
import { AppError, forbidden, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { SILENCE_COLUMNS, type SilenceRow, silenceState, toSilenceView } from './list-silences.ts';

const alreadyExpired = () => new AppError('CONFLICT', 'This silence has already expired');

/**
 * Ends a silence now (Alertmanager's expire; the row stays, with who and why, as history). One that
 * has not begun also moves its start back to just before its new end: the table keeps
 * ends_at > starts_at, and a window wholly in the past silences nothing (the guard trigger lets a
 * start move back, never forward, and never past the database's now: hence `now()` in least()).
 * Expiring an expired silence is a 409: nothing changes, and the caller learns it was already over.
 */
export async function expireSilence(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string) {
  const now = deps.clock.now();
  const row = await withClaims(deps.db, actor, async (tx) => {
    const [found] = await tx.query<SilenceRow & { may_write: boolean }>(
      `select ${SILENCE_COLUMNS}, project_id in (select private.writable_project_ids()) as may_write from public.alert_silences where id = $1`,
      [id],
    );
    if (!found) throw notFound('Silence');
    if (!found.may_write) throw forbidden('Your role cannot expire silences of this project');
    if (silenceState(found, now) === 'expired') throw alreadyExpired();
    const [updated] = await tx.query<SilenceRow>(
      `update public.alert_silences
       set ends_at = $2, starts_at = least(starts_at, $2::timestamptz - interval '1 millisecond', now())
       where id = $1 and ends_at > $2 returning ${SILENCE_COLUMNS}`,
      [id, now],
    );
    // Visible, writable, and not expired a moment ago: someone else expired it in between.
    if (!updated) throw alreadyExpired();
    return updated;
  });
  return toSilenceView(row, now);
}
