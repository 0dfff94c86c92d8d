import { z } from 'zod';
import { StreamTokenParam } from '../auth/stream-token.ts';
import { readIfCredentialHolds, STREAM_READ, type CredentialEndReason, type StreamCredential } from '../auth/stream-credential.ts';
import type { Deps } from '../core/deps.ts';
import { createIdFollower } from '../db/id-follower.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { toTransitionView, TRANSITION_COLUMNS, type TransitionRow } from './list-history.ts';
import { HistoryQuery } from './schemas.ts';

/** A transition id: alert_transitions.id, a positive 64-bit integer in decimal. */
export const TransitionId = z
  .string()
  .regex(/^\d{1,19}$/, 'must be a transition id')
  .refine((s) => !/^\d{1,19}$/.test(s) || BigInt(s) <= 9223372036854775807n, 'must be a transition id');

/** GET /alerts/stream: the history's filters, and the transition to resume after (Last-Event-ID does the same). */
export const AlertStreamQuery = HistoryQuery.pick({ projectId: true, ruleId: true, fingerprint: true }).extend({ lastId: TransitionId.optional(), ...StreamTokenParam });
export type AlertStreamQuery = z.output<typeof AlertStreamQuery>;

/** Transitions sent per poll at most; more wait for the next polls (none is dropped). */
export const ALERT_STREAM_BATCH = 500;

export type TransitionView = ReturnType<typeof toTransitionView>;

export interface AlertStream {
  readonly projectId: string;
  /** The transition id a client resumes after. */
  readonly lastId: string;
  /** The transitions committed since the last poll, in id order; `end` as the log tail's. */
  poll(): Promise<{ transitions: TransitionView[]; end?: CredentialEndReason }>;
}

/**
 * The alert stream: a project's new alert transitions (instances changing state), polled by id under
 * the caller's claims (RLS: readers of the project).
 *
 * Transition ids come from an identity column, committed out of order by the jobs' transactions, so
 * the stream follows them as the live tail follows log ids (src/db/id-follower.ts): a transition
 * committed late with a smaller id is still sent, and none is sent twice. Unlike log lines, none is
 * dropped: at most `batch` go out per poll, in id order, and the rest follow in the next polls. Every
 * poll re-checks the credential first (src/auth/stream-credential.ts).
 *
 * Without a last id the stream starts after the project's newest transition; resuming after one sends
 * only those after it.
 */
export async function openAlertStream(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Claims,
  keyProjectId: string | undefined,
  credential: StreamCredential,
  opts: Omit<AlertStreamQuery, 'lastId'> & { lastId?: string; settleMs?: number; batch?: number },
): Promise<AlertStream> {
  const batch = opts.batch ?? ALERT_STREAM_BATCH;
  const { projectId, start } = await withClaims(
    deps.db,
    actor,
    async (tx) => {
      const projectId = await resolveProject(tx, opts.projectId, keyProjectId);
      if (opts.lastId) return { projectId, start: BigInt(opts.lastId) };
      // The highest id among the project's 1,000 newest transitions by time: a range of the index on
      // (project_id, at desc, id desc), as the live tail starts (a transition stored late with an older
      // time and a higher id may be sent as new).
      const [row] = await tx.query<{ id: string | null }>(
        `select max(x.id)::text as id from (select id from public.alert_transitions where project_id = $1 order by at desc, id desc limit 1000) x`,
        [projectId],
      );
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
        const params: unknown[] = [projectId, opts.ruleId ?? null, opts.fingerprint ?? null];
        const unseen = follower.unseen('id', params);
        params.push(batch);
        // The primary key's range above `low` (a minute behind the head, all tenants' transitions),
        // filtered by project: small, since `low` follows the head.
        return tx.query<TransitionRow>(
          `select ${TRANSITION_COLUMNS} from public.alert_transitions
           where project_id = $1 and ($2::uuid is null or rule_id = $2) and ($3::text is null or fingerprint = $3) and ${unseen}
           order by id limit $${params.length}`,
          params,
        );
      });
      if (!read.ok) return { transitions: [], end: read.end };
      follower.advance(at.getTime(), read.value.map((r) => BigInt(r.id)));
      return { transitions: read.value.map(toTransitionView) };
    },
  };
}
