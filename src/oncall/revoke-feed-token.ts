import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findFeed } from './feed-tokens.ts';

/**
 * Revokes a feed (its creator, or an owner or admin of its organization; RLS decides, as it would
 * through the Data API): its URL answers 404 from now on. Revoking a revoked feed changes nothing.
 */
export async function revokeFeedToken(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    await findFeed(tx, id);
    await tx.query('update public.oncall_feed_tokens set revoked_at = now() where id = $1 and revoked_at is null', [id]);
  });
}
