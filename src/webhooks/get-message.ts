import type { Deps } from '../core/deps.ts';
import { toIso as iso } from '../core/time.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMessage, toMessageView } from './message-views.ts';

interface AttemptRow {
  attempt: number;
  started_at: Date;
  duration_ms: number;
  ok: boolean;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

/** One message with what was sent (its event's payload) and every attempt, oldest first (each with the receiver's answer, truncated). */
export async function getMessage(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  return withClaims(deps.db, actor, async (tx) => {
    const row = await findMessage(tx, id);
    const [event] = await tx.query<{ payload: unknown }>('select payload from public.webhook_events where id = $1', [row.event_id]);
    const attempts = await tx.query<AttemptRow>(
      `select attempt, started_at, duration_ms, ok, status_code, error, response_body from public.webhook_attempts
       where message_id = $1 order by attempt, id`,
      [id],
    );
    return {
      ...toMessageView(row),
      payload: event?.payload ?? null,
      attemptLog: attempts.map((a) => ({
        attempt: a.attempt,
        startedAt: iso(a.started_at),
        durationMs: a.duration_ms,
        ok: a.ok,
        statusCode: a.status_code,
        error: a.error,
        responseBody: a.response_body,
      })),
    };
  });
}
