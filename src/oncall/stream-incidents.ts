import { z } from 'zod';
import { StreamTokenParam } from '../auth/stream-token.ts';
import { readIfCredentialHolds, STREAM_READ, type CredentialEndReason, type StreamCredential } from '../auth/stream-credential.ts';
import type { Deps } from '../core/deps.ts';
import { toIso as iso } from '../core/time.ts';
import { createIdFollower } from '../db/id-follower.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';

/** A timeline row id: incident_timeline.id, a positive 64-bit integer in decimal. */
export const TimelineId = z
  .string()
  .regex(/^\d{1,19}$/, 'must be an incident timeline id')
  .refine((s) => !/^\d{1,19}$/.test(s) || BigInt(s) <= 9223372036854775807n, 'must be an incident timeline id');

export const IncidentStreamQuery = z.object({
  projectId: z.uuid().optional(),
  serviceId: z.uuid().optional(),
  incidentId: z.uuid().optional(),
  lastId: TimelineId.optional(),
  ...StreamTokenParam,
});
export type IncidentStreamQuery = z.output<typeof IncidentStreamQuery>;

/** Timeline rows sent per poll at most; more wait for the next polls (none is dropped). */
export const INCIDENT_STREAM_BATCH = 500;

interface Row {
  id: string;
  incident_id: string;
  at: Date;
  kind: string;
  actor: string | null;
  details: Record<string, unknown>;
  state: string;
  title: string;
  urgency: string;
  service_id: string;
  version: number;
}

const toView = (r: Row) => ({
  id: String(r.id),
  incidentId: r.incident_id,
  at: iso(r.at),
  kind: r.kind,
  actor: r.actor,
  details: r.details,
  incident: { state: r.state, title: r.title, urgency: r.urgency, serviceId: r.service_id, version: r.version },
});
export type IncidentChange = ReturnType<typeof toView>;

export interface IncidentStream {
  readonly projectId: string;
  readonly lastId: string;
  poll(): Promise<{ changes: IncidentChange[]; end?: CredentialEndReason }>;
}

/**
 * The incidents stream (issue 20 item 7): every new timeline row of a project's incidents (opened,
 * escalated, acknowledged, resolved, notes, ...) with the incident's state as it is now, polled by
 * id under the caller's claims (RLS: readers of the project), exactly as the alert stream follows
 * transitions (src/alerts/stream-alerts.ts): ids committed out of order are still sent, none twice,
 * none dropped; without a last id it starts after the project's newest row.
 */
export async function openIncidentStream(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Claims,
  keyProjectId: string | undefined,
  credential: StreamCredential,
  opts: Omit<IncidentStreamQuery, 'lastId'> & { lastId?: string; settleMs?: number; batch?: number },
): Promise<IncidentStream> {
  const batch = opts.batch ?? INCIDENT_STREAM_BATCH;
  const { projectId, start } = await withClaims(
    deps.db,
    actor,
    async (tx) => {
      const projectId = await resolveProject(tx, opts.projectId, keyProjectId);
      if (opts.lastId) return { projectId, start: BigInt(opts.lastId) };
      const [row] = await tx.query<{ id: string | null }>('select max(id)::text as id from public.incident_timeline where project_id = $1', [projectId]);
      return { projectId, start: BigInt(row?.id ?? '0') };
    },
    STREAM_READ,
  );
  const follower = createIdFollower(start, opts.settleMs ?? 60_000);
  return {
    projectId,
    get lastId() {
      return follower.head.toString();
    },
    async poll() {
      const at = deps.clock.now();
      const read = await readIfCredentialHolds(deps.db, actor, credential, projectId, at, (tx) => {
        const params: unknown[] = [projectId, opts.serviceId ?? null, opts.incidentId ?? null];
        const unseen = follower.unseen('t.id', params);
        params.push(batch);
        return tx.query<Row>(
          `select t.id, t.incident_id, t.at, t.kind, t.actor, t.details, i.state, i.title, i.urgency, i.service_id, i.version
           from public.incident_timeline t join public.incidents i on i.id = t.incident_id
           where t.project_id = $1 and ($2::uuid is null or i.service_id = $2) and ($3::uuid is null or t.incident_id = $3) and ${unseen}
           order by t.id limit $${params.length}`,
          params,
        );
      });
      if (!read.ok) return { changes: [], end: read.end };
      follower.advance(at.getTime(), read.value.map((r) => BigInt(r.id)));
      return { changes: read.value.map(toView) };
    },
  };
}
