import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { SILENCE_COLUMNS, type SilenceRow, toSilenceView } from './list-silences.ts';
import { matches } from './matchers.ts';
import { ALERT_LIMITS, type CreateSilence } from './schemas.ts';

/**
 * Silences alerts of a project whose labels match every matcher, from startsAt (default now) until
 * endsAt; members who may change the project, admin-scoped keys (RLS decides). As Alertmanager does:
 * a silence whose matchers all match the empty label set would silence every alert, and is refused;
 * one that would already be over is refused; a start in the past becomes now (a silence cannot act
 * retroactively). Who and why are the row's created_by and comment, and the audit log (trigger).
 */
export async function createSilence(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, keyProjectId: string | undefined, input: CreateSilence) {
  const now = deps.clock.now();
  if (input.matchers.every((m) => matches(m, {}))) {
    throw invalid('body.matchers', 'these matchers match every alert (each one matches an empty label); add one that needs a label, like alertname="HighCPU"');
  }
  if (input.endsAt <= now.getTime()) throw invalid('body.endsAt', 'must be in the future');
  const startsAt = new Date(Math.max(input.startsAt ?? now.getTime(), now.getTime()));
  const [row] = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, input.projectId, keyProjectId, 'body.projectId');
    // One creator at a time per project, so the limit holds under concurrent requests.
    await tx.query(`select pg_advisory_xact_lock(hashtext('observai.alert_silences:' || $1::text))`, [projectId]);
    const [open] = await tx.query<{ n: number }>('select count(*)::int as n from public.alert_silences where project_id = $1 and ends_at > $2', [projectId, now]);
    if (open!.n >= ALERT_LIMITS.silencesPerProject) {
      throw invalid('body', `the project already has ${ALERT_LIMITS.silencesPerProject} silences that have not ended (the limit); expire some first`);
    }
    return tx.query<SilenceRow>(
      `insert into public.alert_silences (project_id, organization_id, matchers, starts_at, ends_at, comment)
       select p.id, p.organization_id, $2::text::jsonb, $3, $4, $5 from public.projects p where p.id = $1
       returning ${SILENCE_COLUMNS}`,
      [projectId, JSON.stringify(input.matchers), startsAt, new Date(input.endsAt), input.comment],
    );
  });
  return toSilenceView(row!, now);
}
