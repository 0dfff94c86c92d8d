import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { sha256Hex } from '../core/ids.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { FEED_COLUMNS, type FeedRow, feedPath, newFeedToken, toFeedView } from './feed-tokens.ts';
import { SCHEDULE_API_LIMITS } from './schedule-requests.ts';
import { callerRole, findSchedule } from './schedule-store.ts';

export type FeedTarget = { scheduleId: string } | { organizationId: string };

/**
 * A calendar feed: a schedule's (any member of its organization may make one: it shows what they
 * can read), or the caller's own shifts across the organization's schedules (only their own). The
 * token is random, returned this once with the feed's path, and stored as its sha256 by the service
 * role (users hold no grant on the hash). A person holds at most SCHEDULE_API_LIMITS.feedsPerUser
 * unrevoked feeds in an organization.
 */
export async function createFeedToken(deps: Pick<Deps, 'db'>, actor: Claims, target: FeedTarget) {
  if (!actor.sub) throw forbidden('Feeds are made by signed-in users');
  const userId = actor.sub;
  const token = newFeedToken();
  const hash = await sha256Hex(token);
  const row = await withClaims(deps.db, actor, async (tx) => {
    let organizationId: string;
    let scheduleId: string | null = null;
    if ('scheduleId' in target) {
      const schedule = await findSchedule(tx, target.scheduleId);
      organizationId = schedule.organization_id;
      scheduleId = schedule.id;
    } else {
      organizationId = target.organizationId;
      if ((await callerRole(tx, organizationId)) === null) throw notFound('Organization');
    }
    await tx.query(`select pg_advisory_xact_lock(hashtext('observai.oncall_feed_tokens:' || $1::text || ':' || $2::text))`, [organizationId, userId]);
    const [count] = await tx.query<{ n: number }>(
      'select count(*)::int as n from public.oncall_feed_tokens where organization_id = $1 and created_by = $2 and revoked_at is null',
      [organizationId, userId],
    );
    const limit = SCHEDULE_API_LIMITS.feedsPerUser;
    if (count!.n >= limit) throw invalid('body', `you already have ${limit} feeds in this organization (the limit); revoke one first`);
    const [inserted] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<FeedRow>(
        `insert into public.oncall_feed_tokens (organization_id, schedule_id, user_id, token_hash, created_by) values ($1, $2, $3, $4, $5) returning ${FEED_COLUMNS}`,
        [organizationId, scheduleId, scheduleId === null ? userId : null, hash, userId],
      ),
    );
    return inserted!;
  });
  return { feed: toFeedView(row), token, path: feedPath(token) };
}
