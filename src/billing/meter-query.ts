import type { Context } from 'hono';
import type { Deps } from '../core/deps.ts';
import { asServiceRole } from '../db/scoped.ts';
import type { AppEnv } from '../http/context.ts';

/** What a metered read reads; usage_daily counts them all as the signal 'queries'. */
export type QueryKind = 'metrics' | 'logs' | 'traces' | 'anomalies';

/**
 * Records one read of telemetry (a query_usage row) once it has been answered: the project read, the
 * API key or the user who read, and the rows or points returned. Written as the service role (users
 * hold no grant on query_usage, so they cannot forge or erase queries), in one statement that takes
 * the organization from the project. A read that names no single project (a user's listing across
 * every project they see) is not recorded: it belongs to no one organization. A failure here fails
 * the request (500): an answer is given only once its query is recorded.
 */
export async function meterQuery(deps: Pick<Deps, 'db' | 'clock'>, c: Context<AppEnv>, kind: QueryKind, projectId: string | null | undefined, rows: number): Promise<void> {
  if (!projectId) return;
  const identity = c.get('identity');
  const apiKeyId = identity.kind === 'apiKey' ? identity.keyId : null;
  const userId = identity.kind === 'user' ? identity.userId : null;
  await asServiceRole(deps.db, (tx) =>
    tx.query(
      `insert into public.query_usage (organization_id, project_id, api_key_id, user_id, at, kind, rows)
       select p.organization_id, p.id, $2, $3, $4, $5, $6 from public.projects p where p.id = $1`,
      [projectId, apiKeyId, userId, deps.clock.now(), kind, rows],
    ),
  );
}
