import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { FEED_COLUMNS, type FeedRow, toFeedView } from './feed-tokens.ts';

const LISTED = 500;

/**
 * The caller's feeds across their organizations (never a token or its hash), newest first; with an
 * organization, every feed of it the caller may see (owners and admins: everyone's, to revoke them).
 */
export async function listFeedTokens(deps: Pick<Deps, 'db'>, actor: Claims, organizationId: string | undefined) {
  return withClaims(deps.db, actor, async (tx) => {
    if (organizationId !== undefined) {
      const [org] = await tx.query('select 1 from public.organizations where id = $1', [organizationId]);
      if (!org) throw notFound('Organization');
    }
    const rows = await tx.query<FeedRow>(
      `select ${FEED_COLUMNS} from public.oncall_feed_tokens
       where ${organizationId !== undefined ? 'organization_id = $1' : 'created_by = (select auth.uid())'}
       order by created_at desc, id limit ${LISTED}`,
      organizationId !== undefined ? [organizationId] : [],
    );
    return rows.map(toFeedView);
  });
}
