import { toIso as iso } from '../core/time.ts';
import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveOptionalProject } from '../orgs/lookup.ts';
import { formatMatcher, type Matcher } from './matchers.ts';
import type { SilencesQuery } from './schemas.ts';

export const SILENCE_COLUMNS = 'id, project_id, matchers, starts_at, ends_at, comment, created_by, created_at, updated_at';

export interface SilenceRow {
  id: string;
  project_id: string;
  /** [{name, op, value}] as src/alerts/matchers.ts parses them. */
  matchers: Matcher[];
  starts_at: Date;
  ends_at: Date;
  comment: string;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export type SilenceState = 'pending' | 'active' | 'expired';

/** Alertmanager's states: active on [startsAt, endsAt), as the dispatcher applies it (src/alerts/silences.ts). */
export function silenceState(r: Pick<SilenceRow, 'starts_at' | 'ends_at'>, now: Date): SilenceState {
  if (new Date(r.ends_at).getTime() <= now.getTime()) return 'expired';
  return new Date(r.starts_at).getTime() > now.getTime() ? 'pending' : 'active';
}


/** Matchers go out as Alertmanager matcher strings (`env=~"prod|staging"`), the form they came in. */
export const toSilenceView = (r: SilenceRow, now: Date) => ({
  id: r.id,
  projectId: r.project_id,
  matchers: r.matchers.map(formatMatcher),
  startsAt: iso(r.starts_at),
  endsAt: iso(r.ends_at),
  comment: r.comment,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  state: silenceState(r, now),
});

/** Silences of the projects the caller may read (RLS), or of one project, newest first; by state at the server's time. */
export async function listSilences(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, keyProjectId: string | undefined, query: SilencesQuery) {
  const now = deps.clock.now();
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveOptionalProject(tx, query.projectId, keyProjectId);
    return tx.query<SilenceRow>(
      `select ${SILENCE_COLUMNS} from public.alert_silences
       where ($1::uuid is null or project_id = $1)
         and case $2::text
               when 'expired' then ends_at <= $3
               when 'active' then starts_at <= $3 and ends_at > $3
               when 'pending' then starts_at > $3
               else true end
       order by created_at desc, id desc limit $4`,
      [projectId, query.state ?? null, now, query.limit],
    );
  });
  return rows.map((r) => toSilenceView(r, now));
}

/** One silence the caller may read, or 404 (another tenant's id looks like an unknown one). */
export async function getSilence(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string) {
  const [row] = await withClaims(deps.db, actor, (tx) => tx.query<SilenceRow>(`select ${SILENCE_COLUMNS} from public.alert_silences where id = $1`, [id]));
  if (!row) throw notFound('Silence');
  return toSilenceView(row, deps.clock.now());
}
