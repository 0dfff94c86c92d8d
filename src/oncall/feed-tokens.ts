/**
 * What the feed verbs share: the token (a 32-byte random secret in the feed's URL, stored as its
 * sha256 only) and the rows users may read (never the hash).
 */
import { notFound } from '../core/errors.ts';
import { toIso as iso } from '../core/time.ts';
import type { Queryable } from '../db/types.ts';

export const FEED_TOKEN_PREFIX = 'oai_cal_';
/** The prefix, then 32 random bytes in base64url (43 characters). */
export const FEED_TOKEN_PATTERN = /^oai_cal_[A-Za-z0-9_-]{43}$/;

export function newFeedToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes));
  return FEED_TOKEN_PREFIX + b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The feed's path under the oncall function. */
export const feedPath = (token: string) => `/feeds/${token}/calendar.ics`;

export const FEED_COLUMNS = 'id, organization_id, schedule_id, user_id, created_by, created_at, revoked_at, last_used_at';

export interface FeedRow {
  id: string;
  organization_id: string;
  schedule_id: string | null;
  user_id: string | null;
  created_by: string | null;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export const toFeedView = (r: FeedRow) => ({
  id: r.id,
  organizationId: r.organization_id,
  kind: r.schedule_id !== null ? ('schedule' as const) : ('user' as const),
  scheduleId: r.schedule_id,
  userId: r.user_id,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  revokedAt: iso(r.revoked_at),
  lastUsedAt: iso(r.last_used_at),
});

/** A feed the caller may see (RLS: their own; owners and admins every feed of the organization), or 404. */
export async function findFeed(tx: Queryable, id: string): Promise<FeedRow> {
  const [row] = await tx.query<FeedRow>(`select ${FEED_COLUMNS} from public.oncall_feed_tokens where id = $1`, [id]);
  if (!row) throw notFound('Feed');
  return row;
}
